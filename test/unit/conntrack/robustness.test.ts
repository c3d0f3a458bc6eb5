// Hostile bytes: every truncation of full messages and a seeded fuzz. The
// decoder must never throw and its output must stay bounded by its input.
import { describe, expect, it } from 'vitest';
import { ConntrackDecoder, decodeConntrackAttributes } from '../../../src/conntrack/decode';
import { flowToEcs } from '../../../src/ecs/flow';
import { flowToEcsJson } from '../../../src/ecs/flow-json';
import { RECEIVED_US, SAMPLES, kitchenSink, udpDnatDestroy } from './samples';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Output bound: a record's JSON grows at most linearly with its input. */
function bounded(inputLength: number, json: string): boolean {
  return json.length <= 2000 + 8 * inputLength;
}

describe('truncation', () => {
  for (const sample of [kitchenSink, udpDnatDestroy]) {
    it(`${sample.name}: every length from 0 to ${sample.msg.length}`, () => {
      const decoder = new ConntrackDecoder();
      const full = new Uint8Array(sample.msg);
      for (let n = 0; n <= full.length; n++) {
        // Cut copy (the view ends where the bytes end) and in-place (the length says less than the buffer holds).
        const cut = full.slice(0, n);
        const a = decoder.decode(cut, new DataView(cut.buffer), 0, n, RECEIVED_US, false);
        const b = decoder.decode(full, new DataView(full.buffer), 0, n, RECEIVED_US, false);
        expect(a).toEqual(b);
        if (n < full.length) expect(a.decodeError, `length ${n}`).toBeDefined();
        else expect(a.decodeError).toBeUndefined();
        const json = flowToEcsJson(a);
        expect(bounded(n, json)).toBe(true);
      }
    });
  }
});

describe('fuzz', () => {
  it('100,000 mutated messages: never throws, bounded output', () => {
    const rand = prng(0xc0ffee);
    const corpus = SAMPLES.map((s) => new Uint8Array(s.msg));
    const decoder = new ConntrackDecoder();
    let faults = 0;
    let withTuples = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const base = corpus[Math.floor(rand() * corpus.length)];
      let buf = base.slice();
      const mutations = 1 + Math.floor(rand() * 6);
      for (let m = 0; m < mutations; m++) {
        const kind = rand();
        const at = Math.floor(rand() * buf.length);
        if (kind < 0.45) {
          buf[at] = Math.floor(rand() * 256);
        } else if (kind < 0.6) {
          // Attribute-length-like values: small or huge.
          buf[at] = rand() < 0.5 ? Math.floor(rand() * 8) : 0xff;
        } else if (kind < 0.7) {
          buf[at] ^= 0x80; // NLA_F_NESTED and friends
        } else if (kind < 0.8) {
          buf = buf.slice(0, at);
        } else if (kind < 0.9) {
          // Splice a piece of another sample in.
          const other = corpus[Math.floor(rand() * corpus.length)];
          const from = Math.floor(rand() * other.length);
          const len = Math.floor(rand() * 32);
          const out = new Uint8Array(buf.length + len);
          out.set(buf.subarray(0, at));
          out.set(other.subarray(from, from + len), at);
          out.set(buf.subarray(at), at + Math.min(len, other.length - from));
          buf = out.slice(0, buf.length + Math.min(len, other.length - from));
        } else {
          // Duplicate a range (repeated attributes).
          const len = Math.floor(rand() * 24);
          const out = new Uint8Array(buf.length + len);
          out.set(buf.subarray(0, at));
          out.set(buf.subarray(at, at + len), at);
          out.set(buf.subarray(at), at + Math.min(len, buf.length - at));
          buf = out.slice(0, buf.length + Math.min(len, buf.length - at));
        }
      }
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      // Sometimes a length that disagrees with the buffer.
      const length = rand() < 0.9 ? buf.length : Math.floor(rand() * (buf.length + 64));
      const r = decoder.decode(buf, view, 0, length, RECEIVED_US, rand() < 0.2);
      if (r.decodeError !== undefined) faults++;
      if (r.original !== undefined) withTuples++;
      const json = flowToEcsJson(r);
      if (!bounded(buf.length, json)) throw new Error(`unbounded output for input ${Buffer.from(buf).toString('hex')}`);
      // The hand-written line is the document's JSON, whatever the bytes decoded to.
      if (json !== JSON.stringify(flowToEcs(r))) throw new Error(`flowToEcsJson differs for input ${Buffer.from(buf).toString('hex')}`);
      // The attached form over the same bytes (from after nfgenmsg).
      const att = decodeConntrackAttributes(buf, view, 20, buf.length, 2, RECEIVED_US);
      flowToEcs(att);
    }
    // The fuzz exercised both paths.
    expect(faults).toBeGreaterThan(N / 10);
    expect(withTuples).toBeGreaterThan(N / 10);
  });
});
