// Sends test traffic from inside a lab namespace: UDP and TCP through a
// short Node program, ICMP through ping. Every loop is bounded in count and
// each command in time.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { NetnsLab } from './netns';

export interface SendOptions {
  /** Run the sender as this uid/gid (setpriv), to see it in NFLOG's UID/GID. */
  uid?: number;
  gid?: number;
  /** Source port to bind (UDP). */
  srcPort?: number;
}

// UDP: `count` datagrams of `size` bytes, sent in chunks so the socket buffer never overflows.
const UDP_SENDER = `
const dgram = require('node:dgram');
const [host, port, count, size, srcPort] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
const payload = Buffer.alloc(size, 0x61);
let sent = 0;
function burst() {
  let inFlight = 0;
  for (let i = 0; i < 256 && sent < count; i++, sent++) {
    inFlight++;
    socket.send(payload, port, host, () => { if (--inFlight === 0) next(); });
  }
  if (inFlight === 0) next();
}
function next() { if (sent < count) setImmediate(burst); else socket.close(); }
socket.bind(srcPort || 0, () => burst());
setTimeout(() => process.exit(3), 60000).unref();
`;

// TCP: one connection attempt; a refused connection still sends the SYN that rules log.
const TCP_CONNECTOR = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) });
socket.on('connect', () => socket.end());
socket.on('error', () => {});
socket.on('close', () => process.exit(0));
setTimeout(() => process.exit(0), 3000);
`;

function asUser(options: SendOptions, command: string[]): string[] {
  if (options.uid === undefined) return command;
  const gid = options.gid ?? options.uid;
  return ['setpriv', `--reuid=${options.uid}`, `--regid=${gid}`, '--clear-groups', ...command];
}

function inNamespace(lab: NetnsLab, ns: string, argv: string[]): void {
  execFileSync('ip', ['netns', 'exec', lab.name(ns), ...argv], { stdio: 'ignore', timeout: 90_000 });
}

export function sendUdp(lab: NetnsLab, ns: string, host: string, port: number, count = 1, size = 16, options: SendOptions = {}): void {
  const argv = [process.execPath, '-e', UDP_SENDER, host, String(port), String(count), String(size), String(options.srcPort ?? 0)];
  inNamespace(lab, ns, asUser(options, argv));
}

export function connectTcp(lab: NetnsLab, ns: string, host: string, port: number, options: SendOptions = {}): void {
  inNamespace(lab, ns, asUser(options, [process.execPath, '-e', TCP_CONNECTOR, host, String(port)]));
}

/** One ICMP (or ICMPv6, for an IPv6 host) echo request. */
export function ping(lab: NetnsLab, ns: string, host: string, count = 1): void {
  const args = ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1'];
  if (host.includes(':')) args.push('-6');
  try {
    inNamespace(lab, ns, [...args, host]);
  } catch {
    // No reply is fine: the request was sent, and that is what the rules log.
  }
}

// Servers for flows that need an answer: a TCP sink that reads until the peer closes, a UDP echo.
const TCP_SINK = `
const net = require('node:net');
net.createServer((s) => { s.on('data', () => {}); s.on('end', () => s.end()); s.on('error', () => {}); })
  .listen(Number(process.argv[1]), process.argv[2], () => process.stdout.write('ready\\n'));
setTimeout(() => process.exit(0), 600000).unref();
`;
const UDP_ECHO = `
const dgram = require('node:dgram');
const s = dgram.createSocket(process.argv[2].includes(':') ? 'udp6' : 'udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(Number(process.argv[1]), process.argv[2], () => process.stdout.write('ready\\n'));
setTimeout(() => process.exit(0), 600000).unref();
`;
// TCP: connect, send `bytes`, close, wait for the peer's close. Prints the local port.
const TCP_SENDER = `
const net = require('node:net');
const [host, port, bytes] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) }, () => {
  process.stdout.write(String(socket.localPort));
  socket.end(Buffer.alloc(Number(bytes), 0x62));
});
socket.on('data', () => {});
socket.on('close', () => process.exit(0));
socket.on('error', (e) => { console.error(e.message); process.exit(1); });
setTimeout(() => process.exit(2), 10000);
`;
// UDP: send `count` datagrams from `srcPort` and wait for each echo (bounded).
const UDP_EXCHANGE = `
const dgram = require('node:dgram');
const [host, port, count, size, srcPort] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
let got = 0;
s.on('message', () => { if (++got === Number(count)) { s.close(); process.exit(0); } });
s.bind(Number(srcPort), () => {
  for (let i = 0; i < Number(count); i++) s.send(Buffer.alloc(Number(size), 0x63), Number(port), host);
});
setTimeout(() => process.exit(2), 5000);
`;

/** Starts a long-running server in a namespace, resolved once it listens; kill it when done. */
export function startServer(
  lab: NetnsLab,
  ns: string,
  kind: 'tcp-sink' | 'udp-echo',
  port: number,
  address: string,
): Promise<ChildProcess> {
  const script = kind === 'tcp-sink' ? TCP_SINK : UDP_ECHO;
  const child = spawn('ip', ['netns', 'exec', lab.name(ns), process.execPath, '-e', script, String(port), address], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} on ${address}:${port} in ${ns} did not start: ${stderr}`));
    }, 10_000);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} on ${address}:${port} in ${ns} exited (${code}): ${stderr}`));
    });
  });
}

/** Sends `bytes` over one TCP connection and closes it; returns the local port used. */
export function sendTcp(lab: NetnsLab, ns: string, host: string, port: number, bytes: number): number {
  const out = execFileSync('ip', ['netns', 'exec', lab.name(ns), process.execPath, '-e', TCP_SENDER, host, String(port), String(bytes)], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return Number(out.trim());
}

/** Sends `count` UDP datagrams of `size` bytes from `srcPort` and waits for their echoes. */
export function udpExchange(lab: NetnsLab, ns: string, host: string, port: number, count: number, size: number, srcPort: number): void {
  execFileSync(
    'ip',
    ['netns', 'exec', lab.name(ns), process.execPath, '-e', UDP_EXCHANGE, host, String(port), String(count), String(size), String(srcPort)],
    { stdio: 'ignore', timeout: 15_000 },
  );
}

// UDP: one datagram to each of `count` ports from one socket: `count` distinct flows.
const UDP_FLOWS = `
const dgram = require('node:dgram');
const [host, firstPort, count] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
const payload = Buffer.alloc(8);
let sent = 0;
function burst() {
  let inFlight = 0;
  for (let i = 0; i < 256 && sent < count; i++, sent++) {
    inFlight++;
    socket.send(payload, firstPort + sent, host, () => { if (--inFlight === 0) next(); });
  }
}
function next() { if (sent < count) setImmediate(burst); else socket.close(); }
burst();
setTimeout(() => process.exit(3), 60000).unref();
`;

/** Opens `count` distinct UDP flows (one datagram each, to consecutive ports from `firstPort`). */
export function openUdpFlows(lab: NetnsLab, ns: string, host: string, firstPort: number, count: number): void {
  if (firstPort + count > 65536) throw new RangeError('openUdpFlows: ports past 65535');
  inNamespace(lab, ns, [process.execPath, '-e', UDP_FLOWS, host, String(firstPort), String(count)]);
}
