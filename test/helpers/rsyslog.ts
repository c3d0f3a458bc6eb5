// A real rsyslogd for the syslog output's tests: started in the foreground
// with its own configuration and work directory, listening on loopback ports
// (UDP, TCP, TLS with a CA the test makes) and a unix socket in that
// directory, and writing what it parsed of each message (PRI, timestamp,
// hostname, tag, app-name, message, input) one line each to a file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

/** Why rsyslogd (with its GnuTLS driver) or openssl cannot run here, or null. */
export function rsyslogUnavailable(): string | null {
  if (!fs.existsSync(RSYSLOGD)) return 'rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls; scripts/setup-system.sh)';
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is not installed';
  const modules = spawnSync('sh', ['-c', 'ls /usr/lib/*/rsyslog/lmnsd_gtls.so']);
  if (modules.status !== 0) return 'rsyslog-gnutls is not installed (the TLS driver)';
  return null;
}

/** A port free on loopback now (rsyslog 8.2302's imudp takes no port 0). */
export async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A CA, and certificates it signs; file names are relative to dir. */
export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed nothing here. */
  otherCa: string;
  /** A server certificate signed by the other CA. */
  otherServerCert: string;
  otherServerKey: string;
}

/** Makes the test PKI with openssl: server certificates for 127.0.0.1 and localhost. */
export function makePki(dir: string): TestPki {
  const ext = path.join(dir, 'server.ext');
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const clientExt = path.join(dir, 'client.ext');
  fs.writeFileSync(clientExt, 'extendedKeyUsage=clientAuth\n');
  const file = (name: string): string => path.join(dir, name);
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${ca} test`,
      '-keyout',
      `${ca}-key.pem`,
      '-out',
      `${ca}.pem`,
    ]);
  }
  const sign = (name: string, ca: string, subject: string, extFile: string): void => {
    openssl(dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}-key.pem`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      extFile,
      '-out',
      `${name}.pem`,
    ]);
  };
  sign('server', 'ca', '/CN=localhost', ext);
  sign('client', 'ca', '/CN=collector', clientExt);
  sign('other-server', 'other-ca', '/CN=localhost', ext);
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server-key.pem'),
    clientCert: file('client.pem'),
    clientKey: file('client-key.pem'),
    otherCa: file('other-ca.pem'),
    otherServerCert: file('other-server.pem'),
    otherServerKey: file('other-server-key.pem'),
  };
}

/** One message as rsyslog parsed it. */
export interface Parsed {
  pri: number;
  timestamp: string;
  hostname: string;
  tag: string;
  appName: string;
  msg: string;
  input: string;
}

export interface Rsyslog {
  ports: { udp: number; tcp: number; tls: number; mtls: number };
  socket: string;
  out: string;
  /** What rsyslog wrote so far. */
  messages(): Parsed[];
  /** Waits until rsyslog wrote at least count messages. */
  waitFor(count: number, timeoutMs?: number): Promise<Parsed[]>;
  stop(): Promise<void>;
  /** Starts it again with the same configuration and ports. */
  restart(): Promise<void>;
}

// UDP on loopback loses nothing unless rsyslog's receive buffer overflows while it is busy (a loaded
// machine): rcvBufSize gives it room for every burst a test sends.
const FIELD = '\x1f';
const PROBE = 'nfc-test-probe';

/** Starts rsyslogd; the certificate it shows on its TLS ports is pki's server one (or the other CA's). */
export async function startRsyslog(dir: string, pki: TestPki, options: { serverCert?: 'ca' | 'other' } = {}): Promise<Rsyslog> {
  const ports = { udp: await freePort('udp'), tcp: await freePort('tcp'), tls: await freePort('tcp'), mtls: await freePort('tcp') };
  const work = path.join(dir, 'rsyslog-work');
  fs.mkdirSync(work, { recursive: true });
  const socket = path.join(dir, 'log.sock');
  const out = path.join(dir, 'rsyslog.out');
  const other = options.serverCert === 'other';
  const conf = `
global(workDirectory="${work}" maxMessageSize="64k"
  defaultNetstreamDriverCAFile="${pki.ca}"
  defaultNetstreamDriverCertFile="${other ? pki.otherServerCert : pki.serverCert}"
  defaultNetstreamDriverKeyFile="${other ? pki.otherServerKey : pki.serverKey}")
module(load="imudp")
module(load="imtcp" maxSessions="100")
module(load="imuxsock" sysSock.use="off")
input(type="imudp" address="127.0.0.1" port="${ports.udp}" name="udp" rcvBufSize="8m")
input(type="imtcp" address="127.0.0.1" port="${ports.tcp}" name="tcp")
input(type="imtcp" address="127.0.0.1" port="${ports.tls}" name="tls"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="${ports.mtls}" name="mtls"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imuxsock" socket="${socket}" createPath="on" rateLimit.interval="0" ruleset="unix")
template(name="fields" type="list") {
  property(name="pri") constant(value="${FIELD}")
  property(name="timereported" dateFormat="rfc3339") constant(value="${FIELD}")
  property(name="hostname") constant(value="${FIELD}")
  property(name="syslogtag") constant(value="${FIELD}")
  property(name="app-name") constant(value="${FIELD}")
  property(name="msg") constant(value="${FIELD}")
  property(name="inputname") constant(value="\\n")
}
ruleset(name="unix") { action(type="omfile" file="${out}" template="fields" flushOnTXEnd="on" asyncWriting="off") }
*.* action(type="omfile" file="${out}" template="fields" flushOnTXEnd="on" asyncWriting="off")
`;
  const confPath = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(confPath, conf);
  const pidFile = path.join(dir, 'rsyslog.pid');
  let child: ChildProcess | null = null;
  let stderr = '';

  const start = async (): Promise<void> => {
    stderr = '';
    const started = spawn(RSYSLOGD, ['-n', '-f', confPath, '-i', pidFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    started.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Ready once every port listens and the socket exists.
    const until = Date.now() + 15_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`rsyslogd exited (${started.exitCode}): ${stderr}`);
      if (fs.existsSync(socket) && (await listening(ports.tcp)) && (await listening(ports.tls)) && (await listening(ports.mtls))) break;
      if (Date.now() > until) throw new Error(`rsyslogd did not start listening within 15 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // UDP says nothing about readiness: probe until rsyslog has written a probe (left out of messages()).
    const probe = dgram.createSocket('udp4');
    try {
      for (;;) {
        probe.send(`<14>${PROBE}`, ports.udp, '127.0.0.1');
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes(PROBE)) break;
        if (Date.now() > until) throw new Error(`rsyslogd did not take UDP within 15 s: ${stderr}`);
      }
    } finally {
      probe.close();
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    fs.rmSync(socket, { force: true });
  };

  const messages = (): Parsed[] => {
    if (!fs.existsSync(out)) return [];
    const text = fs.readFileSync(out, 'utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0 && !line.includes(PROBE))
      .map((line) => {
        const [pri, timestamp, hostname, tag, appName, msg, input] = line.split(FIELD);
        return { pri: Number(pri), timestamp, hostname, tag, appName, msg, input };
      });
  };

  await start();
  return {
    ports,
    socket,
    out,
    messages,
    async waitFor(count, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const got = messages();
        if (got.length >= count) return got;
        if (Date.now() > until)
          throw new Error(`rsyslog wrote ${got.length} messages within ${timeoutMs} ms, expected ${count}; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop,
    restart: start,
  };
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
