// The native reader against the real kernel, inside a throwaway network
// namespace: link dump first, every NFLOG entry delivered, clear errors, a
// full ring that waits instead of dropping, and a process that can exit.
// Needs root; nothing outside the namespace is touched.
import { it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { loadNative, type NativeNflogGroup, type NativeReader, type NativeReaderOptions } from '../../src/native';
import { FLAG_ENOBUFS, SOURCE_NFLOG, SOURCE_RTNL } from '../../src/ring/layout';
import { RingReader } from '../../src/ring/reader';
import { NetnsLab } from '../../src/lab/netns';
import { addonPath } from '../helpers/addon-path';
import { describeKernel } from './kernel-env';

const run = promisify(execFile);
const lab = new NetnsLab('nfc-native');
const NS = lab.name('a');
const GROUP = 7;
const NFLOG_PACKET = 0x0400; // (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET
// The addon the package loads: build/Release when built here, else the prebuild (after npm pack).
const ADDON = addonPath();

function group(overrides: Partial<NativeNflogGroup> = {}): NativeNflogGroup {
  return { group: GROUP, copyMode: 2, copyRange: 0xffff, qthreshold: 1, flushTimeoutCs: 1, flags: 1, ...overrides };
}

/** Sends `count` UDP datagrams to 127.0.0.1:9999 inside the namespace (the rule logs each once, on output). */
async function send(count: number): Promise<void> {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    `for i in range(${count}): s.sendto(b"native-reader-test", ("127.0.0.1", 9999))`,
  ].join('\n');
  await run('ip', ['netns', 'exec', NS, 'python3', '-c', script], { timeout: 60_000 });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts netlink messages of type NFLOG_PACKET in a datagram (walks nlmsghdr framing only). */
function countNflogPackets(view: DataView, offset: number, length: number): number {
  let n = 0;
  let at = offset;
  const end = offset + length;
  while (end - at >= 16) {
    const len = view.getUint32(at, true);
    if (len < 16 || len > end - at) break;
    if (view.getUint16(at + 4, true) === NFLOG_PACKET) n++;
    at += (len + 3) & ~3;
  }
  return n;
}

/** A reader plus a consumer that drains the ring on every onData (unless paused). */
class Consumer {
  readonly ring: RingReader;
  readonly reader: NativeReader;
  paused = false;
  entries = 0;
  rtnlDatagrams = 0;
  nflogDatagrams = 0;
  nflogPackets = 0;
  enobufsEntries = 0;
  firstRtnl = -1;
  firstNflog = -1;

  constructor(capacity: number, options: Partial<NativeReaderOptions>) {
    this.ring = new RingReader(capacity);
    const { NativeReader } = loadNative();
    this.reader = new NativeReader({
      ring: this.ring.buffer,
      maxDatagram: 65536 + 4096,
      netns: NS,
      rcvbuf: 4 << 20,
      nflogGroups: [group()],
      nflogBufferSize: 0,
      links: true,
      onData: () => {
        if (!this.paused) this.drain();
      },
      ...options,
    });
  }

  drain(): void {
    this.ring.drain((_bytes, view, offset, length, source, flags) => {
      const index = this.entries++;
      if (flags & FLAG_ENOBUFS) {
        this.enobufsEntries++;
        expect(length).toBe(0);
        return 1;
      }
      if (source === SOURCE_RTNL) {
        if (this.firstRtnl < 0) this.firstRtnl = index;
        this.rtnlDatagrams++;
      } else if (source === SOURCE_NFLOG) {
        if (this.firstNflog < 0) this.firstNflog = index;
        this.nflogDatagrams++;
        this.nflogPackets += countNflogPackets(view, offset, length);
      }
      return 1;
    }, Infinity);
    this.reader.release();
  }
}

describeKernel('native reader (real kernel, netns)', () => {
  beforeAll(() => {
    if (!ADDON || !fs.existsSync(ADDON)) throw new Error('the addon is not built: run npm run build');
    lab.addNamespace('a');
    lab.nft(
      'a',
      [
        'add table inet t',
        'add chain inet t out { type filter hook output priority 0; }',
        `add rule inet t out udp dport 9999 log group ${GROUP}`,
      ].join('\n'),
    );
  });

  afterAll(() => lab.destroy());

  it('puts the link dump first, then every NFLOG entry', async () => {
    const N = 1000;
    const c = new Consumer(1 << 22, {});
    try {
      await send(N);
      expect(await until(() => c.nflogPackets >= N, 10_000)).toBe(true);
      await sleep(200); // nothing extra arrives
      expect(c.nflogPackets).toBe(N);
      expect(c.rtnlDatagrams).toBeGreaterThan(0);
      expect(c.firstRtnl).toBe(0);
      expect(c.firstRtnl).toBeLessThan(c.firstNflog);
      const s = c.reader.stats();
      expect(s.datagrams).toBe(c.rtnlDatagrams + c.nflogDatagrams);
      expect(s.enobufs).toBe(0);
      expect(s.truncated).toBe(0);
      expect(s.reads).toBeGreaterThan(0);
      expect(s.wakeups).toBeGreaterThan(0);
      expect(s.bytes).toBeGreaterThan(N * 18);
    } finally {
      c.reader.close();
      c.reader.close(); // idempotent
    }
  });

  it('names its thread nfc-reader (top -H, perf, /proc/PID/task), and the thread is gone after close', () => {
    const readers = (): number =>
      fs.readdirSync('/proc/self/task').filter((tid) => fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'nfc-reader')
        .length;
    const before = readers();
    const c = new Consumer(1 << 20, {});
    try {
      expect(readers()).toBe(before + 1);
    } finally {
      c.reader.close();
    }
    expect(readers()).toBe(before);
  });

  it('says when the namespace does not exist', () => {
    expect(() => new Consumer(1 << 20, { netns: `nfc-native-missing-${process.pid}` })).toThrow(/does not exist/);
  });

  it('says when the group is already bound', () => {
    const first = new Consumer(1 << 20, {});
    try {
      let error: (Error & { code?: string }) | undefined;
      try {
        new Consumer(1 << 20, {}).reader.close();
      } catch (err) {
        error = err as Error & { code?: string };
      }
      expect(error?.message).toMatch(/already bound/);
      expect(error?.code).toBe('EBUSY');
    } finally {
      first.reader.close();
    }
    // Closing released the group.
    new Consumer(1 << 20, {}).reader.close();
  });

  it('lets the process exit once closed, and surfaces onData exceptions', async () => {
    const options = `{ ring: new ArrayBuffer(128 + (1 << 20)), maxDatagram: 69632, netns: ${JSON.stringify(NS)},
      rcvbuf: 1 << 20, nflogGroups: [{ group: ${GROUP}, copyMode: 2, copyRange: 65535, qthreshold: 1, flushTimeoutCs: 1, flags: 1 }],
      nflogBufferSize: 0, links: true, onData`;
    const script = (body: string) => `const { NativeReader } = require(${JSON.stringify(ADDON)});\n${body}`;
    const node = (code: string) =>
      new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) => {
        const started = Date.now();
        const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('exit', (exitCode) => {
          clearTimeout(timer);
          resolve({ code: exitCode, stderr, ms: Date.now() - started });
        });
      });

    const closed = await node(script(`const r = new NativeReader(${options}() {} }); setTimeout(() => r.close(), 100);`));
    expect(closed.code).toBe(0);
    expect(closed.ms).toBeLessThan(5000);

    // The link dump wakes onData right away.
    const thrown = await node(script(`new NativeReader(${options}() { throw new Error('boom from onData'); } });`));
    expect(thrown.code).not.toBe(0);
    expect(thrown.stderr).toMatch(/boom from onData/);
  });

  it('waits on a full ring without dropping what it holds', async () => {
    const SENT = 20_000;
    const c = new Consumer(1 << 16, { maxDatagram: 16384, rcvbuf: 256 << 10 });
    try {
      c.paused = true;
      const paused = sleep(1000);
      await send(SENT);
      await paused;
      c.paused = false;
      c.drain();
      // Drained when nothing new arrives for 500 ms.
      let last = -1;
      while (last !== c.entries) {
        last = c.entries;
        await sleep(500);
        c.drain();
      }
      const s = c.reader.stats();
      expect(s.ringFull).toBeGreaterThan(0);
      expect(c.nflogPackets).toBeLessThanOrEqual(SENT);
      if (c.nflogPackets < SENT) {
        expect(s.enobufs).toBeGreaterThan(0);
        expect(c.enobufsEntries).toBe(s.enobufs);
      }
      expect(c.ring.pending()).toBe(0);
    } finally {
      c.reader.close();
    }
  });
});
