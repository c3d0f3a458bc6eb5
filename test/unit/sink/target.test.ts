import { describe, expect, it } from 'vitest';
import { describeSinkTarget, parseSinkTarget } from '../../../src/sink';

describe('parseSinkTarget', () => {
  it('reads stdout, files, unix and tcp targets', () => {
    expect(parseSinkTarget('-')).toEqual({ kind: 'stdout' });
    expect(parseSinkTarget('/var/log/x.ndjson')).toEqual({ kind: 'file', path: '/var/log/x.ndjson' });
    expect(parseSinkTarget('relative.ndjson')).toEqual({ kind: 'file', path: 'relative.ndjson' });
    expect(parseSinkTarget('file:tcp:odd-name')).toEqual({ kind: 'file', path: 'tcp:odd-name' });
    expect(parseSinkTarget('unix:/run/x.sock')).toEqual({ kind: 'unix', path: '/run/x.sock' });
    expect(parseSinkTarget('unix:@abstract')).toEqual({ kind: 'unix', path: '@abstract' });
    expect(parseSinkTarget('tcp:127.0.0.1:5140')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5140 });
    expect(parseSinkTarget('tcp:logs.example:1')).toEqual({ kind: 'tcp', host: 'logs.example', port: 1 });
    expect(parseSinkTarget('tcp:[::1]:65535')).toEqual({ kind: 'tcp', host: '::1', port: 65535 });
  });

  it('reads tls and syslog targets, with the syslog ports by default', () => {
    expect(parseSinkTarget('tls:logs.example:6514')).toEqual({ kind: 'tls', host: 'logs.example', port: 6514 });
    expect(parseSinkTarget('syslog')).toEqual({ kind: 'syslog', transport: { kind: 'unix', path: '/dev/log' } });
    expect(parseSinkTarget('syslog:unix:/run/x.sock')).toEqual({ kind: 'syslog', transport: { kind: 'unix', path: '/run/x.sock' } });
    expect(parseSinkTarget('syslog:udp:10.0.0.1')).toEqual({ kind: 'syslog', transport: { kind: 'udp', host: '10.0.0.1', port: 514 } });
    expect(parseSinkTarget('syslog:tcp:[::1]')).toEqual({ kind: 'syslog', transport: { kind: 'tcp', host: '::1', port: 514 } });
    expect(parseSinkTarget('syslog:tls:logs.example')).toEqual({
      kind: 'syslog',
      transport: { kind: 'tls', host: 'logs.example', port: 6514 },
    });
    expect(parseSinkTarget('syslog:tcp:logs:601')).toEqual({ kind: 'syslog', transport: { kind: 'tcp', host: 'logs', port: 601 } });
    expect(() => parseSinkTarget('syslog:sctp:x')).toThrow(/udp, tcp, tls and unix/);
    expect(() => parseSinkTarget('syslog:udp')).toThrow(/needs HOST/);
    expect(() => parseSinkTarget('tls:host')).toThrow(/tls:HOST:PORT/);
  });

  it('says what is wrong with a bad target', () => {
    expect(() => parseSinkTarget('')).toThrow(/empty/);
    expect(() => parseSinkTarget('unix:')).toThrow(/needs a socket path/);
    expect(() => parseSinkTarget('file:')).toThrow(/needs a path/);
    expect(() => parseSinkTarget('tcp:host')).toThrow(/tcp:HOST:PORT/);
    expect(() => parseSinkTarget('tcp::5140')).toThrow(/host is empty/);
    expect(() => parseSinkTarget('tcp:h:port')).toThrow(/port must be a number/);
    expect(() => parseSinkTarget('tcp:h:0')).toThrow(/1-65535/);
    expect(() => parseSinkTarget('tcp:h:65536')).toThrow(/1-65535/);
    expect(() => parseSinkTarget('tcp:::1:80')).toThrow(/brackets: tcp:\[::1\]:80/);
    expect(() => parseSinkTarget('tcp:[::1:80')).toThrow(/closing \]/);
    expect(() => parseSinkTarget('tcp:[::1]80')).toThrow(/tcp:\[ADDRESS\]:PORT/);
  });

  it('writes targets back as --output takes them', () => {
    for (const text of [
      '-',
      '/tmp/a',
      'unix:/run/s',
      'tcp:10.0.0.1:9',
      'tcp:[::1]:9',
      'tls:h:1',
      'syslog:unix:/dev/log',
      'syslog:udp:h:514',
      'syslog:tls:[::1]:6514',
    ]) {
      expect(describeSinkTarget(parseSinkTarget(text))).toBe(text);
    }
  });
});
