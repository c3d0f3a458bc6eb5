import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NdjsonOutput } from '../../../src/cli/output';
import { completeMessages } from '../../../src/sink/socket';
import { makePki, type TestPki } from '../../helpers/rsyslog';
import { startReceiver, waitFor, type Receiver } from '../../helpers/receiver';

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h4-sink-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function track<T extends { close(...args: never[]): Promise<unknown> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

function line(i: number, pad = 0): string {
  return JSON.stringify({ seq: i, pad: 'p'.repeat(pad) });
}

const fastRetry = { reconnectMinMs: 20, reconnectMaxMs: 100 };

/** Sends count lines in batches of batch, yielding to the event loop between batches as the CLI does. */
async function send(output: NdjsonOutput, from: number, count: number, batch = 100, pad = 0): Promise<void> {
  for (let i = from; i < from + count; i += batch) {
    for (let j = i; j < Math.min(i + batch, from + count); j++) output.line(line(j, pad));
    await output.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function seqs(lines: string[]): number[] {
  return lines.map((text) => (JSON.parse(text) as { seq: number }).seq);
}

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and buffer memory still reachable, after a full collection. */
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('socket sinks', () => {
  it('unix: a fast receiver gets every line, in order', async () => {
    const sockPath = path.join(dir, 'r.sock');
    const receiver = track(await startReceiver({ path: sockPath }));
    const output = new NdjsonOutput(`unix:${sockPath}`, fastRetry);
    await send(output, 0, 20_000);
    const report = await output.close(5000);
    expect(report).toEqual({ complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false, tornLines: 0 });
    await waitFor(() => receiver.lines().length === 20_000, 5000, 'all lines');
    expect(seqs(receiver.lines())).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    const stats = output.stats();
    expect(stats.writtenLines).toBe(20_000);
    expect(stats.droppedLines).toBe(0);
    expect(stats.queuedBytes).toBe(0);
    expect(stats.target).toBe(`unix:${sockPath}`);
  });

  it('unix: a receiver that starts late gets the lines queued meanwhile', async () => {
    const sockPath = path.join(dir, 'late.sock');
    const output = track(new NdjsonOutput(`unix:${sockPath}`, fastRetry));
    await send(output, 0, 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = output.stats();
    expect(before.connected).toBe(false);
    expect(before.connectFailures).toBeGreaterThanOrEqual(2);
    expect(before.writtenLines).toBe(0);
    expect(before.queuedBytes).toBeGreaterThan(0);
    expect(before.lastError).toMatch(/ENOENT|ECONNREFUSED/);
    const receiver = track(await startReceiver({ path: sockPath }));
    await waitFor(() => receiver.lines().length === 1000, 5000, 'queued lines');
    expect(seqs(receiver.lines())).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const after = output.stats();
    expect(after.connected).toBe(true);
    expect(after.writtenLines).toBe(1000);
    expect(after.droppedLines).toBe(0);
  });

  it('unix abstract socket (unix:@NAME)', async () => {
    const name = `h4-sink-${process.pid}-${Date.now()}`;
    const receiver = track(await startReceiver({ path: `\0${name}` }));
    const output = new NdjsonOutput(`unix:@${name}`, fastRetry);
    await send(output, 0, 100);
    expect((await output.close(5000)).complete).toBe(true);
    await waitFor(() => receiver.lines().length === 100, 5000, 'lines');
  });

  it('no receiver: a full queue drops whole lines, counted as noReceiver; close gives up on the rest', async () => {
    const output = new NdjsonOutput(`unix:${path.join(dir, 'absent.sock')}`, { ...fastRetry, queueBytes: 10_000 });
    const oneLine = Buffer.byteLength(line(0, 60)) + 1; // seq 0..9 have the same length
    for (let i = 0; i < 10; i++) output.line(line(i, 60));
    await output.flush();
    for (let i = 10; i < 1000; i++) output.line(line(i, 60).replace(/"seq":\d+/, '"seq":0'));
    await output.flush();
    const stats = output.stats();
    const kept = Math.floor(10_000 / oneLine);
    expect(stats.queuedBytes).toBe(kept * oneLine);
    expect(stats.dropped.noReceiver).toEqual({ lines: 1000 - kept, bytes: (1000 - kept) * oneLine });
    expect(stats.dropped.queueFull.lines).toBe(0);
    const started = Date.now();
    const report = await output.close(150);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report).toEqual({ complete: false, droppedLines: kept, droppedBytes: kept * oneLine, writeStuck: false, tornLines: 0 });
    const final = output.stats();
    expect(final.droppedLines).toBe(1000);
    expect(final.dropped.noReceiver.lines).toBe(1000);
    expect(final.queuedBytes).toBe(0);
  });

  it('a receiver that hangs up mid-line: reconnects, and no connection starts with a torn line or repeats one', async () => {
    const sockPath = path.join(dir, 'hangup.sock');
    const receiver = track(await startReceiver({ path: sockPath }, { hangUpAfterBytes: 100_003 }));
    const output = new NdjsonOutput(`unix:${sockPath}`, fastRetry);
    const total = 30_000;
    await send(output, 0, total, 200, 40);
    await waitFor(() => output.stats().queuedBytes === 0 || receiver.connections.length > 30, 20_000, 'queue drained');
    const report = await output.close(5000);
    const stats = output.stats();
    expect(receiver.connections.length).toBeGreaterThan(3);
    expect(stats.reconnects).toBeGreaterThan(2);
    // Every connection starts at a line's first byte; only a connection's last line may be torn.
    // A connection that got nothing before it ended (the sink's last one, closed with an empty queue) starts with nothing torn.
    const texts = receiver.texts().filter((text) => text.length > 0);
    for (const text of texts) {
      expect(text.startsWith('{"seq":'), text.slice(0, 80)).toBe(true);
      const parts = text.split('\n');
      for (const part of parts.slice(0, -1)) expect(() => JSON.parse(part)).not.toThrow();
    }
    // No line twice, and in order.
    const got = seqs(receiver.lines());
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]);
    // What did not arrive is at most what was counted lost or was sent into a connection that then broke.
    expect(stats.writtenLines + stats.droppedLines).toBe(total);
    expect(got.length).toBeLessThanOrEqual(stats.writtenLines);
    expect(stats.dropped.connectionLost.lines + stats.dropped.noReceiver.lines + report.droppedLines).toBe(stats.droppedLines);
  });

  it('a stalled receiver: queued bytes never exceed the bound while 200 MB of lines are pushed; drops are queueFull', async () => {
    const sockPath = path.join(dir, 'stall.sock');
    const receiver = track(await startReceiver({ path: sockPath }, { stall: true }));
    const bound = 8 * 1024 * 1024;
    const output = new NdjsonOutput(`unix:${sockPath}`, { ...fastRetry, queueBytes: bound });
    await waitFor(() => output.stats().connected, 5000, 'connected');
    const lineText = line(0, 180); // ~200 bytes
    const lineBytes = Buffer.byteLength(lineText) + 1;
    const batch = 1000;
    const batches = Math.ceil((200 * 1024 * 1024) / (batch * lineBytes));
    const liveStart = liveBytes();
    let maxQueued = 0;
    let maxLive = 0;
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < batch; i++) output.line(lineText);
      await output.flush();
      maxQueued = Math.max(maxQueued, output.stats().queuedBytes);
      if (b % 50 === 0) {
        maxLive = Math.max(maxLive, liveBytes());
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const stats = output.stats();
    const pushed = batches * batch;
    console.log(
      `stalled receiver: pushed ${((pushed * lineBytes) / 1048576).toFixed(0)} MiB, max queued ${(maxQueued / 1048576).toFixed(2)} MiB ` +
        `(bound ${bound / 1048576} MiB), live memory start ${(liveStart / 1048576).toFixed(0)} MiB, max ${(maxLive / 1048576).toFixed(0)} MiB, ` +
        `written ${stats.writtenLines}, dropped ${stats.droppedLines}`,
    );
    expect(maxQueued).toBeLessThanOrEqual(bound);
    expect(stats.dropped.queueFull.lines).toBeGreaterThan(pushed * 0.9);
    expect(stats.dropped.queueFull.bytes).toBe(stats.dropped.queueFull.lines * lineBytes);
    expect(stats.writtenLines + stats.droppedLines + stats.queuedBytes / lineBytes).toBe(pushed);
    // Memory does not follow the 200 MB pushed: what stays alive (after GC; RSS keeps garbage and
    // other tests' memory) is the bound plus the encoder's buffers.
    expect(maxLive - liveStart).toBeLessThan(bound + 24 * 1024 * 1024);

    // The receiver reads again: what was queued arrives, and close completes.
    for (const socket of receiver.sockets) socket.resume();
    const report = await output.close(10_000);
    expect(report.complete).toBe(true);
    const final = output.stats();
    await waitFor(() => receiver.lines().length === final.writtenLines, 10_000, 'queued lines to arrive');
  });

  it('close with a stalled receiver gives up at the deadline and counts what it dropped', async () => {
    const sockPath = path.join(dir, 'stall2.sock');
    track(await startReceiver({ path: sockPath }, { stall: true }));
    const output = new NdjsonOutput(`unix:${sockPath}`, { ...fastRetry, queueBytes: 4 * 1024 * 1024 });
    await waitFor(() => output.stats().connected, 5000, 'connected');
    await send(output, 0, 20_000, 1000, 200);
    const started = Date.now();
    const report = await output.close(300);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(report.complete).toBe(false);
    expect(report.droppedLines).toBeGreaterThan(0);
    const stats = output.stats();
    expect(stats.dropped.closeDeadline.lines).toBe(report.droppedLines);
    expect(stats.queuedBytes).toBe(0);
    expect(stats.writtenLines + stats.droppedLines).toBe(20_000);
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`tcp ${host}: delivers, and reconnects to a receiver that restarts`, async () => {
      let receiver: Receiver = await startReceiver({ host, port: 0 });
      const port = (receiver.server.address() as { port: number }).port;
      const target = host.includes(':') ? `tcp:[${host}]:${port}` : `tcp:${host}:${port}`;
      const output = new NdjsonOutput(target, fastRetry);
      await send(output, 0, 5000);
      await waitFor(() => receiver.lines().length === 5000, 5000, 'first lines');
      expect(seqs(receiver.lines())).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      // The receiver goes away, then comes back on the same port.
      await receiver.close();
      await waitFor(() => !output.stats().connected, 5000, 'disconnect seen');
      await send(output, 5000, 1000);
      receiver = await startReceiver({ host, port });
      cleanups.push(() => receiver.close());
      await waitFor(() => receiver.lines().length === 1000, 5000, 'lines after restart');
      expect(seqs(receiver.lines())).toEqual(Array.from({ length: 1000 }, (_, i) => 5000 + i));
      const report = await output.close(5000);
      expect(report.complete).toBe(true);
      const stats = output.stats();
      expect(stats.target).toBe(target);
      expect(stats.reconnects).toBe(1);
      expect(stats.writtenLines).toBe(6000);
      expect(stats.droppedLines).toBe(0);
    });
  }
});

describe('socket sinks at the close deadline: the receiver gets whole lines, and the counts say which', () => {
  let pkiDir = '';
  let pki: TestPki;
  beforeAll(() => {
    pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h4-sink-pki-'));
    pki = makePki(pkiDir);
  });
  afterAll(() => fs.rmSync(pkiDir, { recursive: true, force: true }));

  /**
   * Pushes `total` lines of about 250 bytes (10 MB) to a receiver that reads slowly (a read every 20 ms)
   * or not at all until the sink has closed, closes with a 300 ms deadline, lets the receiver read to
   * its end, and compares what it got with the counts.
   */
  async function closeAtDeadline(kind: 'unix' | 'tcp' | 'tls', receiverMode: 'slow' | 'stalled'): Promise<void> {
    const total = 40_000;
    const listen = kind === 'unix' ? { path: path.join(dir, `${kind}.sock`) } : { host: '127.0.0.1', port: 0 };
    const receiver = track(
      await startReceiver(listen, {
        pauseMs: receiverMode === 'slow' ? 20 : undefined,
        stall: receiverMode === 'stalled',
        tls: kind === 'tls' ? { cert: pki.serverCert, key: pki.serverKey } : undefined,
      }),
    );
    const target = kind === 'unix' ? `unix:${listen.path}` : `${kind}:127.0.0.1:${(receiver.server.address() as { port: number }).port}`;
    const output = new NdjsonOutput(target, { ...fastRetry, tls: kind === 'tls' ? { ca: pki.ca } : undefined });
    await waitFor(() => output.stats().connected, 5000, 'connected');
    await send(output, 0, total, 1000, 200);
    const report = await output.close(300);
    for (const socket of receiver.sockets) socket.resume();
    await receiver.ended();
    const stats = output.stats();
    const texts = receiver.texts();
    const torn = texts.filter((text) => text.length > 0 && !text.endsWith('\n')).length;
    console.log(
      `${kind}, ${receiverMode} receiver: written ${stats.writtenLines}, dropped ${stats.droppedLines} (at close ${report.droppedLines}), ` +
        `torn ${report.tornLines}; the receiver got ${receiver.lines().length} whole lines and ${torn} part`,
    );
    expect(receiver.connections).toHaveLength(1);
    // The receiver got exactly the lines counted written, the first ones, in order, each whole.
    expect(seqs(receiver.lines())).toEqual(Array.from({ length: stats.writtenLines }, (_, i) => i));
    expect(stats.writtenLines + stats.droppedLines).toBe(total);
    // The deadline cut: lines were dropped at close, all counted there.
    expect(report.complete).toBe(false);
    expect(report.droppedLines).toBeGreaterThan(0);
    expect(stats.dropped.closeDeadline.lines).toBe(report.droppedLines);
    expect(stats.droppedLines).toBe(report.droppedLines);
    expect(stats.queuedBytes).toBe(0);
    // A part of a line reaches the receiver only over TCP to a receiver that read nothing for the second
    // deadline (the kernel took part of a line it cannot take back), and then the report says so.
    expect(torn).toBe(report.tornLines);
    if (kind !== 'tcp' || receiverMode === 'slow') expect(torn).toBe(0);
  }

  for (const kind of ['unix', 'tcp', 'tls'] as const) {
    it(`${kind}: a slow receiver`, () => closeAtDeadline(kind, 'slow'), 30_000);
    it(`${kind}: a receiver that reads only after the close`, () => closeAtDeadline(kind, 'stalled'), 30_000);
  }

  it('syslog over tcp, octet counting, a receiver that reads only after the close: the whole messages are the lines counted written', async () => {
    const total = 40_000;
    const receiver = track(await startReceiver({ host: '127.0.0.1', port: 0 }, { stall: true }));
    const port = (receiver.server.address() as { port: number }).port;
    const output = new NdjsonOutput(`syslog:tcp:127.0.0.1:${port}`, { ...fastRetry, syslog: { hostname: 'gw1' } });
    await waitFor(() => output.stats().connected, 5000, 'connected');
    await send(output, 0, total, 1000, 200);
    const report = await output.close(300);
    for (const socket of receiver.sockets) socket.resume();
    await receiver.ended();
    // LEN SP MSG, one after the other; a last one shorter than its LEN is torn.
    const bytes = Buffer.concat(receiver.connections[0]);
    const messages: string[] = [];
    let at = 0;
    let torn = 0;
    while (at < bytes.length) {
      const space = bytes.indexOf(0x20, at);
      const end = space + 1 + Number(bytes.toString('latin1', at, space));
      if (space < 0 || end > bytes.length) {
        torn = 1;
        break;
      }
      messages.push(bytes.toString('utf8', space + 1, end));
      at = end;
    }
    const stats = output.stats();
    console.log(`syslog tcp, stalled receiver: written ${stats.writtenLines}, dropped ${stats.droppedLines}, torn ${report.tornLines}`);
    expect(messages.map((m) => (JSON.parse(m.slice(m.indexOf('{'))) as { seq: number }).seq)).toEqual(
      Array.from({ length: stats.writtenLines }, (_, i) => i),
    );
    expect(stats.writtenLines + stats.droppedLines).toBe(total);
    expect(report.droppedLines).toBeGreaterThan(0);
    expect(torn).toBe(report.tornLines);
  });

  it('counts the messages wholly sent of a piece, LF-framed or octet-counted', () => {
    const lf = Buffer.from('aa\nbbb\ncc\n');
    expect(completeMessages(lf, 0, false)).toEqual({ count: 0, end: 0 });
    expect(completeMessages(lf, 3, false)).toEqual({ count: 1, end: 3 });
    expect(completeMessages(lf, 6, false)).toEqual({ count: 1, end: 3 });
    expect(completeMessages(lf, lf.length, false)).toEqual({ count: 3, end: lf.length });
    const octets = Buffer.from('2 aa3 bbb2 cc');
    expect(completeMessages(octets, 4, false).count).toBe(0);
    expect(completeMessages(octets, 4, true)).toEqual({ count: 1, end: 4 });
    expect(completeMessages(octets, 8, true)).toEqual({ count: 1, end: 4 });
    expect(completeMessages(octets, 9, true)).toEqual({ count: 2, end: 9 });
    expect(completeMessages(octets, octets.length, true)).toEqual({ count: 3, end: octets.length });
  });
});
