// IPFIX messages to a collector over UDP or TCP: the thin transport under the
// pure encoder (src/ipfix/encoder.ts). It never blocks collection: messages
// beyond the queue bound are dropped, and every drop is counted in data
// records by reason.
//
// UDP: a connected socket, so that the collector's ICMP "port unreachable"
// comes back as a send error (counted). TCP: reconnects with capped backoff;
// each connection is a new transport session, which starts with the
// templates (the caller's onSession), and whatever a broken connection had
// not written is counted lost.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { DEFAULT_QUEUE_BYTES } from './sink';

/** One message as the encoder made it, and the data records it carries (drops are counted in records). */
export interface IpfixMessage {
  bytes: Buffer;
  records: number;
}

export interface IpfixTarget {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
}

/** IANA's port for IPFIX (RFC 7011 §10.3.2), over UDP and TCP alike. */
export const IPFIX_PORT = 4739;

/** Parses udp:HOST[:PORT] and tcp:HOST[:PORT] ([IPv6]:PORT in brackets; port 4739 by default). */
export function parseIpfixTarget(text: string): IpfixTarget {
  const m = /^(udp|tcp):(?:\[([^\]]+)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(text);
  if (!m)
    throw new Error(`IPFIX collector "${text}": expected udp:HOST[:PORT] or tcp:HOST[:PORT] ([IPv6] in brackets; port 4739 by default)`);
  const port = m[4] === undefined ? IPFIX_PORT : Number(m[4]);
  if (port < 1 || port > 65535) throw new Error(`IPFIX collector "${text}": the port must be 1-65535`);
  return { transport: m[1] as 'udp' | 'tcp', host: m[2] ?? m[3], port };
}

export function describeIpfixTarget(t: IpfixTarget): string {
  return `${t.transport}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/**
 * Why data records were not delivered:
 * - queueFull: more was waiting than the queue bound allows (the network or collector is slower than collection);
 * - sendError: the kernel refused to send a datagram (EMSGSIZE, ENOBUFS …);
 * - refused: the collector's host answered a datagram with ICMP port unreachable (nothing listens there): one
 *   message each, the one sent last before the answer came. A lower bound: the kernel rate-limits ICMP;
 * - connectionLost: a TCP connection broke with these messages not written;
 * - closeDeadline: still waiting when close(deadlineMs) ran out of time.
 */
export type IpfixDropReason = 'queueFull' | 'sendError' | 'refused' | 'connectionLost' | 'closeDeadline';

export interface IpfixSinkStats {
  target: string;
  connected: boolean;
  /** Handed to the kernel (UDP: some may come back refused, counted in dropped.refused). */
  sentMessages: number;
  sentRecords: number;
  sentBytes: number;
  queuedBytes: number;
  queueLimitBytes: number;
  droppedRecords: number;
  droppedMessages: number;
  dropped: Record<IpfixDropReason, { messages: number; records: number; bytes: number }>;
  /** TCP: connections made after the first. */
  reconnects: number;
  lastError?: string;
}

export interface IpfixSinkOptions {
  /** Bytes waiting and in flight. Default 64 MiB, as every socket output (a 250,000-flow burst makes about 43 MB). */
  queueBytes?: number;
  /** TCP: called on each new connection; its message (the templates) goes first. */
  onSession?: () => IpfixMessage;
  /** Called with each error the socket reports that differs from the last one (for a line on stderr). */
  onError?: (message: string) => void;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

const UDP_SEND_BUFFER = 4 * 1024 * 1024;

const REASONS: IpfixDropReason[] = ['queueFull', 'sendError', 'refused', 'connectionLost', 'closeDeadline'];

export class IpfixSink {
  readonly target: IpfixTarget;
  private readonly queueLimit: number;
  private readonly onSession: (() => IpfixMessage) | undefined;
  private readonly onError: ((message: string) => void) | undefined;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly dropped = Object.fromEntries(
    REASONS.map((r) => [r, { messages: 0, records: 0, bytes: 0 }]),
  ) as IpfixSinkStats['dropped'];
  private waiting: IpfixMessage[] = [];
  private inFlight: IpfixMessage[] = [];
  private queued = 0;
  private udp: dgram.Socket | null = null;
  private tcp: net.Socket | null = null;
  private connected = false;
  private connects = 0;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private onIdle: (() => void) | null = null;
  private sent = { messages: 0, records: 0, bytes: 0 };
  /** UDP: the message sent last, for a refusal that comes back after it. */
  private lastSent: IpfixMessage = { bytes: Buffer.alloc(0), records: 0 };
  private lastError: string | undefined;

  constructor(target: IpfixTarget, options: IpfixSinkOptions = {}) {
    this.target = target;
    this.queueLimit = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
    this.onSession = options.onSession;
    this.onError = options.onError;
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.backoffMs = this.reconnectMinMs;
    if (target.transport === 'udp') this.openUdp();
    else this.openTcp();
  }

  /** Queues messages for the collector; what does not fit the bound is dropped (counted). Never blocks. */
  send(messages: IpfixMessage[]): void {
    for (const m of messages) {
      if (this.closed) this.drop('closeDeadline', m);
      else if (this.queued + m.bytes.length > this.queueLimit) this.drop('queueFull', m);
      else {
        this.waiting.push(m);
        this.queued += m.bytes.length;
      }
    }
    this.pump();
  }

  private drop(reason: IpfixDropReason, m: IpfixMessage): void {
    this.dropped[reason].messages++;
    this.dropped[reason].records += m.records;
    this.dropped[reason].bytes += m.bytes.length;
  }

  private openUdp(): void {
    this.retryTimer = undefined;
    // A bigger send buffer rides out bursts (on loopback a datagram holds it until the receiver queues it);
    // the kernel caps it at net.core.wmem_max.
    const socket = dgram.createSocket({ type: net.isIPv6(this.target.host) ? 'udp6' : 'udp4', sendBufferSize: UDP_SEND_BUFFER });
    this.udp = socket;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A connected UDP socket hears the collector's port unreachable as ECONNREFUSED (on receive, not on send).
      if (err.code === 'ECONNREFUSED') this.drop('refused', this.lastSent);
      this.error(err);
      // The connect itself failed (the name does not resolve yet, no route): try again, with backoff.
      if (!this.connected && socket === this.udp && !this.closed) {
        this.udp = null;
        socket.close();
        this.retryTimer = setTimeout(() => this.openUdp(), this.backoffMs);
        this.retryTimer.unref();
        this.backoffMs = Math.min(this.backoffMs * 2, this.reconnectMaxMs);
      }
    });
    socket.connect(this.target.port, this.target.host, () => {
      // A name that resolved after close() (or after this socket was given up on): nothing to do.
      if (this.closed || socket !== this.udp) return;
      this.connected = true;
      this.connects++;
      this.backoffMs = this.reconnectMinMs;
      this.pump();
    });
  }

  private openTcp(): void {
    this.retryTimer = undefined;
    const socket = net.createConnection({ host: this.target.host, port: this.target.port });
    this.tcp = socket;
    socket.once('connect', () => {
      socket.setNoDelay(true);
      this.connected = true;
      this.connects++;
      this.backoffMs = this.reconnectMinMs;
      if (this.onSession) {
        const first = this.onSession();
        this.waiting.unshift(first);
        this.queued += first.bytes.length;
      }
      this.pump();
    });
    socket.on('data', () => {});
    socket.on('end', () => socket.destroy());
    socket.on('drain', () => this.pump());
    socket.on('error', (err) => this.error(err));
    socket.on('close', () => {
      if (socket !== this.tcp) return;
      this.tcp = null;
      this.connected = false;
      for (const m of this.inFlight) {
        this.drop('connectionLost', m);
        this.queued -= m.bytes.length;
      }
      this.inFlight = [];
      this.checkIdle();
      if (this.closed) return;
      this.retryTimer = setTimeout(() => this.openTcp(), this.backoffMs);
      this.retryTimer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, this.reconnectMaxMs);
    });
  }

  private error(err: Error): void {
    if (err.message !== this.lastError) this.onError?.(err.message);
    this.lastError = err.message;
  }

  private pump(): void {
    if (!this.connected || this.closed) return;
    const udp = this.udp;
    const tcp = this.tcp;
    while (this.waiting.length > 0) {
      if (tcp !== null && (tcp.destroyed || !tcp.writable || tcp.writableLength > 256 * 1024)) return;
      const m = this.waiting.shift() as IpfixMessage;
      this.inFlight.push(m);
      if (udp !== null) udp.send(m.bytes, (err) => this.done(m, err));
      else if (tcp !== null) tcp.write(m.bytes, (err) => this.done(m, err ?? null));
    }
  }

  /** A send completed (UDP datagrams complete in order; so do TCP writes). */
  private done(m: IpfixMessage, err: Error | null): void {
    const at = this.inFlight[0] === m ? 0 : this.inFlight.indexOf(m);
    if (at < 0) return; // counted when its connection was lost
    this.inFlight.splice(at, 1);
    this.queued -= m.bytes.length;
    if (err) {
      this.error(err);
      // TCP: the connection's close counts the rest; this one failed here.
      this.drop(this.target.transport === 'udp' ? 'sendError' : 'connectionLost', m);
    } else {
      this.sent.messages++;
      this.sent.records += m.records;
      this.lastSent = m;
      this.sent.bytes += m.bytes.length;
    }
    this.pump();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.onIdle && this.waiting.length === 0 && this.inFlight.length === 0) this.onIdle();
  }

  /** Sends what it can within deadlineMs, then drops the rest (counted) and closes. */
  async close(deadlineMs: number, last?: IpfixMessage): Promise<{ complete: boolean; droppedRecords: number }> {
    if (this.closed) return { complete: true, droppedRecords: 0 };
    if (last && this.tcp !== null && this.connected) this.send([last]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadlineMs));
      }),
      new Promise<void>((resolve) => {
        this.onIdle = resolve;
        this.checkIdle();
      }),
    ]);
    clearTimeout(timer);
    this.onIdle = null;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    let droppedRecords = 0;
    for (const m of [...this.inFlight, ...this.waiting]) {
      this.drop('closeDeadline', m);
      droppedRecords += m.records;
    }
    this.inFlight = [];
    this.waiting = [];
    this.queued = 0;
    this.udp?.close();
    if (this.tcp) {
      const socket = this.tcp;
      socket.end(() => socket.destroy());
    }
    return { complete: droppedRecords === 0, droppedRecords };
  }

  stats(): IpfixSinkStats {
    let droppedRecords = 0;
    let droppedMessages = 0;
    for (const r of REASONS) {
      droppedRecords += this.dropped[r].records;
      droppedMessages += this.dropped[r].messages;
    }
    return {
      target: describeIpfixTarget(this.target),
      connected: this.connected,
      sentMessages: this.sent.messages,
      sentRecords: this.sent.records,
      sentBytes: this.sent.bytes,
      queuedBytes: this.queued,
      queueLimitBytes: this.queueLimit,
      droppedRecords,
      droppedMessages,
      dropped: Object.fromEntries(REASONS.map((r) => [r, { ...this.dropped[r] }])) as IpfixSinkStats['dropped'],
      reconnects: Math.max(0, this.connects - 1),
      lastError: this.lastError,
    };
  }
}
