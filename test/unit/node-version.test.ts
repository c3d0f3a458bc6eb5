// The supported Node.js lines: one list, which package.json's engines and the
// test runner's matrix (scripts/test.sh) agree with.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { SUPPORTED_NODE_LINES, unsupportedNodeMessage } from '../../src/node-version';

const ROOT = path.resolve(__dirname, '../..');

it('engines names the oldest supported line, and the test matrix runs every line', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  expect(pkg.engines.node).toBe(`>=${SUPPORTED_NODE_LINES[0]}`);
  const testScript = fs.readFileSync(path.join(ROOT, 'scripts/test.sh'), 'utf8');
  expect(testScript).toContain(`NODE_LINES="\${NFC_NODE_LINES:-${SUPPORTED_NODE_LINES.join(' ')}}"`);
});

it('says nothing on a supported line, and a clear note on any other', () => {
  for (const line of SUPPORTED_NODE_LINES) expect(unsupportedNodeMessage(`${line}.3.1`)).toBeNull();
  expect(unsupportedNodeMessage('20.20.2')).toMatch(/tested on Node\.js 22, 24, 26; this is 20\.20\.2, an older line \(end of life\)/);
  expect(unsupportedNodeMessage('25.1.0')).toMatch(/odd \(short-lived\) line/);
  expect(unsupportedNodeMessage('28.0.0')).toMatch(/a newer line than it was tested on/);
});

it('the command says it once on stderr, on an untested line only (not with --help)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-node-line-'));
  try {
    // The CLI as Node.js 20 would run it: process.versions.node set before it starts.
    const preload = path.join(dir, 'node20.js');
    fs.writeFileSync(preload, "Object.defineProperty(process.versions, 'node', { value: '20.20.2' });\n");
    const cli = path.join(ROOT, 'dist/cli/main.js');
    const read = ['--read', path.join(ROOT, 'test/fixtures/peers/tcpdump/nflog.pcap'), '--output', path.join(dir, 'out.json')];
    const run = (preloaded: boolean, args: string[]) =>
      spawnSync(process.execPath, [...(preloaded ? ['--require', preload] : []), cli, ...args], { encoding: 'utf8', timeout: 30_000 });
    const old = run(true, read);
    expect(old.status).toBe(0);
    expect(old.stderr).toMatch(
      /^netfilter-collector: netfilter-collector is tested on Node\.js 22, 24, 26; this is 20\.20\.2, an older line/,
    );
    expect(old.stderr.match(/tested on Node\.js/g)).toHaveLength(1);
    expect(run(true, ['--help']).stderr).toBe('');
    // Unfaked, it speaks only if the node running this test is itself on an untested line.
    expect(/tested on Node\.js/.test(run(false, read).stderr)).toBe(unsupportedNodeMessage(process.versions.node) !== null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
