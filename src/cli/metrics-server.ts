// --metrics HOST:PORT: /metrics (Prometheus text exposition format) and
// /healthz (liveness) over node:http. Started before anything else is opened,
// so a port in use fails the run before a socket is bound.
import * as http from 'node:http';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class MetricsServer {
  private constructor(private readonly server: http.Server) {}

  /** Listens on host:port; rejects with a message naming the address (EADDRINUSE, EACCES …). */
  static async start(host: string, port: number, render: () => string): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(render());
      } else if (path === '/healthz' || path === '/-/healthy') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('netfilter-collector: /metrics and /healthz\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'the address is in use' : err.message;
        reject(new Error(`--metrics ${host.includes(':') ? `[${host}]` : host}:${port}: cannot listen: ${why}`));
      });
      server.listen(port, host, () => resolve());
    });
    // Scrapes do not keep the process alive once collection ends.
    server.unref();
    return new MetricsServer(server);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
