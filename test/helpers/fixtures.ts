// Recorded kernel datagrams (scripts/record-fixtures.js) decoded into records.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatagramDecoder } from '../../src/datagram';
import type { CollectorRecord } from '../../src/records';

export interface Fixture {
  description: string;
  kernel: string;
  datagrams: Array<{ source: number; flags: number; receivedUs: number; hex: string }>;
}

export function loadFixture(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', name), 'utf8')) as Fixture;
}

/** Decodes every datagram of a fixture, in order, with one decoder (as a collector would). */
export function decodeFixture(name: string, decoder = new DatagramDecoder()): CollectorRecord[] {
  const out: CollectorRecord[] = [];
  for (const d of loadFixture(name).datagrams) {
    const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
    decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, d.source, d.flags, d.receivedUs, out);
  }
  return out;
}
