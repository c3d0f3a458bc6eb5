// --write-pcap FILE: the packets collected, as an NFLOG pcap file that
// tcpdump and Wireshark read. Written once per batch; a slow disk pushes back
// on the ring like any file output.
import * as fs from 'node:fs';
import { once } from 'node:events';
import { NflogPcapWriter } from '../pcap/writer';
import type { CollectorRecord } from '../records';

export class PcapFileOutput {
  readonly writer = new NflogPcapWriter();
  private readonly stream: fs.WriteStream;
  private failure: Error | null = null;

  constructor(readonly path: string) {
    // Opened synchronously so a bad path fails before collection starts.
    const fd = fs.openSync(path, 'w');
    this.stream = fs.createWriteStream(path, { fd, highWaterMark: 1 << 20 });
    this.stream.on('error', (err: Error) => {
      this.failure = err;
    });
    this.stream.write(this.writer.fileHeader());
  }

  async write(batch: readonly CollectorRecord[]): Promise<void> {
    if (this.failure) throw new Error(`cannot write ${this.path}: ${this.failure.message}`);
    const bytes = this.writer.encodeBatch(batch);
    if (bytes.length > 0 && !this.stream.write(bytes)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    if (this.failure) throw new Error(`cannot write ${this.path}: ${this.failure.message}`);
  }
}
