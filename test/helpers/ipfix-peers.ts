// The IPFIX peers the tests compare against: nfcapd/nfdump (Debian's nfdump
// 1.7.1) and tshark (Debian's 4.0.17), started on loopback with their own work
// directory, and parsers of what they print. What these versions decode is in
// test/fixtures/peers/ipfix.md.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A UDP port free on 127.0.0.1 right now. */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return fs
    .readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex));
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** nfcapd on 127.0.0.1:port writing into its own directory; stop() ends it and returns the closed capture files. */
export class Nfcapd {
  readonly dir: string;
  private child: ChildProcess | null = null;
  log = '';

  constructor(readonly port: number) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-nfcapd-'));
  }

  async start(): Promise<void> {
    const child = spawn('nfcapd', ['-p', String(this.port), '-b', '127.0.0.1', '-w', this.dir, '-t', '3600'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    await until(`nfcapd on port ${this.port}`, () => udpBound(this.port));
  }

  /** SIGTERM: nfcapd closes its current file under its final name. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  files(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^nfcapd\.\d{12}$/.test(f))
      .sort()
      .map((f) => path.join(this.dir, f));
  }

  /** Every record of every closed file, as `nfdump -o raw` prints it. */
  records(): NfdumpRecord[] {
    return this.files().flatMap((file) =>
      parseNfdumpRaw(execFileSync('nfdump', ['-r', file, '-o', 'raw'], { encoding: 'utf8', maxBuffer: 1 << 30 })),
    );
  }

  remove(): void {
    this.child?.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export type NfdumpRecord = Record<string, string>;

/** `nfdump -o raw`: blocks of "key = value" lines, one block per "Flow Record:". */
export function parseNfdumpRaw(text: string): NfdumpRecord[] {
  const records: NfdumpRecord[] = [];
  let current: NfdumpRecord | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('Flow Record:')) {
      current = {};
      records.push(current);
      continue;
    }
    const m = /^\s+(.+?)\s+=\s+(.*)$/.exec(line);
    if (current && m) current[m[1]] = m[2].trim();
  }
  return records;
}

/** tshark capturing UDP port `port` on lo into a file, until stop(). */
export class TsharkCapture {
  readonly file: string;
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {
    this.file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-tshark-')), 'ipfix.pcap');
  }

  async start(): Promise<void> {
    const child = spawn('tshark', ['-i', 'lo', '-f', `udp port ${this.port}`, '-w', this.file, '-q'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('tshark to capture', () => /Capturing on/.test(stderr));
  }

  /** Packets in the capture file so far (dumpcap writes it as it goes). */
  packets(): number {
    if (!fs.existsSync(this.file)) return 0;
    const out = spawnSync('tshark', ['-r', this.file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    return out.stdout.split('\n').filter((l) => l.trim() !== '').length;
  }

  /** Stops once the file holds `packets` packets (a capture stopped at once can lose the last ones). */
  async stop(packets = 0): Promise<void> {
    const child = this.child;
    if (!child) return;
    await until(`tshark to write ${packets} packets`, () => this.packets() >= packets);
    this.child = null;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }

  /** `tshark -V` of the capture, decoded as IPFIX on the port. */
  verbose(): string {
    return execFileSync('tshark', ['-r', this.file, '-d', `udp.port==${this.port},cflow`, '-V'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  }

  remove(): void {
    this.child?.kill('SIGKILL');
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
  }
}

export type TsharkFlow = Record<string, string>;

/** The data records of `tshark -V` output: each "Flow N" block's "Name: value" lines (reverse counters as "Reverse Name"). */
export function parseTsharkFlows(text: string): TsharkFlow[] {
  const flows: TsharkFlow[] = [];
  let current: TsharkFlow | null = null;
  let indent = -1;
  for (const line of text.split('\n')) {
    const head = /^(\s+)Flow \d+$/.exec(line);
    if (head) {
      current = {};
      indent = head[1].length;
      flows.push(current);
      continue;
    }
    const depth = line.length - line.trimStart().length;
    if (current && depth <= indent) current = null;
    const m = /^\s+([A-Za-z][A-Za-z0-9 ]*?): (.*)$/.exec(line);
    if (!current || !m) continue;
    const reverse = /\(Reverse Type/.test(m[2]);
    current[reverse ? `Reverse ${m[1]}` : m[1]] = m[2].replace(/ \(Reverse Type.*\)$/, '');
  }
  return flows;
}
