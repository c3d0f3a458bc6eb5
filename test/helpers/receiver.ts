// A test receiver for socket sinks: a unix, TCP or TLS server that keeps what
// each connection sent, and can stall (stop reading), read slowly or hang up.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface Receiver {
  server: net.Server;
  /** The bytes of each connection, in order of arrival. */
  connections: Buffer[][];
  sockets: net.Socket[];
  /** All complete lines received, over all connections. */
  lines(): string[];
  /** Each connection's text. */
  texts(): string[];
  /** Resolves when every connection accepted so far has ended (EOF, reset or a TLS error). */
  ended(): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Stop reading each connection as soon as it is accepted. */
  stall?: boolean;
  /** Hang up a connection once it has received this many bytes. */
  hangUpAfterBytes?: number;
  /** A slow reader: after each read, stop reading for this many ms. */
  pauseMs?: number;
  /** Serve TLS with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
}

export async function startReceiver(listen: net.ListenOptions, options: ReceiverOptions = {}): Promise<Receiver> {
  const connections: Buffer[][] = [];
  const sockets: net.Socket[] = [];
  const ends: Array<Promise<void>> = [];
  const accept = (socket: net.Socket): void => {
    const parts: Buffer[] = [];
    let bytes = 0;
    connections.push(parts);
    sockets.push(socket);
    ends.push(new Promise<void>((resolve) => socket.once('close', () => resolve())));
    socket.on('error', () => {});
    if (options.stall) socket.pause();
    socket.on('data', (data: Buffer) => {
      parts.push(data);
      bytes += data.length;
      if (options.hangUpAfterBytes !== undefined && bytes >= options.hangUpAfterBytes) socket.destroy();
      if (options.pauseMs !== undefined) {
        socket.pause();
        setTimeout(() => socket.resume(), options.pauseMs);
      }
    });
  };
  const server = options.tls
    ? tls.createServer({ cert: fs.readFileSync(options.tls.cert), key: fs.readFileSync(options.tls.key) }, accept)
    : net.createServer(accept);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, () => resolve());
  });
  const texts = (): string[] => connections.map((parts) => Buffer.concat(parts).toString());
  return {
    server,
    connections,
    sockets,
    texts,
    ended: async () => {
      await Promise.all(ends);
    },
    lines: () => texts().flatMap((text) => text.split('\n').slice(0, -1)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Waits until check() holds, polling; fails after timeoutMs. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
