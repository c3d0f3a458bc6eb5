// The collector's ring, batch, close and abort logic without root: a fake
// reader (test/helpers/fake-reader.ts) writes the ring as the native one does.
import { describe, expect, it, vi } from 'vitest';
import { AbortError, Collector, type CollectorStats } from '../../src/collector';
import type { CollectorOptions } from '../../src/options';
import type { CollectorRecord, GapRecord, PacketRecord } from '../../src/records';
import * as C from '../../src/nflog/constants';
import { SOURCE_NFLOG } from '../../src/ring/layout';
import { DatagramDecoder } from '../../src/datagram';
import { type FakeReader, fakeReaderFactory } from '../helpers/fake-reader';
import { attr, nflogMessage, u16be, u32be } from '../helpers/netlink-builder';

const UDP4 = [
  0x45,
  0x00,
  ...u16be(32),
  ...u16be(0x1234),
  0x40,
  0x00,
  64,
  17,
  0,
  0,
  10,
  0,
  0,
  1,
  10,
  0,
  0,
  2,
  ...u16be(5000),
  ...u16be(53),
  ...u16be(12),
  0,
  0,
  1,
  2,
  3,
  4,
];

/** One NFLOG datagram carrying the entries with these sequence numbers (group 1), padded with `pad` payload bytes each. */
function nflog(seqs: number[], pad = 0): Uint8Array {
  const payload = [...UDP4, ...new Array<number>(pad).fill(0)];
  return new Uint8Array(
    seqs.flatMap((seq) =>
      nflogMessage(1, 2, attr(C.NFULA_PACKET_HDR, [...u16be(0x0800), 3, 0]), attr(C.NFULA_SEQ, u32be(seq)), attr(C.NFULA_PAYLOAD, payload)),
    ),
  );
}

const OPTIONS: CollectorOptions = { nflog: [1], ringSize: 1 << 20, interfaceNames: false };

function open(options: Partial<CollectorOptions> = {}, setup?: (reader: FakeReader) => void): { collector: Collector; reader: FakeReader } {
  const fake = fakeReaderFactory(setup);
  const collector = new Collector({ ...OPTIONS, ...options }, fake.factory);
  return { collector, reader: fake.reader() };
}

/** Sends `total` entries in datagrams of `perDatagram`, sequence numbers from `from`. */
function sendEntries(reader: FakeReader, total: number, perDatagram: number, from = 0, pad = 0): void {
  for (let seq = from; seq < from + total; seq += perDatagram) {
    const seqs = Array.from({ length: Math.min(perDatagram, from + total - seq) }, (_, i) => seq + i);
    reader.send(SOURCE_NFLOG, nflog(seqs, pad));
  }
}

function accounted(s: CollectorStats): number {
  return s.delivered + s.lost;
}

const seqsOf = (records: CollectorRecord[]): number[] =>
  records.filter((r): r is PacketRecord => r.kind === 'packet').map((r) => r.seq as number);

describe('Collector over a fake reader', () => {
  it('reads across the end of the ring many times, in order, without loss', async () => {
    const { collector, reader } = open();
    const got: number[] = [];
    const consume = (async () => {
      for await (const batch of collector.batches()) got.push(...seqsOf(batch));
    })();
    // 1,500-byte entries, 20 per datagram: about 30 KB per datagram, 3 MB in all through a 1 MiB ring.
    for (let i = 0; i < 100; i++) {
      sendEntries(reader, 20, 20, i * 20, 1400);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(reader.writePosition).toBeGreaterThan(2 * (1 << 20));
    await collector.close();
    await consume;
    expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const s = collector.stats();
    expect(s).toMatchObject({ delivered: 2000, consumed: 2000, discarded: 0, lost: 0, gaps: 0, state: 'closed' });
  });

  it('starts again at offset 0 when it is empty past REWIND_BYTES, in order, without loss', async () => {
    const ringSize = 16 << 20;
    const { collector, reader } = open({ ringSize });
    const got: number[] = [];
    const consume = (async () => {
      for await (const batch of collector.batches()) got.push(...seqsOf(batch));
    })();
    // About 30 KB per datagram, 6 MB in all, read as it comes: the ring is empty before each datagram.
    for (let i = 0; i < 200; i++) {
      sendEntries(reader, 20, 20, i * 20, 1400);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Past 4 MiB the writer went back to offset 0 (a wrap mark skipped the rest): it never wrote beyond ~4 MiB.
    expect(reader.writePosition).toBeGreaterThanOrEqual(ringSize);
    expect(reader.writePosition % ringSize).toBeLessThan(3 << 20);
    await collector.close();
    await consume;
    expect(got).toEqual(Array.from({ length: 4000 }, (_, i) => i));
    expect(collector.stats()).toMatchObject({ delivered: 4000, lost: 0, gaps: 0 });
  });

  it('stops at batchSize within a datagram, and the next batch goes on from there', async () => {
    const { collector, reader } = open({ batchSize: 10 });
    sendEntries(reader, 40, 4);
    await new Promise((resolve) => setImmediate(resolve));
    // 4 entries per datagram: the budget of 10 ends within the third datagram, whose rest waits in the ring.
    const first = await collector.nextBatch();
    expect(seqsOf(first ?? [])).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(collector.stats()).toMatchObject({ consumed: 10, ringPending: expect.any(Number) });
    expect(collector.stats().ringPending).toBeGreaterThan(0);
    const second = await collector.nextBatch();
    expect(seqsOf(second ?? [])).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    await collector.close();
    // Every datagram decoded once: no entry twice, none lost, no gap from a resumed datagram.
    expect(collector.stats()).toMatchObject({ delivered: 40, consumed: 20, discarded: 20, lost: 0, gaps: 0 });
  });

  it('waits on a full ring and loses nothing once the consumer catches up', async () => {
    const { collector, reader } = open();
    // 6 MB into a 1 MiB ring before anything is read: most of it waits "in the socket".
    sendEntries(reader, 4000, 20, 0, 1400);
    expect(reader.socket.length).toBeGreaterThan(0);
    const got: number[] = [];
    for await (const batch of collector.batches()) {
      got.push(...seqsOf(batch));
      if (got.length === 4000) break;
    }
    expect(got).toEqual(Array.from({ length: 4000 }, (_, i) => i));
    const s = collector.stats();
    expect(s.ringFull).toBeGreaterThan(0);
    expect(s).toMatchObject({ delivered: 4000, consumed: 4000, discarded: 0, lost: 0, state: 'closed' });
  });

  it('turns ENOBUFS and a sequence jump into one counted gap', async () => {
    const { collector, reader } = open();
    sendEntries(reader, 10, 5);
    reader.enobufs(SOURCE_NFLOG);
    await new Promise((resolve) => setImmediate(resolve));
    const before = await collector.nextBatch();
    expect(before?.filter((r) => r.kind === 'gap')).toMatchObject([{ reason: 'enobufs', count: null }]);
    expect(collector.stats().lossUncounted).toBe(true);
    sendEntries(reader, 5, 5, 25); // 10..24 were dropped
    const after = (await collector.nextBatch()) ?? [];
    const gap = after.find((r): r is GapRecord => r.kind === 'gap');
    expect(gap).toMatchObject({ reason: 'sequence', count: 15, fromSeq: 10, toSeq: 24 });
    expect(collector.stats()).toMatchObject({ delivered: 15, lost: 15, lossUncounted: false });
    await collector.close();
  });

  it('close() with nobody reading counts the ring, the socket and the kernel batch as discarded', async () => {
    const { collector, reader } = open();
    sendEntries(reader, 3000, 20, 0, 1400); // ring full, the rest in the socket
    reader.batched.push({ source: SOURCE_NFLOG, flags: 0, netns: 0, bytes: nflog([3000, 3001, 3002]) });
    // With no loop to hand it to, everything is counted (in slices of the event loop), then the sockets are closed.
    await collector.close();
    expect(collector.stats()).toMatchObject({ delivered: 3003, consumed: 0, discarded: 3003, lost: 0, state: 'closed', ringPending: 0 });
    expect(reader.closed).toBe(true);
    expect(await collector.nextBatch()).toBeNull();
  });

  it('close() of an idle collector is done when the call returns', () => {
    const { collector, reader } = open();
    void collector.close();
    expect(collector.state).toBe('closed');
    expect(reader.closed).toBe(true);
  });

  it('close() hands what is left to a loop in progress, then the loop ends', async () => {
    const { collector, reader } = open();
    sendEntries(reader, 3000, 20, 0, 1400);
    reader.batched.push({ source: SOURCE_NFLOG, flags: 0, netns: 0, bytes: nflog([3000]) });
    const got: number[] = [];
    let closing: Promise<void> | undefined;
    for await (const record of collector) {
      if (record.kind === 'packet') got.push(record.seq as number);
      closing ??= collector.close();
      // A slow consumer: close() waits for it.
      if (got.length % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await closing;
    expect(got).toEqual(Array.from({ length: 3001 }, (_, i) => i));
    expect(collector.stats()).toMatchObject({ delivered: 3001, consumed: 3001, discarded: 0 });
  });

  it('break in a record loop closes the collector and counts the rest of the batch as discarded', async () => {
    const { collector, reader } = open();
    sendEntries(reader, 100, 50);
    let seen = 0;
    for await (const record of collector) {
      if (record.kind === 'packet') seen++;
      if (seen === 3) break;
    }
    // The loop's exit awaited the close.
    const s = collector.stats();
    expect(s.state).toBe('closed');
    expect(s).toMatchObject({ delivered: 100, consumed: 3, discarded: 97, lost: 0 });
    expect(accounted(s)).toBe(100);
  });

  it('a throw inside batches() closes the collector with every record counted', async () => {
    const { collector, reader } = open({ batchSize: 10 });
    sendEntries(reader, 200, 10);
    await expect(
      (async () => {
        for await (const batch of collector.batches()) if (batch.length > 0) throw new Error('shipper failed');
      })(),
    ).rejects.toThrow('shipper failed');
    const s = collector.stats();
    expect(s).toMatchObject({ state: 'closed', delivered: 200, consumed: 10, discarded: 190 });
  });

  it('batches({ maxRecords, maxWaitMs }) batches by size, then by time', async () => {
    const { collector, reader } = open();
    sendEntries(reader, 25, 5);
    const sizes: number[] = [];
    const times: number[] = [];
    const start = performance.now();
    const consume = (async () => {
      for await (const batch of collector.batches({ maxRecords: 10, maxWaitMs: 100 })) {
        sizes.push(batch.length);
        times.push(performance.now() - start);
      }
    })();
    await vi.waitFor(() => expect(sizes.length).toBe(3), { timeout: 2000 });
    // Two full batches at once; the last 5 after waiting 100 ms for more.
    expect(sizes).toEqual([10, 10, 5]);
    expect(times[2]).toBeGreaterThanOrEqual(95);
    sendEntries(reader, 10, 10, 25);
    await vi.waitFor(() => expect(sizes.length).toBe(4), { timeout: 2000 });
    expect(sizes[3]).toBe(10);
    await collector.close();
    await consume;
    expect(collector.stats()).toMatchObject({ delivered: 35, consumed: 35, discarded: 0 });
  });

  it("says 'idle' when the consumer has caught up", async () => {
    const { collector, reader } = open();
    const idle = vi.fn();
    collector.on('idle', idle);
    const consume = (async () => {
      for await (const _ of collector.batches()) void _;
    })();
    sendEntries(reader, 10, 5);
    await vi.waitFor(() => expect(idle).toHaveBeenCalledTimes(1));
    expect(collector.stats().delivered).toBe(10);
    await collector.close();
    await consume;
  });

  it('an aborted signal rejects the loop with an AbortError, every record counted', async () => {
    const controller = new AbortController();
    const { collector, reader } = open({ signal: controller.signal });
    sendEntries(reader, 100, 10);
    const err = await (async () => {
      try {
        for await (const record of collector) if (record.kind === 'packet' && record.seq === 4) controller.abort(new Error('shutdown'));
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(AbortError);
    expect(err?.name).toBe('AbortError');
    expect((err as AbortError).code).toBe('ABORT_ERR');
    expect(((err as Error).cause as Error).message).toBe('shutdown');
    const s = collector.stats();
    expect(s.state).toBe('closed');
    expect(s.consumed + s.discarded).toBe(100);
    expect(s.delivered).toBe(100);
  });

  it('an already-aborted signal refuses to start', () => {
    const fake = fakeReaderFactory();
    expect(() => new Collector({ ...OPTIONS, signal: AbortSignal.abort() }, fake.factory)).toThrow(AbortError);
    expect(() => fake.reader()).toThrow(/has not opened/);
  });

  it('Symbol.asyncDispose closes it', async () => {
    const { collector, reader } = open();
    sendEntries(reader, 5, 5);
    await collector[Symbol.asyncDispose]();
    expect(collector.stats()).toMatchObject({ state: 'closed', discarded: 5 });
  });

  it("a failure after start reaches the loop and the 'error' event", async () => {
    const { collector, reader } = open();
    const onError = vi.fn();
    collector.on('error', onError);
    // Decoders do not throw on hostile bytes; a bug that made one throw is simulated.
    const decode = vi.spyOn(DatagramDecoder.prototype, 'decode').mockImplementationOnce(() => {
      throw new RangeError('a decoder bug');
    });
    reader.send(SOURCE_NFLOG, nflog([0]));
    await expect(collector.nextBatch()).rejects.toThrow('a decoder bug');
    expect(onError).toHaveBeenCalledWith(expect.any(RangeError));
    decode.mockRestore();
    await collector.close();
    expect(collector.state).toBe('closed');
  });

  it('destroying stream() closes the collector and counts its buffer as discarded', async () => {
    const { collector, reader } = open({ batchSize: 50 });
    sendEntries(reader, 200, 50);
    const stream = collector.stream();
    let read = 0;
    for await (const record of stream) {
      if ((record as CollectorRecord).kind === 'packet') read++;
      if (read === 7) break; // destroys the stream
    }
    await vi.waitFor(() => expect(collector.state).toBe('closed'));
    const s = collector.stats();
    expect(s.consumed).toBe(7);
    expect(s).toMatchObject({ delivered: 200, discarded: 193 });
  });

  it('emitWarnings: false leaves the warnings to collector.warnings', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const setup = (reader: FakeReader): void => {
        reader.conntrack = { accounting: 0, timestamps: 0 };
      };
      const quiet = open({ nflog: [], conntrack: true, emitWarnings: false }, setup).collector;
      expect(quiet.warnings).toHaveLength(2);
      expect(quiet.warnings[1]).toMatch(/time the collector received DESTROY.*up to about 60 s late/);
      expect(emit).not.toHaveBeenCalled();
      open({ nflog: [], conntrack: true }, setup);
      expect(emit).toHaveBeenCalledTimes(2);
    } finally {
      emit.mockRestore();
    }
  });
});
