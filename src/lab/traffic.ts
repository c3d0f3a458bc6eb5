// Sends test traffic from inside a lab namespace: UDP and TCP through a
// short Node program, ICMP through ping. Every loop is bounded in count and
// each command in time.
import { execFileSync } from 'node:child_process';
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
