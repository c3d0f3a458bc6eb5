// What `--output` names: stdout, a file, a unix stream socket, a TCP or TLS
// peer, or a syslog receiver (UDP, TCP, TLS or a local unix datagram socket).

export type SyslogTransport =
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'tcp' | 'tls'; host: string; port: number }
  | { kind: 'unix'; path: string };

export type SinkTarget =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'unix'; path: string }
  | { kind: 'tcp' | 'tls'; host: string; port: number }
  | { kind: 'syslog'; transport: SyslogTransport };

/** The local syslog socket (`--output syslog`). */
export const DEV_LOG = '/dev/log';

const TARGETS = '-, a file path, unix:PATH, tcp:HOST:PORT, tls:HOST:PORT or syslog[:udp|tcp|tls:HOST[:PORT] | :unix:PATH]';

/**
 * Parses `-`, `FILE` (or `file:FILE`), `unix:PATH` (`unix:@NAME` for Linux's
 * abstract namespace), `tcp:HOST:PORT` and `tls:HOST:PORT` (`[::1]:PORT` for IPv6),
 * `syslog` (the local /dev/log), `syslog:unix:PATH`, `syslog:udp:HOST[:PORT]`,
 * `syslog:tcp:HOST[:PORT]` (port 514 by default) and `syslog:tls:HOST[:PORT]` (6514, RFC 5425).
 * Throws an Error whose message says what is wrong.
 */
export function parseSinkTarget(text: string): SinkTarget {
  if (text === '') throw new Error(`output target is empty: give ${TARGETS}`);
  if (text === '-') return { kind: 'stdout' };
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    if (path === '') throw new Error(`output target "${text}": file: needs a path`);
    return { kind: 'file', path };
  }
  if (text.startsWith('unix:')) return { kind: 'unix', path: unixPath(text, text.slice('unix:'.length)) };
  if (text.startsWith('tcp:')) return { kind: 'tcp', ...parseHostPort(text, 'tcp:') };
  if (text.startsWith('tls:')) return { kind: 'tls', ...parseHostPort(text, 'tls:') };
  if (text === 'syslog') return { kind: 'syslog', transport: { kind: 'unix', path: DEV_LOG } };
  if (text.startsWith('syslog:')) return { kind: 'syslog', transport: parseSyslogTransport(text, text.slice('syslog:'.length)) };
  return { kind: 'file', path: text };
}

function unixPath(text: string, path: string): string {
  if (path === '' || path === '@') throw new Error(`output target "${text}": unix: needs a socket path`);
  return path;
}

function parseSyslogTransport(text: string, rest: string): SyslogTransport {
  const colon = rest.indexOf(':');
  const kind = colon < 0 ? rest : rest.slice(0, colon);
  const where = colon < 0 ? '' : rest.slice(colon + 1);
  if (kind === 'unix') return { kind: 'unix', path: unixPath(text, where) };
  if (kind === 'udp' || kind === 'tcp' || kind === 'tls') {
    if (where === '') throw new Error(`output target "${text}": syslog:${kind}: needs HOST[:PORT]`);
    const address = parseHostPort(text, `syslog:${kind}:`, kind === 'tls' ? 6514 : 514);
    return kind === 'udp' ? { kind, ...address } : { kind, ...address };
  }
  throw new Error(`output target "${text}": syslog transports are udp, tcp, tls and unix (syslog:udp:HOST[:PORT], syslog:unix:/dev/log)`);
}

/** HOST:PORT or [IPv6]:PORT; the port may be left out when there is a default. */
function parseHostPort(text: string, scheme: string, defaultPort?: number): { host: string; port: number } {
  const rest = text.slice(scheme.length);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`output target "${text}": an IPv6 address needs its closing ]`);
    host = rest.slice(1, close);
    if (close + 1 === rest.length && defaultPort !== undefined) portText = undefined;
    else if (rest[close + 1] !== ':') throw new Error(`output target "${text}": expected ${scheme}[ADDRESS]:PORT`);
    else portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) {
      if (defaultPort === undefined) throw new Error(`output target "${text}": expected ${scheme}HOST:PORT`);
      host = rest;
    } else {
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
      if (host.includes(':')) throw new Error(`output target "${text}": write an IPv6 address in brackets: ${scheme}[${host}]:${portText}`);
    }
  }
  if (host === '') throw new Error(`output target "${text}": the host is empty`);
  if (portText === undefined) return { host, port: defaultPort as number };
  if (!/^[0-9]{1,5}$/.test(portText)) throw new Error(`output target "${text}": the port must be a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new Error(`output target "${text}": the port must be 1-65535`);
  return { host, port };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The target written back as `--output` takes it, for messages and stats. */
export function describeSinkTarget(target: SinkTarget): string {
  switch (target.kind) {
    case 'stdout':
      return '-';
    case 'file':
      return target.path;
    case 'unix':
      return `unix:${target.path}`;
    case 'tcp':
    case 'tls':
      return `${target.kind}:${hostPort(target.host, target.port)}`;
    case 'syslog': {
      const t = target.transport;
      return t.kind === 'unix' ? `syslog:unix:${t.path}` : `syslog:${t.kind}:${hostPort(t.host, t.port)}`;
    }
  }
}
