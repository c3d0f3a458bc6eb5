// The CLI as a sidecar read line by line by a slow reader, stopped with
// SIGTERM after a burst: the reader never gets part of a line, the lines it
// got are the lines counted written, the rest are counted dropped (and said
// on stderr), and the exit status is 3. On stdout (node's stdio pipe: a
// socketpair), on a FIFO given as --output (a kernel pipe), and on unix, TCP
// and TLS socket outputs to a receiver reading slowly.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { makePki } from '../helpers/rsyslog';
import { startReceiver } from '../helpers/receiver';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const GROUP = 79;
const PORT = 7900;

/** A reader of a FIFO taking 64 KiB per 100 ms (python: simple, and a process of its own). */
const SLOW_FIFO_READER = `
import os, sys, time
fifo, out = sys.argv[1], sys.argv[2]
keep = os.open(fifo, os.O_RDWR)  # a writer of our own until the CLI's arrives, so no early EOF
fd = os.open(fifo, os.O_RDONLY)
print('ready', flush=True)
got = open(out, 'wb')
while True:
    data = os.read(fd, 65536)
    if not data:
        break
    if keep is not None:
        os.close(keep)
        keep = None
    got.write(data)
    time.sleep(0.1)
`;

interface Outcome {
  code: number | null;
  received: string;
  stderr: string;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describeKernel('CLI shutdown with a slow reader', () => {
  const { lab, binary } = useFloodLab('nfc-cshut', 'cshut', PORT, GROUP);
  let dir = '';

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-cshut-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI, floods 20,000 packets, sends SIGTERM; `collect` gives what the reader got once it saw EOF. */
  async function run(extra: string[], child: (cli: ChildProcess) => Promise<string>): Promise<Outcome> {
    const cli = spawn(
      process.execPath,
      [CLI, '--nflog', String(GROUP), '--netns', lab.name('a'), '--stats', '--stats-interval', '0', '--drain-timeout', '1000', ...extra],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    cli.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = exited(cli);
    const killer = setTimeout(() => cli.kill('SIGKILL'), 60_000);
    const received = child(cli);
    try {
      expect(await nflogGroupBound(lab.name('a'), GROUP)).toBe(true);
      const report = await flood(lab, 'a', binary(), PORT, 20_000, 20_000, 20);
      expect(report.sent).toBe(20_000);
      // The CLI has read the burst from the kernel (it is waiting on the reader, not on the kernel).
      cli.kill('SIGTERM');
      return { code: await code, received: await received, stderr };
    } finally {
      clearTimeout(killer);
    }
  }

  function check({ code, received, stderr }: Outcome): void {
    const lines = received.split('\n');
    const rest = lines.pop();
    // Never part of a line: what the reader got ends at a newline, and each line is a whole document.
    expect(rest).toBe('');
    for (const line of [lines[0], lines[lines.length - 1]]) expect(JSON.parse(line).netfilter.group).toBe(GROUP);
    const stats = JSON.parse(stderr.trim().split('\n').pop() as string);
    // The lines counted written are the lines the reader got; the rest are counted dropped.
    expect(stats.output.writtenLines).toBe(lines.length);
    expect(stats.written).toBe(20_000);
    expect(stats.output.droppedLines).toBe(20_000 - lines.length);
    expect(stats.output.droppedLines).toBeGreaterThan(0);
    const said = /gave up on (\d+) lines/.exec(stderr);
    expect(Number(said?.[1])).toBe(stats.output.dropped.closeDeadline.lines);
    expect(stats.delivered + stats.lost).toBe(20_000);
    expect(code).toBe(3);
  }

  it('on stdout', async () => {
    const outcome = await run([], async (cli) => {
      const chunks: Buffer[] = [];
      const stdout = cli.stdout as NodeJS.ReadableStream & { pause(): void; resume(): void };
      await new Promise<void>((resolve) => {
        stdout.on('data', (d: Buffer) => {
          chunks.push(d);
          stdout.pause();
          setTimeout(() => stdout.resume(), 100);
        });
        stdout.on('end', () => resolve());
      });
      return Buffer.concat(chunks).toString();
    });
    check(outcome);
  });

  it('on a FIFO (--output)', async () => {
    const fifo = path.join(dir, 'out.fifo');
    const got = path.join(dir, 'got');
    fs.rmSync(fifo, { force: true });
    const made = spawn('mkfifo', [fifo]);
    expect(await exited(made)).toBe(0);
    const reader = spawn('python3', ['-c', SLOW_FIFO_READER, fifo, got], { stdio: ['ignore', 'pipe', 'inherit'] });
    const readerDone = exited(reader);
    await new Promise<void>((resolve) => reader.stdout?.once('data', () => resolve()));
    const outcome = await run(['--output', fifo], async () => {
      expect(await readerDone).toBe(0);
      return fs.readFileSync(got, 'utf8');
    });
    check(outcome);
  });

  for (const kind of ['unix', 'tcp', 'tls'] as const) {
    it(`on a ${kind} socket output`, async () => {
      const sockPath = path.join(dir, 'out.sock');
      fs.rmSync(sockPath, { force: true });
      const pki = kind === 'tls' ? makePki(fs.mkdtempSync(path.join(dir, 'pki-'))) : undefined;
      const receiver = await startReceiver(kind === 'unix' ? { path: sockPath } : { host: '127.0.0.1', port: 0 }, {
        // A read every 100 ms on a unix socket; TCP's buffers hold megabytes, which the receiver reads after the exit.
        pauseMs: kind === 'unix' ? 100 : 20,
        tls: pki ? { cert: pki.serverCert, key: pki.serverKey } : undefined,
      });
      try {
        const port = kind === 'unix' ? 0 : (receiver.server.address() as { port: number }).port;
        const target = kind === 'unix' ? `unix:${sockPath}` : `${kind}:127.0.0.1:${port}`;
        const outcome = await run(['--output', target, ...(pki ? ['--tls-ca', pki.ca] : [])], async () => '');
        await receiver.ended();
        expect(receiver.connections).toHaveLength(1);
        check({ ...outcome, received: receiver.texts().join('') });
      } finally {
        await receiver.close();
      }
    });
  }
});
