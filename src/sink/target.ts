// What `--output` names: stdout, a file, a unix stream socket or a TCP peer.

export type SinkTarget =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number };

/**
 * Parses `-`, `FILE` (or `file:FILE`), `unix:PATH` (`unix:@NAME` for Linux's
 * abstract namespace) and `tcp:HOST:PORT` (`tcp:[::1]:PORT` for IPv6).
 * Throws an Error whose message says what is wrong.
 */
export function parseSinkTarget(text: string): SinkTarget {
  if (text === '') throw new Error('output target is empty: give -, a file path, unix:PATH or tcp:HOST:PORT');
  if (text === '-') return { kind: 'stdout' };
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    if (path === '') throw new Error(`output target "${text}": file: needs a path`);
    return { kind: 'file', path };
  }
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '' || path === '@') throw new Error(`output target "${text}": unix: needs a socket path`);
    return { kind: 'unix', path };
  }
  if (text.startsWith('tcp:')) return parseTcp(text, text.slice('tcp:'.length));
  return { kind: 'file', path: text };
}

function parseTcp(text: string, rest: string): SinkTarget {
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`output target "${text}": an IPv6 address needs its closing ]`);
    host = rest.slice(1, close);
    if (rest[close + 1] !== ':') throw new Error(`output target "${text}": expected tcp:[ADDRESS]:PORT`);
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw new Error(`output target "${text}": expected tcp:HOST:PORT`);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(':')) throw new Error(`output target "${text}": write an IPv6 address in brackets: tcp:[${host}]:${portText}`);
  }
  if (host === '') throw new Error(`output target "${text}": the host is empty`);
  if (!/^[0-9]{1,5}$/.test(portText)) throw new Error(`output target "${text}": the port must be a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new Error(`output target "${text}": the port must be 1-65535`);
  return { kind: 'tcp', host, port };
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
      return target.host.includes(':') ? `tcp:[${target.host}]:${target.port}` : `tcp:${target.host}:${target.port}`;
  }
}
