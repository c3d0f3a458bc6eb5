// The supported Node.js lines: one list, which package.json's engines and the
// test runner's matrix (scripts/test.sh) agree with.
import * as fs from 'node:fs';
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
