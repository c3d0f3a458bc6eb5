// A test receiver for socket sinks: a unix or TCP server that keeps what each
// connection sent, and can stall (stop reading) or hang up.
import * as net from 'node:net';

export interface Receiver {
  server: net.Server;
  /** The bytes of each connection, in order of arrival. */
  connections: Buffer[][];
  sockets: net.Socket[];
  /** All complete lines received, over all connections. */
  lines(): string[];
  /** Each connection's text. */
  texts(): string[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Stop reading each connection as soon as it is accepted. */
  stall?: boolean;
  /** Hang up a connection once it has received this many bytes. */
  hangUpAfterBytes?: number;
}

export async function startReceiver(listen: net.ListenOptions, options: ReceiverOptions = {}): Promise<Receiver> {
  const connections: Buffer[][] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    const parts: Buffer[] = [];
    let bytes = 0;
    connections.push(parts);
    sockets.push(socket);
    socket.on('error', () => {});
    if (options.stall) socket.pause();
    socket.on('data', (data: Buffer) => {
      parts.push(data);
      bytes += data.length;
      if (options.hangUpAfterBytes !== undefined && bytes >= options.hangUpAfterBytes) socket.destroy();
    });
  });
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
