// Reads the kernel log from /dev/kmsg: records after open() only, without
// blocking. Each record is "level,seq,usec,flags;text\n" plus optional
// continuation lines; text() is what follows the ';'.
import fs from 'node:fs';

const MAX_RECORDS_PER_READ = 200_000;

export class KmsgReader {
  private fd = -1;
  private readonly buf = Buffer.alloc(8192);

  /** Opens /dev/kmsg and skips every record already there. */
  open(): void {
    this.fd = fs.openSync('/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.read();
  }

  /** Texts of the records logged since the last read (bounded). */
  read(): string[] {
    const out: string[] = [];
    for (let i = 0; i < MAX_RECORDS_PER_READ; i++) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // records overwritten while we read: go on with the next
        if (code === 'EAGAIN') break;
        throw err;
      }
      if (n <= 0) break;
      const record = this.buf.toString('latin1', 0, n);
      const semi = record.indexOf(';');
      const nl = record.indexOf('\n', semi);
      out.push(record.slice(semi + 1, nl < 0 ? n : nl));
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Sets the host's net.netfilter.nf_log_all_netns; returns the old value. */
export function setLogAllNetns(value: string): string {
  const file = '/proc/sys/net/netfilter/nf_log_all_netns';
  const old = fs.readFileSync(file, 'utf8').trim();
  fs.writeFileSync(file, value);
  return old;
}
