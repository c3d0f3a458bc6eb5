// NDJSON to a unix stream socket or a TCP or TLS peer, through a bounded queue.
//
// The collector never waits for the receiver: write() queues (or drops whole
// lines, counted, when the queue is full) and a pump hands queued lines to the
// connection in pieces of whole lines of at most 16 KiB (one line alone when
// it is longer): a unix socket takes a write of that size whole or not at all
// (fd.ts), and over TLS it is one record. The connection is retried with
// capped exponential backoff while the receiver is absent or went away.
//
// What the receiver gets is known exactly:
// - unix and tcp: the sink writes the connection's descriptor itself,
//   non-blocking (Node's socket only connects and reads), so each write says
//   how many bytes the kernel took; while it takes nothing the sink tries
//   again on a short timer (1 to 16 ms), as the fd sinks do (fd.ts);
// - tls: a piece is handed over only when the previous one is entirely in the
//   kernel, so Node never joins pieces into one write, and each piece is one
//   TLS record (16 KiB is the largest), which the receiver decrypts whole or
//   not at all.
// Bytes the kernel took are written (it delivers them after we close); the
// rest is dropped, counted in lines.
//
// close(deadline): lines still waiting at the deadline are dropped and no new
// line is started; a line the kernel took part of (tcp; unix takes a piece
// whole) gets a second deadline as long again to finish, and a TLS piece in
// flight its record. A receiver that reads nothing during that second
// deadline can be left part of a line over tcp (or of a single line longer
// than a piece over tls), and the report says so (tornLines, counted dropped).
//
// A broken connection: the piece in flight is counted dropped
// ("connectionLost"); the next connection starts at the next waiting line, so
// no connection starts mid-line and no line is sent twice. Lines whose write
// completed (they reached our kernel) but that the peer never read are lost
// without a count: nothing in the socket API tells.
//
// TLS: the server's certificate is verified (against --tls-ca, else the
// system's CAs; host name checked); a failed handshake is a failed connect,
// said and retried, and lines wait or are dropped (counted) meanwhile: never
// sent in plain text. Syslog over TCP/TLS frames each piece as it is handed
// to the connection (frame option), so the queue holds plain lines.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as net from 'node:net';
import type * as Tls from 'node:tls';
import { countLines, type LineChunk } from '../format/line-target';
import { Progress, RESOLVED } from './progress';
import { LineQueue } from './queue';
import { DEFAULT_QUEUE_BYTES, type Sink } from './sink';
import { DropCounter, type SinkCloseReport, type SinkStats } from './stats';
import { describeSinkTarget, type SinkTarget } from './target';

/** node:tls, loaded with the first TLS output: ~8 ms of CPU at every start of a run without one. */
function tls(): typeof Tls {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:tls') as typeof Tls;
}

export interface SocketSinkOptions {
  /** Bound of queued bytes (waiting and in flight). */
  queueBytes?: number;
  /** First retry delay after a failed or lost connection; doubles up to reconnectMaxMs. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A connect attempt that takes longer is abandoned (a black-holed host). */
  connectTimeoutMs?: number;
  /** TCP keepalive idle time before probes. */
  keepAliveMs?: number;
  /** TLS files and the name to check (tls: and syslog:tls: targets). */
  tls?: TlsClientOptions;
  /** Called with each new error the connection meets (refused, certificate not trusted …), once per change. */
  onError?: (message: string) => void;
}

export interface TlsClientOptions {
  /** PEM file of the CA(s) that sign the server's certificate; default: the system's CAs. */
  ca?: string;
  /** PEM files of a client certificate and its key (mutual TLS). */
  cert?: string;
  key?: string;
  /** The name the server's certificate must carry; default: the target's host. */
  servername?: string;
}

/** Where a socket sink connects. */
export type SocketAddress = { kind: 'unix'; path: string } | { kind: 'tcp' | 'tls'; host: string; port: number };

/** Reads the TLS files now, so that an unreadable or malformed one fails at start, naming the file. */
export function loadTlsFiles(options: TlsClientOptions): Tls.SecureContextOptions {
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`${what} ${file}: ${(err as Error).message}`);
    }
  };
  if ((options.cert === undefined) !== (options.key === undefined))
    throw new Error('--tls-cert and --tls-key go together (a client certificate needs its key)');
  const files = { ca: read('--tls-ca', options.ca), cert: read('--tls-cert', options.cert), key: read('--tls-key', options.key) };
  try {
    tls().createSecureContext(files);
  } catch (err) {
    throw new Error(`TLS files (${[options.ca, options.cert, options.key].filter(Boolean).join(', ')}): ${(err as Error).message}`);
  }
  return files;
}

/** The most bytes handed to the connection at once: one TLS record's worth, and below the unix socket's all-or-nothing size. */
export const PIECE_BYTES = 16 * 1024;
const WRITE_RETRY_MIN_MS = 1;
const WRITE_RETRY_MAX_MS = 16;

/** How a syslog sink frames a piece of lines (octet counting puts a length before each message). */
export interface StreamFraming {
  frame: (lines: Buffer) => Buffer;
  octetCounting: boolean;
}

/** A piece handed to the connection: its lines, and the bytes sent for them (framed). */
interface Sent {
  lines: number;
  bytes: Buffer;
}

export class SocketSink implements Sink {
  private readonly target: SocketAddress;
  private readonly name: string;
  private readonly tlsFiles: Tls.SecureContextOptions | undefined;
  private readonly servername: string | undefined;
  private readonly framing: StreamFraming | undefined;
  private readonly onError: ((message: string) => void) | undefined;
  private readonly queue: LineQueue;
  private readonly drops = new DropCounter();
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly connectTimeoutMs: number;
  private readonly keepAliveMs: number;
  /** Pieces handed to the connection whose write has not completed (one for unix and tcp). */
  private readonly sending: Sent[] = [];
  private socket: net.Socket | null = null;
  /** unix and tcp: the connection's descriptor, which the sink writes itself. */
  private fd: number | null = null;
  /** unix and tcp: bytes of sending[0] the kernel has taken. */
  private offset = 0;
  /** At close: write no further than this offset of sending[0] (the end of the line in progress). */
  private limit = Number.POSITIVE_INFINITY;
  /** unix and tcp: while the kernel takes nothing (EAGAIN), the next try, from 1 ms doubling to 16 ms. */
  private writeTimer: NodeJS.Timeout | undefined;
  private writeRetryMs = WRITE_RETRY_MIN_MS;
  /** Who waits for progress (close). */
  private readonly progress = new Progress();
  private connected = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private connects = 0;
  private connectFailures = 0;
  private writtenLines = 0;
  private writtenBytes = 0;
  private lastError: string | undefined;
  /** The error last said through onError (each is said once until a connection succeeds). */
  private saidError: string | undefined;
  private closing = false;
  private closed = false;

  /** framing: turns a piece of lines into the bytes sent (syslog); default: the lines as they are. */
  constructor(target: SocketAddress, options: SocketSinkOptions = {}, name?: string, framing?: StreamFraming) {
    this.target = target;
    this.name = name ?? describeSinkTarget(target as SinkTarget);
    this.framing = framing;
    this.onError = options.onError;
    this.tlsFiles = target.kind === 'tls' ? loadTlsFiles(options.tls ?? {}) : undefined;
    this.servername = options.tls?.servername;
    this.queue = new LineQueue(options.queueBytes ?? DEFAULT_QUEUE_BYTES);
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.keepAliveMs = options.keepAliveMs ?? 15000;
    this.backoffMs = this.reconnectMinMs;
    this.connect();
  }

  /** Never: chunks wait in the queue, which counts their bytes (a small chunk must not hold a big buffer). */
  writesNow(): boolean {
    return false;
  }

  write(chunk: LineChunk): boolean {
    if (this.closed) {
      this.drops.add('closeDeadline', chunk.lines, chunk.bytes.length);
      return true;
    }
    const dropped = this.queue.offer(chunk);
    this.drops.add(this.connected ? 'queueFull' : 'noReceiver', dropped.lines, dropped.bytes);
    this.pump();
    // The queue may hold the chunk, or part of it.
    return false;
  }

  ready(): Promise<void> {
    return RESOLVED;
  }

  stopWaiting(): void {}

  reopen(): void {}

  private connect(): void {
    this.retryTimer = undefined;
    const target = this.target;
    const problem = target.kind === 'unix' ? unixSocketPathProblem(target.path) : null;
    if (problem !== null) {
      // Not a connection error the kernel gave, but the same to the operator: said once, retried.
      if (problem !== this.saidError) this.onError?.(`${this.name}: ${problem}`);
      this.saidError = problem;
      this.lastError = problem;
      this.connectFailures++;
      this.retryLater();
      return;
    }
    const socket =
      target.kind === 'unix'
        ? net.createConnection({ path: target.path.startsWith('@') ? `\0${target.path.slice(1)}` : target.path })
        : target.kind === 'tls'
          ? tls().connect({
              host: target.host,
              port: target.port,
              ...this.tlsFiles,
              // SNI and the name checked: a name given, else the host (SNI is not sent for an address).
              servername: this.servername ?? (net.isIP(target.host) ? undefined : target.host),
              rejectUnauthorized: true,
            })
          : net.createConnection({ host: target.host, port: target.port });
    this.socket = socket;
    let established = false;
    socket.setTimeout(this.connectTimeoutMs, () => socket.destroy(new Error(`connect timed out after ${this.connectTimeoutMs} ms`)));
    socket.once(target.kind === 'tls' ? 'secureConnect' : 'connect', () => {
      established = true;
      socket.setTimeout(0);
      if (target.kind !== 'unix') {
        socket.setKeepAlive(true, this.keepAliveMs);
        socket.setNoDelay(true);
      }
      if (target.kind !== 'tls') {
        // The sink writes unix and TCP connections itself, so that it knows how many bytes the kernel took.
        const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
        if (typeof fd !== 'number' || fd < 0) {
          socket.destroy(new Error('the connection has no file descriptor to write'));
          return;
        }
        this.fd = fd;
      }
      this.connected = true;
      this.connects++;
      if (this.saidError !== undefined) this.onError?.(`${this.name}: connected again`);
      this.saidError = undefined;
      this.backoffMs = this.reconnectMinMs;
      this.pump();
    });
    // The receiver is not expected to talk; what it sends is read and discarded, so its close is seen.
    socket.on('data', () => {});
    socket.on('end', () => socket.destroy());
    socket.on('drain', () => this.pump());
    socket.on('error', (err: Error) => {
      const code = (err as NodeJS.ErrnoException).code;
      const message = code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
      if (message !== this.saidError) this.onError?.(`${this.name}: ${message}`);
      this.saidError = message;
      this.lastError = message;
    });
    socket.on('close', () => this.lost(socket, established));
  }

  /** The connection (or the attempt) ended. */
  private lost(socket: net.Socket, established: boolean): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.connected = false;
    this.fd = null;
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    if (!established) this.connectFailures++;
    this.sending.length = 0;
    this.offset = 0;
    const lost = this.queue.dropInFlight();
    this.drops.add('connectionLost', lost.lines, lost.bytes);
    this.wake();
    if (this.closed) return;
    this.retryLater();
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.reconnectMaxMs);
  }

  private pump(): void {
    const socket = this.socket;
    // A socket that failed is destroyed before its 'close': writing into it would only lose lines.
    if (!this.connected || socket === null || socket.destroyed || !socket.writable) return;
    if (this.fd !== null) this.pumpFd(socket, this.fd);
    else this.pumpTls(socket);
    this.wake();
  }

  /** The next piece: whole waiting lines, framed, now in flight; undefined when none waits (or closed). */
  private nextPiece(): Sent | undefined {
    if (this.closed) return undefined;
    let lines = this.queue.peek(PIECE_BYTES);
    if (!lines) return undefined;
    let bytes = this.framing ? this.framing.frame(lines) : lines;
    // Framing adds a header to each line: halve the piece until its frames fit one record.
    while (bytes.length > PIECE_BYTES) {
      const half = lines.lastIndexOf(0x0a, (lines.length >> 1) - 1) + 1;
      if (half === 0) break;
      lines = lines.subarray(0, half);
      bytes = (this.framing as StreamFraming).frame(lines);
    }
    const piece = { lines: this.queue.take(lines.length).lines, bytes };
    this.sending.push(piece);
    return piece;
  }

  /** A piece is all in the kernel. */
  private pieceDone(): void {
    this.sending.shift();
    const raw = this.queue.sent();
    if (raw) {
      this.writtenLines += raw.lines;
      this.writtenBytes += raw.bytes.length;
    }
  }

  /**
   * unix and tcp: writes pieces to the descriptor (non-blocking) while the kernel takes them; when it
   * takes nothing (EAGAIN), tries again shortly. A write says how many bytes it took, so the sink always
   * knows where the receiver's stream ends, and a direct try goes through as soon as the kernel has room.
   */
  private pumpFd(socket: net.Socket, fd: number): void {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    for (;;) {
      const piece = this.sending[0] ?? this.nextPiece();
      if (!piece) return;
      const end = Math.min(piece.bytes.length, this.limit);
      if (this.offset >= end) return;
      let n: number;
      try {
        n = fs.writeSync(fd, piece.bytes, this.offset, end - this.offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.writeTimer = setTimeout(() => this.pump(), this.writeRetryMs);
          this.writeRetryMs = Math.min(this.writeRetryMs * 2, WRITE_RETRY_MAX_MS);
          return;
        }
        // EPIPE, ECONNRESET …: the connection's 'close' counts the piece lost.
        socket.destroy(err as Error);
        return;
      }
      this.writeRetryMs = WRITE_RETRY_MIN_MS;
      this.offset += n;
      if (this.offset === piece.bytes.length) {
        this.offset = 0;
        this.pieceDone();
      }
    }
  }

  /**
   * tls: hands pieces to the connection while the kernel takes each whole at once (writableLength is 0
   * again); otherwise the next piece waits for the write callback. So each piece is one record, and Node
   * never joins pieces into one write that OpenSSL would cut into records anywhere.
   */
  private pumpTls(socket: net.Socket): void {
    while (socket.writableLength === 0) {
      const piece = this.nextPiece();
      if (!piece) return;
      socket.write(piece.bytes, (err) => this.written(socket, err));
    }
  }

  private written(socket: net.Socket, err: Error | null | undefined): void {
    // A failed write's piece stays in flight until the connection's 'close' counts it lost.
    if (err || socket !== this.socket) return;
    this.pieceDone();
    this.pump();
  }

  private wake(): void {
    this.progress.tell();
  }

  async close(deadlineMs: number): Promise<SinkCloseReport> {
    if (this.closed || this.closing) return { complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false, tornLines: 0 };
    this.closing = true;
    // Reconnects go on meanwhile: a receiver that comes back within the deadline still gets the queue.
    await this.progress.until(() => this.queue.bytes === 0, deadlineMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const waiting = this.queue.dropWaiting();
    this.drops.add(this.connected ? 'closeDeadline' : 'noReceiver', waiting.lines, waiting.bytes);
    // No new line is started; the one in progress gets a second deadline to finish.
    const piece = this.sending[0];
    if (piece && this.fd !== null) {
      const at = completeMessages(piece.bytes, this.offset, this.framing?.octetCounting ?? false).end;
      if (at < this.offset) {
        this.limit = nextMessageEnd(piece.bytes, at, this.framing?.octetCounting ?? false);
        this.pump();
        await this.progress.until(() => this.sending[0] !== piece || this.offset >= this.limit, deadlineMs);
      }
    } else if (piece) {
      await this.progress.until(() => this.sending.length === 0, deadlineMs);
    }
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    const cut = this.cutInFlight();
    const socket = this.socket;
    if (socket) {
      // tls: a record the kernel took part of is never decrypted; unix and tcp have nothing left in Node.
      if (this.fd === null && cut.lines > 0) socket.destroy();
      // FIN after what the kernel took, which it delivers.
      else socket.end(() => socket.destroy());
    }
    const droppedLines = waiting.lines + cut.lines;
    const droppedBytes = waiting.bytes + cut.bytes;
    return { complete: droppedLines === 0, droppedLines, droppedBytes, writeStuck: false, tornLines: cut.torn };
  }

  /**
   * At the end of close: what of the piece still in flight the receiver gets. Its lines the kernel took
   * whole are written; the others are dropped (closeDeadline); torn is 1 when the kernel took part of a line.
   */
  private cutInFlight(): { lines: number; bytes: number; torn: number } {
    const piece = this.sending[0];
    if (!piece) return { lines: 0, bytes: 0, torn: 0 };
    this.sending.length = 0;
    const raw = this.queue.sent() as LineChunk;
    if (this.fd === null) {
      // tls, encrypted in records: a piece of one record reaches the receiver whole or not at all; a
      // longer line spans records, and the receiver may have some of them.
      const torn = piece.bytes.length > PIECE_BYTES ? 1 : 0;
      this.drops.add('closeDeadline', piece.lines, raw.bytes.length);
      return { lines: piece.lines, bytes: raw.bytes.length, torn };
    }
    const whole = completeMessages(piece.bytes, this.offset, this.framing?.octetCounting ?? false);
    const wholeRaw = whole.count === 0 ? 0 : nthLineEnd(raw.bytes, whole.count);
    this.writtenLines += whole.count;
    this.writtenBytes += wholeRaw;
    const lines = piece.lines - whole.count;
    const bytes = raw.bytes.length - wholeRaw;
    this.drops.add('closeDeadline', lines, bytes);
    const torn = this.offset > whole.end ? 1 : 0;
    this.offset = 0;
    return { lines, bytes, torn };
  }

  stats(): SinkStats {
    return {
      target: this.name,
      connected: this.connected,
      writtenLines: this.writtenLines,
      writtenBytes: this.writtenBytes,
      queuedBytes: this.queue.bytes,
      queueLimitBytes: this.queue.limitBytes,
      droppedLines: this.drops.lines,
      droppedBytes: this.drops.bytes,
      dropped: this.drops.snapshot(),
      reconnects: Math.max(0, this.connects - 1),
      connectFailures: this.connectFailures,
      reopens: 0,
      lastError: this.lastError,
    };
  }
}

/**
 * The messages of `bytes` wholly within its first `upTo` bytes, and where the last of them ends. LF
 * framing (NDJSON, syslog LF): each ends at a newline. Octet counting: `LEN SP MSG`.
 */
export function completeMessages(bytes: Buffer, upTo: number, octetCounting: boolean): { count: number; end: number } {
  if (upTo <= 0) return { count: 0, end: 0 };
  if (!octetCounting) {
    const last = bytes.lastIndexOf(0x0a, upTo - 1);
    return last < 0 ? { count: 0, end: 0 } : { count: countLines(bytes, 0, last + 1), end: last + 1 };
  }
  let count = 0;
  let at = 0;
  while (at < upTo) {
    const space = bytes.indexOf(0x20, at);
    if (space < 0) break;
    const next = space + 1 + Number(bytes.toString('latin1', at, space));
    if (!(next <= upTo)) break;
    count++;
    at = next;
  }
  return { count, end: at };
}

/** Where the message that starts at `at` ends. */
function nextMessageEnd(bytes: Buffer, at: number, octetCounting: boolean): number {
  if (!octetCounting) return bytes.indexOf(0x0a, at) + 1 || bytes.length;
  const space = bytes.indexOf(0x20, at);
  return Math.min(bytes.length, space + 1 + Number(bytes.toString('latin1', at, space)));
}

/** The offset just past the nth newline of bytes (n >= 1). */
function nthLineEnd(bytes: Buffer, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) at = bytes.indexOf(0x0a, at + 1);
  return at + 1;
}

/**
 * Why a unix socket path is not one to send firewall logs to, or null. The collector sends only to a
 * socket of its own user or root, and follows a path only through places nobody else controls: a
 * symbolic link must belong to root or this user (as /dev/log → /run/systemd/journal/dev-log does),
 * and no link or socket may sit in a directory anyone can write without the sticky bit, or in one
 * another user owns (the path is checked, then connected to: nobody else may change it in between). So another
 * user cannot redirect the logs by planting a link or a socket. A path that does not exist yet is fine:
 * connecting fails and is retried. Abstract sockets (@name) have no path to check.
 */
export function unixSocketPathProblem(path: string): string | null {
  if (path.startsWith('@')) return null;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return null;
  }
  const place = placeProblem(path, st);
  if (place !== null) return place;
  if (st.isSymbolicLink()) {
    let target: string;
    try {
      target = fs.realpathSync(path);
    } catch {
      return null; // a dangling link: nothing to connect to yet
    }
    const problem = unixSocketPathProblem(target);
    return problem === null ? null : `${path} leads to ${problem}`;
  }
  if (!st.isSocket()) return `${path} is not a socket`;
  return null;
}

/** An owner other than root or this user, or a directory anyone could put another file in. */
function placeProblem(path: string, st: fs.Stats): string | null {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const what = st.isSymbolicLink() ? 'a symbolic link' : 'a socket';
  if (st.uid !== uid && st.uid !== 0) return `${path} is ${what} of uid ${st.uid}, neither this process's user nor root: refusing it`;
  try {
    const dirPath = nodePath.dirname(path);
    const dir = fs.statSync(dirPath);
    if ((dir.mode & 0o002) !== 0 && (dir.mode & 0o1000) === 0) {
      return `${dirPath} is writable by everyone without the sticky bit: refusing ${what} anyone could replace`;
    }
    // The check and the connect are two steps: whoever owns the directory could swap the entry in between.
    if (dir.uid !== uid && dir.uid !== 0) {
      return `${dirPath} belongs to uid ${dir.uid}, neither this process's user nor root: refusing ${what} its owner could replace`;
    }
  } catch {
    return null;
  }
  return null;
}
