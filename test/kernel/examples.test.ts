// The README's three shipper programs (examples/), run as a user would run
// them against the package, on the real kernel: each ships every event the
// nft rule logged (or counts it lost), and stops cleanly on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const ROOT = path.resolve(__dirname, '../..');
const GROUP = 76;
const PORT = 7600;
const EVENTS = 5000;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

describeKernel('the shipper programs of the README', () => {
  const { lab, binary } = useFloodLab('nfc-ex', 'examples', PORT, GROUP);
  let dir = '';
  let env: NodeJS.ProcessEnv = {};

  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run npm run build');
    // As installed: require('netfilter-collector') resolves to this package, the command is on PATH.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-examples-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'netfilter-collector'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(
      path.join(dir, 'bin', 'netfilter-collector'),
      `#!/bin/sh\nexec "${process.execPath}" "${ROOT}/dist/cli/main.js" "$@"\n`,
      { mode: 0o755 },
    );
    env = { ...process.env, NODE_PATH: path.join(dir, 'node_modules'), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function logged(): number {
    const match = /counter packets (\d+)/.exec(lab.exec('a', 'nft', ['list', 'chain', 'inet', 'examples', 'out']));
    if (!match) throw new Error('no counter');
    return Number(match[1]);
  }

  /** Starts an example, floods EVENTS packets once the group is bound, then SIGTERM; resolves at its exit. */
  async function runExample(args: string[]): Promise<Exit & { kernel: number }> {
    const base = logged();
    const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      expect(await nflogGroupBound(lab.name('a'), GROUP)).toBe(true);
      const report = await flood(lab, 'a', binary(), PORT, EVENTS, 20_000, 20);
      expect(report.sent).toBe(EVENTS);
      child.kill('SIGTERM');
      const code = await exited;
      return { code, stdout, stderr, kernel: logged() - base };
    } finally {
      clearTimeout(killer);
    }
  }

  it('library.js: every logged event is a document on stdout', async () => {
    const run = await runExample([path.join(ROOT, 'examples/library.js'), String(GROUP), lab.name('a')]);
    expect(run.code).toBe(0);
    const docs = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const stats = JSON.parse(run.stderr.trim().split('\n').pop() as string);
    expect(run.kernel).toBe(EVENTS);
    expect(docs.length).toBe(stats.consumed);
    expect(stats.delivered + stats.lost).toBe(run.kernel);
    expect(stats.discarded).toBe(0);
    expect(docs[0].netfilter.group).toBe(GROUP);
  });

  it('http-bulk.js: batches to a slow bulk endpoint, and SIGTERM ships the rest', async () => {
    let received = 0;
    let requests = 0;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        // A slow server: 200 ms per request.
        setTimeout(() => {
          requests++;
          received += body.trim().split('\n').length / 2;
          res.end('{"errors":false}');
        }, 200);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_bulk`;
      const run = await runExample([path.join(ROOT, 'examples/http-bulk.js'), String(GROUP), url, lab.name('a')]);
      expect(run.code).toBe(0);
      const stats = JSON.parse(run.stderr.trim().split('\n').pop() as string);
      expect(stats.failed).toBe(0);
      expect(received).toBe(stats.shipped);
      expect(stats.shipped + stats.lost).toBe(run.kernel);
      // Batches of at most 500 documents.
      expect(requests).toBeGreaterThanOrEqual(Math.ceil(stats.shipped / 500));
    } finally {
      server.close();
    }
  });

  it('sidecar.js: reads the command line by line, and passes SIGTERM on', async () => {
    const run = await runExample([path.join(ROOT, 'examples/sidecar.js'), String(GROUP), lab.name('a')]);
    expect(run.code).toBe(0);
    const tally = JSON.parse(run.stdout.trim().split('\n').pop() as string);
    expect(tally.collectorExit).toBe(0);
    const cliStats = JSON.parse(
      run.stderr
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .pop() as string,
    );
    expect(tally.documents).toBe(cliStats.written);
    expect(cliStats.delivered + cliStats.lost).toBe(run.kernel);
  });
});
