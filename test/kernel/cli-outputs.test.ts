// The command's outputs against the real kernel: NFLOG pcap written and read
// back (and read by tcpdump), a unix-socket receiver, a receiver that stalls
// while the collector is told to stop, log rotation on SIGHUP, the line
// formats, --user, and the progress line.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import { boundTarget, nflogGroupBound } from '../helpers/nflog-bound';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const GROUP = 41;
const PORT = 7400;

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the CLI and resolves once it has had time to bind (the kill timer bounds every run). */
async function start(args: string[], timeoutMs = 30_000): Promise<Running> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    }),
  );
  // Bound once the group is (a fixed sleep is not enough on a loaded machine); --read runs need no wait.
  const target = boundTarget(args);
  if (target) await Promise.race([nflogGroupBound(target.netns, target.group), exited]);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds, at most `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(50);
}

describeKernel('the command: pcap, sockets, rotation and progress', () => {
  const lab = new NetnsLab('nfc-o');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-out-'));
  let ns: string;

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
    ns = lab.addNamespace('a');
    lab.nft(
      'a',
      `table inet out { chain o { type filter hook output priority 0; udp dport ${PORT} log prefix "OUT-TEST " group ${GROUP}; }; }`,
    );
  });
  afterAll(() => {
    lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes an NFLOG pcap that tcpdump reads, and --read gives back the records it collected', async () => {
    const pcap = path.join(dir, 'live.pcap');
    const live = path.join(dir, 'live.ndjson');
    const run = await start([
      '--nflog',
      String(GROUP),
      '--netns',
      ns,
      '--write-pcap',
      pcap,
      '--output',
      live,
      '--format',
      'record',
      '--max-events',
      '4',
    ]);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 4, 20, { srcPort: 47001 });
    expect(await run.exited).toBe(0);

    const dump = spawnSync('tcpdump', ['-nn', '-r', pcap], { encoding: 'utf8', timeout: 10_000 });
    expect(dump.status).toBe(0);
    const lines = dump.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/IP 127\.0\.0\.1\.47001 > 127\.0\.0\.1\.7400: UDP, length 20$/);

    const read = spawnSync(process.execPath, [CLI, '--read', pcap, '--format', 'record'], { encoding: 'utf8', timeout: 10_000 });
    expect(read.status).toBe(0);
    // A capture has no interface names or namespace and stamps µs; everything else must be what was collected.
    const comparable = (text: string): unknown[] =>
      text
        .trim()
        .split('\n')
        .map((l) => {
          const { receivedUs, timestampUs, outInterface, payload, netns, ...rest } = JSON.parse(l);
          void receivedUs, void timestampUs, void outInterface, void payload, void netns;
          return rest;
        });
    const fromLive = comparable(fs.readFileSync(live, 'utf8'));
    expect(fromLive).toHaveLength(4);
    expect(comparable(read.stdout)).toEqual(fromLive);
  });

  it('with no line output (--write-pcap alone), events the kernel dropped are still said on stderr', async () => {
    const pcap = path.join(dir, 'stopped.pcap');
    // A small socket buffer and a stopped process (every thread, the reader too): the kernel drops entries.
    const run = await start([
      '--nflog',
      String(GROUP),
      '--netns',
      ns,
      '--write-pcap',
      pcap,
      '--socket-buffer',
      '65536',
      '--idle-exit',
      '1500',
    ]);
    const sent = 3000;
    run.child.kill('SIGSTOP');
    try {
      sendUdp(lab, 'a', '127.0.0.1', PORT, sent, 200);
    } finally {
      run.child.kill('SIGCONT');
    }
    // The next entries carry the kernel's sequence numbers past the drop: the gap is counted from them.
    await sleep(300);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 5, 200);
    expect(await run.exited).toBe(0);
    // The overflow as the reader met it, then the count the kernel's sequence numbers give.
    expect(run.stderr()).toMatch(/^netfilter-collector: lost an unknown number of events \(nflog in netns \S+, enobufs\)/m);
    const said = [...run.stderr().matchAll(/^netfilter-collector: lost (\d+) events \(nflog group 41 in netns \S+, sequence\)/gm)];
    const lost = said.reduce((sum, m) => sum + Number(m[1]), 0);
    const dump = spawnSync('tcpdump', ['-nn', '-r', pcap], { encoding: 'utf8', timeout: 10_000 });
    expect(dump.status).toBe(0);
    const written = dump.stdout.trim().split('\n').filter(Boolean).length;
    // Nothing lost without a count: what the pcap holds and what stderr said lost are every packet sent.
    expect(said.length, run.stderr()).toBeGreaterThan(0);
    expect(written).toBeLessThan(sent);
    expect(written + lost).toBe(sent + 5);
  });

  it('sends NDJSON to a unix socket receiver', async () => {
    const socketPath = path.join(dir, 'receiver.sock');
    let received = '';
    const server = net.createServer((conn) => conn.on('data', (d) => (received += d.toString())));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const run = await start(['--nflog', String(GROUP), '--netns', ns, '--output', `unix:${socketPath}`, '--max-events', '3', '--stats']);
      sendUdp(lab, 'a', '127.0.0.1', PORT, 3, 20);
      expect(await run.exited).toBe(0);
      await until(() => received.split('\n').length > 3);
      const docs = received
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(docs).toHaveLength(3);
      for (const doc of docs) expect(doc.event.original ?? doc.netfilter.prefix).toBeDefined();
      const stats = JSON.parse(run.stderr().trim().split('\n').pop()!);
      expect(stats.output).toMatchObject({ target: `unix:${socketPath}`, writtenLines: 3, droppedLines: 0 });
    } finally {
      server.close();
    }
  });

  it('with a receiver that stops reading: collection goes on, SIGTERM exits and says what the output dropped', async () => {
    const socketPath = path.join(dir, 'stalled.sock');
    const stalled: net.Socket[] = [];
    const server = net.createServer((conn) => {
      conn.pause();
      stalled.push(conn);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const run = await start([
        '--nflog',
        String(GROUP),
        '--netns',
        ns,
        '--output',
        `unix:${socketPath}`,
        '--output-queue',
        String(256 * 1024),
        '--stats',
      ]);
      // About 20 MB of ECS lines: far beyond the socket buffers and the 256 KiB queue.
      sendUdp(lab, 'a', '127.0.0.1', PORT, 20_000, 20);
      await sleep(1500);
      const rss = Number(fs.readFileSync(`/proc/${run.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) * 1024;
      run.child.kill('SIGTERM');
      const began = Date.now();
      // Lines the stalled receiver could not take at exit were dropped: status 3.
      expect(await run.exited).toBe(3);
      expect(Date.now() - began).toBeLessThan(8000);
      const err = run.stderr();
      expect(err).toMatch(/the output dropped \d+ lines/);
      const stats = JSON.parse(err.trim().split('\n').pop()!);
      // Every event was collected; what the receiver could not take was counted, not waited for.
      expect(stats.delivered).toBe(20_000);
      expect(stats.lost).toBe(0);
      expect(stats.output.droppedLines).toBeGreaterThan(0);
      expect(stats.output.writtenLines + stats.output.droppedLines).toBe(20_000);
      expect(stats.output.queuedBytes).toBe(0);
      // The queue bound holds memory down: the ring's pages were touched by the burst, the queue's were not.
      expect(rss).toBeLessThan(400 * 1024 * 1024);
    } finally {
      for (const conn of stalled) conn.destroy();
      server.close();
    }
  });

  it('reopens its file on SIGHUP (log rotation) without losing or splitting a line', async () => {
    const file = path.join(dir, 'rotate.ndjson');
    const run = await start(['--nflog', String(GROUP), '--netns', ns, '--output', file, '--format', 'record']);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 3, 20);
    await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length > 3);
    fs.renameSync(file, `${file}.1`);
    run.child.kill('SIGHUP');
    await sleep(300);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 5, 20);
    await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length > 5);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const before = fs.readFileSync(`${file}.1`, 'utf8').trim().split('\n');
    const after = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(before).toHaveLength(3);
    expect(after).toHaveLength(5);
    for (const line of [...before, ...after]) expect(JSON.parse(line)).toMatchObject({ kind: 'packet', group: GROUP });
  });

  it('rotates its file by size (--file-max-size, --file-keep): PATH.1 … PATH.N, every line whole, none lost', async () => {
    const file = path.join(dir, 'sized.ndjson');
    fs.writeFileSync(file, ''); // an existing empty file: appended to, and rotated like the others
    fs.chmodSync(file, 0o640);
    const count = 300;
    const run = await start([
      ...['--nflog', String(GROUP), '--netns', ns, '--format', 'record', '--output', file],
      ...['--file-max-size', '16K', '--file-keep', '100', '--max-events', String(count), '--stats'],
    ]);
    sendUdp(lab, 'a', '127.0.0.1', PORT, count, 20);
    expect(await run.exited).toBe(0);
    const names = fs.readdirSync(dir).filter((name) => name.startsWith('sized.ndjson'));
    const numbers = names.map((name) => Number(name.slice('sized.ndjson.'.length) || 0)).sort((a, b) => b - a);
    // PATH.1 … PATH.N with no hole, and PATH.
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => numbers.length - 1 - i));
    expect(numbers.length).toBeGreaterThan(5);
    const seqs: number[] = [];
    for (const n of numbers) {
      const name = n === 0 ? file : `${file}.${n}`;
      const st = fs.statSync(name);
      expect(st.size).toBeLessThanOrEqual(16 * 1024);
      expect(st.mode & 0o777).toBe(0o640);
      const text = fs.readFileSync(name, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.slice(0, -1).split('\n')) seqs.push(JSON.parse(line).seq);
    }
    // Every packet once, in order, across the files (oldest first).
    expect(seqs).toHaveLength(count);
    for (let i = 1; i < count; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
    const stats = JSON.parse(run.stderr().trim().split('\n').pop() as string);
    expect(stats.output).toMatchObject({ writtenLines: count, droppedLines: 0, rotations: numbers.length - 1 });
  });

  it('writes the kernel LOG line, the LOGEMU line and ulogd JSON', async () => {
    const lines: Record<string, string> = {};
    for (const format of ['log', 'logemu', 'ulogd']) {
      const extra = format === 'log' ? ['--log-flags', 'uid'] : format === 'logemu' ? ['--logemu-hostname', 'gw1.example'] : [];
      const run = await start(['--nflog', String(GROUP), '--netns', ns, '--format', format, ...extra, '--max-events', '1']);
      sendUdp(lab, 'a', '127.0.0.1', PORT, 1, 20, { srcPort: 47002, uid: 4242, gid: 4243 });
      expect(await run.exited).toBe(0);
      lines[format] = run.stdout();
    }
    expect(lines.log).toMatch(
      /^OUT-TEST IN= OUT=lo SRC=127\.0\.0\.1 DST=127\.0\.0\.1 LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=\d+ DF PROTO=UDP SPT=47002 DPT=7400 LEN=28 UID=4242 GID=4243 \n$/,
    );
    expect(lines.logemu).toMatch(
      /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d gw1 OUT-TEST {2}IN= OUT=lo MAC= SRC=127\.0\.0\.1 DST=127\.0\.0\.1 LEN=48 TOS=00 PREC=0x00 TTL=64 ID=\d+ DF PROTO=UDP SPT=47002 DPT=7400 LEN=28 UID=4242 GID=4243 MARK=0x0 \n$/,
    );
    // (ulogd writes its own space after the prefix and one after MARK=: logemu.test.ts checks this against ulogd itself.)
    const ulogd = JSON.parse(lines.ulogd);
    expect(ulogd).toMatchObject({
      'oob.prefix': 'OUT-TEST ',
      'oob.uid': 4242,
      'oob.gid': 4243,
      src_ip: '127.0.0.1',
      dest_ip: '127.0.0.1',
      src_port: 47002,
      dest_port: PORT,
      'oob.out': 'lo',
    });
  });

  it('--user drops to an unprivileged user once bound, and collection goes on', async () => {
    const run = await start(['--nflog', String(GROUP), '--netns', ns, '--user', 'nobody', '--format', 'record', '--max-events', '3']);
    // The drop follows the bind: wait for it rather than for a fixed time.
    const status = (): string => fs.readFileSync(`/proc/${run.child.pid}/status`, 'utf8');
    await until(() => /^Uid:\s+65534\s/m.test(status()), 10_000);
    expect(status()).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    expect(status()).toMatch(/^CapEff:\s+0+$/m);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 3, 20);
    expect(await run.exited).toBe(0);
    expect(run.stdout().trim().split('\n')).toHaveLength(3);
    const refused = spawnSync(process.execPath, [CLI, '--nflog', String(GROUP + 1), '--netns', ns, '--user', 'no-such-user-nfc'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/unknown user 'no-such-user-nfc'/);
  });

  it('prints a progress line every --stats-interval', async () => {
    const run = await start(['--nflog', String(GROUP), '--netns', ns, '--output', '/dev/null', '--stats-interval', '0.3']);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 50, 20);
    // Until a progress line has counted all 50, and then one more line.
    await until(() => / 50 total/.test(run.stderr()), 10_000);
    await sleep(400);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    const progress = run
      .stderr()
      .split('\n')
      .filter((l) => l.includes('events/s'));
    expect(progress.length, run.stderr()).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1), run.stderr()).toMatch(
      /^netfilter-collector: \d+s [\d.]+k? events\/s, 50 total, lost 0 \(\+0\), output dropped 0, queued 0 B, ring /,
    );
  });
});
