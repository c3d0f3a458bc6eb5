// NDJSON to a unix stream socket or a TCP peer, through a bounded queue.
//
// The collector never waits for the receiver: write() queues (or drops whole
// lines, counted, when the queue is full) and a pump hands queued chunks to
// the connection a little at a time. The connection is retried with capped
// exponential backoff while the receiver is absent or after it went away.
//
// A broken connection: the chunks handed to it whose writes had not completed
// are counted dropped ("connectionLost") and never resent. The receiver may
// have seen a torn last line on the old connection (it ends without a newline
// at EOF); the next connection starts at the first byte of the next queued
// line, so no connection ever starts mid-line, and no line is sent twice.
// Lines whose write completed (they reached our kernel) but that the peer
// never read are lost without a count: nothing in the socket API tells.
//
// TLS: the server's certificate is verified (against --tls-ca, else the
// system's CAs; host name checked); a failed handshake is a failed connect,
// said and retried, and lines wait or are dropped (counted) meanwhile: never
// sent in plain text. Syslog over TCP/TLS frames each chunk as it is handed
// to the connection (frame option), so the queue holds plain lines.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { LineChunk } from '../format/line-target';
import { LineQueue } from './queue';
import { DEFAULT_QUEUE_BYTES, type Sink } from './sink';
import { DropCounter, type SinkCloseReport, type SinkStats } from './stats';
import { describeSinkTarget, type SinkTarget } from './target';

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
  /** Bytes handed to the connection ahead of completed writes: what a broken connection can take with it. */
  inFlightBytes?: number;
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
export function loadTlsFiles(options: TlsClientOptions): tls.SecureContextOptions {
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
    tls.createSecureContext(files);
  } catch (err) {
    throw new Error(`TLS files (${[options.ca, options.cert, options.key].filter(Boolean).join(', ')}): ${(err as Error).message}`);
  }
  return files;
}

const RESOLVED = Promise.resolve();

export class SocketSink implements Sink {
  private readonly target: SocketAddress;
  private readonly name: string;
  private readonly tlsFiles: tls.SecureContextOptions | undefined;
  private readonly servername: string | undefined;
  private readonly frame: ((lines: Buffer) => Buffer) | undefined;
  private readonly onError: ((message: string) => void) | undefined;
  private readonly queue: LineQueue;
  private readonly drops = new DropCounter();
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly connectTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly inFlightLimit: number;
  private socket: net.Socket | null = null;
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
  private onIdle: (() => void) | null = null;

  /** frame: turns a chunk of lines into the bytes sent (syslog framing); default: the lines as they are. */
  constructor(target: SocketAddress, options: SocketSinkOptions = {}, name?: string, frame?: (lines: Buffer) => Buffer) {
    this.target = target;
    this.name = name ?? describeSinkTarget(target as SinkTarget);
    this.frame = frame;
    this.onError = options.onError;
    this.tlsFiles = target.kind === 'tls' ? loadTlsFiles(options.tls ?? {}) : undefined;
    this.servername = options.tls?.servername;
    this.queue = new LineQueue(options.queueBytes ?? DEFAULT_QUEUE_BYTES);
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.keepAliveMs = options.keepAliveMs ?? 15000;
    this.inFlightLimit = options.inFlightBytes ?? 256 * 1024;
    this.backoffMs = this.reconnectMinMs;
    this.connect();
  }

  write(chunk: LineChunk): void {
    if (this.closed) {
      this.drops.add('closeDeadline', chunk.lines, chunk.bytes.length);
      return;
    }
    const dropped = this.queue.offer(chunk);
    this.drops.add(this.connected ? 'queueFull' : 'noReceiver', dropped.lines, dropped.bytes);
    this.pump();
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
          ? tls.connect({
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
    if (!established) this.connectFailures++;
    const lost = this.queue.dropInFlight();
    this.drops.add('connectionLost', lost.lines, lost.bytes);
    this.checkIdle();
    if (this.closed) return;
    this.retryLater();
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.reconnectMaxMs);
  }

  /** Hands waiting chunks to the connection while less than inFlightLimit is unwritten. */
  private pump(): void {
    const socket = this.socket;
    // A socket that failed is destroyed before its 'close': writing into it would only lose lines.
    if (!this.connected || socket === null || socket.destroyed || !socket.writable) return;
    while (socket.writableLength < this.inFlightLimit) {
      const chunk = this.queue.send();
      if (!chunk) break;
      socket.write(this.frame ? this.frame(chunk.bytes) : chunk.bytes, (err) => this.written(socket, err));
    }
  }

  private written(socket: net.Socket, err: Error | null | undefined): void {
    // A failed write's chunk stays in flight until the connection's 'close' counts it lost.
    if (err || socket !== this.socket) return;
    const chunk = this.queue.sent();
    if (chunk) {
      this.writtenLines += chunk.lines;
      this.writtenBytes += chunk.bytes.length;
    }
    this.pump();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.onIdle && this.queue.bytes === 0) this.onIdle();
  }

  async close(deadlineMs: number): Promise<SinkCloseReport> {
    if (this.closed || this.closing) return { complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false };
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    // Reconnects go on meanwhile: a receiver that comes back within the deadline still gets the queue.
    await Promise.race([
      deadline,
      new Promise<void>((resolve) => {
        this.onIdle = resolve;
        this.checkIdle();
      }),
    ]);
    clearTimeout(timer);
    this.onIdle = null;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const reason = this.connected ? 'closeDeadline' : 'noReceiver';
    const waiting = this.queue.dropWaiting();
    const inFlight = this.queue.dropInFlight();
    this.drops.add(reason, waiting.lines, waiting.bytes);
    this.drops.add('closeDeadline', inFlight.lines, inFlight.bytes);
    const socket = this.socket;
    if (socket) {
      if (inFlight.bytes > 0) socket.destroy();
      // Everything was written to our kernel: FIN after it, and the kernel delivers the rest.
      else socket.end(() => socket.destroy());
    }
    const droppedLines = waiting.lines + inFlight.lines;
    const droppedBytes = waiting.bytes + inFlight.bytes;
    return { complete: droppedBytes === 0, droppedLines, droppedBytes, writeStuck: false };
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
