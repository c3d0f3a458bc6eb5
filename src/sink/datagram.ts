// Syslog messages one per datagram: UDP (RFC 5426) or a local unix datagram
// socket (/dev/log). Each line of a chunk becomes one message, cut to the
// maximum size (counted) and never split. Nothing waits for the receiver:
// messages the kernel will not take yet (the receiver's queue is full, or no
// one listens at the path) wait in a bounded queue and are retried; beyond
// the bound they are dropped and counted.
import type * as Dgram from 'node:dgram';
import type { SyslogFramer } from '../format/syslog';
import type { LineChunk } from '../format/line-target';
import { loadNative } from '../native';
import { DEFAULT_QUEUE_BYTES, type Sink } from './sink';
import { unixSocketPathProblem } from './socket';
import { DropCounter, type SinkCloseReport, type SinkStats } from './stats';

export interface DatagramSinkOptions {
  queueBytes?: number;
  /** Longest datagram, header included (default 8192, rsyslog's default maxMessageSize). */
  maxMessageBytes?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  onError?: (message: string) => void;
}

export const DEFAULT_SYSLOG_MESSAGE_BYTES = 8192;

/** How datagrams leave: a UDP socket or the native unix datagram socket. */
interface DatagramTransport {
  /** Sends frames[first..] until one cannot go: how many went, and the error of the first that did not ('' if none). */
  send(frames: Buffer[], first: number): { sent: number; error: string };
  /** Calls back when a send refused with EAGAIN may go (the receiver's queue has room); false if the transport cannot tell. */
  whenWritable(callback: () => void): boolean;
  close(): void;
}

/** Errors after which the same datagram may go later (the receiver is busy or restarting). */
/** A path the unix transport will not send to: said, and tried again later like an absent receiver. */
const REFUSED = 'refused: ';

const RETRY_LATER = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOBUFS', 'ECONNREFUSED', 'ENOENT', 'ENOTCONN', 'EPIPE', 'ECONNRESET']);

class UnixDatagramTransport implements DatagramTransport {
  private readonly native = loadNative();
  private readonly fd = this.native.datagramOpen();

  constructor(private readonly path: string) {}

  /** Connected: a full receiver queue then makes the socket unwritable, which whenWritable waits on. */
  private connected = false;

  send(frames: Buffer[], first: number): { sent: number; error: string } {
    if (!this.connected) {
      // Only the socket at that very path (see unixSocketPathProblem): else wait and look again.
      const problem = unixSocketPathProblem(this.path);
      if (problem !== null) return { sent: 0, error: `${REFUSED}${problem}` };
      const error = this.native.datagramConnect(this.fd, this.path);
      if (error !== '') return { sent: 0, error };
      this.connected = true;
    }
    const [sent, error] = this.native.datagramSend(this.fd, frames, first);
    // The receiver went away (restarted): connect again on the next try.
    if (error !== '' && error !== 'EAGAIN' && error !== 'EWOULDBLOCK') this.connected = false;
    return { sent, error };
  }

  whenWritable(callback: () => void): boolean {
    this.native.datagramWhenWritable(this.fd, () => callback());
    return true;
  }

  close(): void {
    this.native.datagramClose(this.fd);
  }
}

/** UDP: node's dgram sends asynchronously; what is handed over counts as sent (UDP says no more). */
class UdpTransport implements DatagramTransport {
  private readonly socket: Dgram.Socket;
  private failure = '';
  private connected = false;
  /** Bytes handed to dgram whose send has not completed. */
  inFlight = 0;

  constructor(host: string, port: number, onError: (message: string) => void) {
    // node:dgram is loaded with the first UDP output, not at every start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.socket = (require('node:dgram') as typeof Dgram).createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => onError(err.message));
    // Connected: one address lookup, and the kernel reports ICMP port unreachable (ECONNREFUSED).
    this.socket.connect(port, host, () => {
      this.connected = true;
    });
    this.socket.unref();
  }

  send(frames: Buffer[], first: number): { sent: number; error: string } {
    // Until connect() has resolved the address, frames wait (retried shortly).
    if (!this.connected) return { sent: 0, error: 'EAGAIN' };
    if (this.failure !== '') {
      const error = this.failure;
      this.failure = '';
      return { sent: 0, error };
    }
    for (let i = first; i < frames.length; i++) {
      const frame = frames[i];
      this.inFlight += frame.length;
      this.socket.send(frame, (err) => {
        this.inFlight -= frame.length;
        if (err) this.failure = (err as NodeJS.ErrnoException).code ?? err.message;
      });
    }
    return { sent: frames.length - first, error: '' };
  }

  whenWritable(): boolean {
    return false;
  }

  close(): void {
    this.socket.close();
  }
}

export class DatagramSink implements Sink {
  private readonly transport: DatagramTransport;
  private readonly drops = new DropCounter();
  private readonly limitBytes: number;
  private readonly maxMessageBytes: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private backoffMs: number;
  /** Frames waiting for the receiver, oldest first, from index head. */
  private waiting: Buffer[] = [];
  private head = 0;
  private waitingBytes = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private writtenLines = 0;
  private writtenBytes = 0;
  private truncatedLines = 0;
  private lastError: string | undefined;
  private closed = false;
  /** A wait for writability is pending (its callback pumps). */
  private waitingWritable = false;

  constructor(
    private readonly name: string,
    address: { kind: 'udp'; host: string; port: number } | { kind: 'unix'; path: string },
    private readonly framer: SyslogFramer,
    private readonly options: DatagramSinkOptions = {},
  ) {
    this.limitBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_SYSLOG_MESSAGE_BYTES;
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.backoffMs = this.reconnectMinMs;
    this.transport =
      address.kind === 'udp'
        ? new UdpTransport(address.host, address.port, (message) => this.failed(message))
        : new UnixDatagramTransport(address.path);
  }

  private failed(message: string): void {
    if (message !== this.lastError) this.options.onError?.(`${this.name}: ${message}`);
    this.lastError = message;
  }

  /** Never: chunks wait in the queue, which counts their bytes (a small chunk must not hold a big buffer). */
  writesNow(): boolean {
    return false;
  }

  write(chunk: LineChunk): boolean {
    const { frames, truncated } = this.framer.frameDatagrams(chunk.bytes, this.maxMessageBytes);
    this.truncatedLines += truncated;
    if (this.closed) {
      this.drops.add('closeDeadline', frames.length, chunk.bytes.length);
      return false;
    }
    for (const frame of frames) {
      const inFlight = this.transport instanceof UdpTransport ? this.transport.inFlight : 0;
      if (this.waitingBytes + inFlight + frame.length > this.limitBytes) {
        this.drops.add(this.lastError === undefined ? 'queueFull' : 'noReceiver', 1, frame.length);
        continue;
      }
      this.waiting.push(frame);
      this.waitingBytes += frame.length;
    }
    if (this.retryTimer === undefined && !this.waitingWritable) this.pump();
    // Frames may be views of the chunk, waiting to be sent.
    return false;
  }

  private writable(): void {
    this.waitingWritable = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.closed) this.pump();
  }

  private pump(): void {
    this.retryTimer = undefined;
    if (this.head === this.waiting.length) return;
    const { sent, error } = this.transport.send(this.waiting, this.head);
    for (let i = this.head; i < this.head + sent; i++) {
      this.writtenLines++;
      this.writtenBytes += this.waiting[i].length;
      this.waitingBytes -= this.waiting[i].length;
    }
    this.head += sent;
    if (sent > 0) this.backoffMs = this.reconnectMinMs;
    if (error !== '') {
      if (!RETRY_LATER.has(error) && !error.startsWith(REFUSED)) {
        // This message cannot go (EMSGSIZE …): drop it, go on with the next.
        const frame = this.waiting[this.head++];
        this.waitingBytes -= frame.length;
        this.drops.add('writeError', 1, frame.length);
        this.failed(error);
        this.pump();
        return;
      }
      if (error !== 'EAGAIN' && error !== 'EWOULDBLOCK') this.failed(error);
      // A full receiver queue: wait until the socket is writable (unix) or shortly (UDP); an absent receiver: backoff.
      const full = error === 'EAGAIN' || error === 'EWOULDBLOCK' || error === 'ENOBUFS';
      if (full && !this.waitingWritable && this.transport.whenWritable(() => this.writable())) {
        this.waitingWritable = true;
      } else {
        const delay = full ? 2 : this.backoffMs;
        if (!full) this.backoffMs = Math.min(this.backoffMs * 2, this.reconnectMaxMs);
        this.retryTimer = setTimeout(() => this.pump(), delay);
        this.retryTimer.unref();
      }
    } else if (sent > 0) {
      this.lastError = undefined;
    }
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  stopWaiting(): void {}

  reopen(): void {}

  async close(deadlineMs: number): Promise<SinkCloseReport> {
    const until = Date.now() + Math.max(0, deadlineMs);
    while (this.waitingBytes > 0 && Date.now() < until) {
      if (this.retryTimer === undefined && !this.waitingWritable) this.pump();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // UDP: let dgram finish the sends it holds.
    while (this.transport instanceof UdpTransport && this.transport.inFlight > 0 && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 1));
    this.closed = true;
    const droppedLines = this.waiting.length - this.head;
    const droppedBytes = this.waitingBytes;
    this.drops.add(this.lastError === undefined ? 'closeDeadline' : 'noReceiver', droppedLines, droppedBytes);
    this.waiting = [];
    this.head = 0;
    this.waitingBytes = 0;
    // A wait for writability still pending holds the fd (closing it under the poll is undefined); the process ends soon.
    if (!this.waitingWritable) this.transport.close();
    return { complete: droppedLines === 0, droppedLines, droppedBytes, writeStuck: false };
  }

  stats(): SinkStats {
    return {
      target: this.name,
      connected: !this.closed && this.lastError === undefined,
      writtenLines: this.writtenLines,
      writtenBytes: this.writtenBytes,
      queuedBytes: this.waitingBytes + (this.transport instanceof UdpTransport ? this.transport.inFlight : 0),
      queueLimitBytes: this.limitBytes,
      droppedLines: this.drops.lines,
      droppedBytes: this.drops.bytes,
      dropped: this.drops.snapshot(),
      truncatedLines: this.truncatedLines,
      reconnects: 0,
      connectFailures: 0,
      reopens: 0,
      lastError: this.lastError,
    };
  }
}
