// Reading a file as a stream: the records of each chunk as they come, the
// same as reading it whole, and a cut-off end said at the end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NflogPcapReader, readNflogPcap, readNflogPcapBatches } from '../../../src/pcap/reader';
import { NflogPcapWriter } from '../../../src/pcap/writer';
import type { PacketRecord } from '../../../src/records';
import { kernelEntries } from './helpers';

describe('NFLOG pcap from a file stream', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-pcap-unit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { entries } = kernelEntries(['nflog-inbound.json', 'nflog-outbound-uid.json']);
  const writer = new NflogPcapWriter();
  // 500 copies of the 8 entries: a file of several chunks.
  const parts = [writer.fileHeader()];
  for (let i = 0; i < 500; i++) for (const e of entries) parts.push(writer.encode(e.record));
  const file = Buffer.concat(parts);

  it('yields per chunk what a whole read gives', async () => {
    const name = path.join(dir, 'many.pcap');
    fs.writeFileSync(name, file);
    const reader = new NflogPcapReader({ includePayload: true });
    const got: PacketRecord[] = [];
    let batches = 0;
    for await (const batch of readNflogPcapBatches(fs.createReadStream(name, { highWaterMark: 4096 }), reader)) {
      batches++;
      got.push(...batch);
    }
    expect(batches).toBeGreaterThan(10);
    expect(reader.fatal).toBeNull();
    expect(reader.counters).toMatchObject({ records: 4000, packets: 4000, bytes: file.length });
    expect(got).toEqual(readNflogPcap(file, { includePayload: true }).records);
  });

  it('says the file was cut when the stream ends inside a record', async () => {
    const name = path.join(dir, 'cut.pcap');
    fs.writeFileSync(name, file.subarray(0, file.length - 5));
    const reader = new NflogPcapReader();
    let count = 0;
    for await (const batch of readNflogPcapBatches(fs.createReadStream(name), reader)) count += batch.length;
    expect(count).toBe(3999);
    expect(reader.fatal).toMatch(/^pcap\.truncated-file/);
    expect(reader.errors).toBe(1);
  });
});
