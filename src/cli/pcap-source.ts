// --read FILE.pcap: an NFLOG capture as a record source. The file is read in
// chunks, so captures larger than memory stream through; what cannot be read
// is counted and, when the file stops being readable, said.
import * as fs from 'node:fs';
import { NflogPcapReader, readNflogPcapBatches, type NflogPcapReaderOptions } from '../pcap/reader';
import type { CollectorRecord } from '../records';
import type { RecordSource, SourceCounters } from './source';

const CHUNK_BYTES = 1 << 20;

export class PcapSource implements RecordSource {
  readonly reader: NflogPcapReader;
  private readonly stream: fs.ReadStream;
  private closed = false;

  /** `options.includePayload` must be set when the records are written to a pcap again (--write-pcap). */
  constructor(
    readonly path: string,
    options: NflogPcapReaderOptions,
  ) {
    // Fails here, with the path in the message, rather than in the middle of the run.
    try {
      fs.accessSync(path, fs.constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
      );
    }
    this.reader = new NflogPcapReader(options);
    this.stream = fs.createReadStream(path, { highWaterMark: CHUNK_BYTES });
  }

  async *batches(): AsyncGenerator<CollectorRecord[], void, undefined> {
    for await (const batch of readNflogPcapBatches(this.stream, this.reader)) {
      yield batch;
      if (this.closed) break;
    }
  }

  close(): void {
    this.closed = true;
    this.stream.destroy();
  }

  counters(): SourceCounters {
    const c = this.reader.counters;
    return { lost: c.skipped, lossUncounted: false, pending: 0 };
  }

  /** Why the file could not be read to its end, or null. */
  failure(): string | null {
    return this.reader.fatal;
  }

  summary(): Record<string, unknown> {
    const c = this.reader.counters;
    return { delivered: c.packets, ...c, lost: c.skipped, fatal: this.reader.fatal ?? undefined };
  }
}
