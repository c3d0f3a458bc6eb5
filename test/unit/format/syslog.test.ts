import { describe, expect, it } from 'vitest';
import { headerFieldProblem, parseFacility, parseSeverity, syslogHeader, SyslogFramer } from '../../../src/format/syslog';

// 2026-12-03T06:10:42.123Z; RFC 3164's timestamp is local time, so the tests run it through the same Date.
const AT = Date.UTC(2026, 11, 3, 6, 10, 42, 123);
const local = new Date(AT);
const stamp3164 = `Dec ${String(local.getDate()).padStart(2, ' ')} ${String(local.getHours()).padStart(2, '0')}:10:42`;
const base = { protocol: 'rfc3164', facility: 0, severity: 4, hostname: 'gw', appName: 'kernel' } as const;

describe('syslog headers', () => {
  it('RFC 3164: <PRI>Mmm dd hh:mm:ss HOST TAG: (a day below 10 padded with a space)', () => {
    expect(syslogHeader(base, new Date(AT))).toBe(`<4>${stamp3164} gw kernel: `);
    expect(syslogHeader(base, new Date(2026, 0, 5, 7, 8, 9))).toBe('<4>Jan  5 07:08:09 gw kernel: ');
    // To the local socket, as glibc's syslog() writes: no host name.
    expect(syslogHeader({ ...base, local: true }, new Date(2026, 0, 5, 7, 8, 9))).toBe('<4>Jan  5 07:08:09 kernel: ');
  });

  it('RFC 5424: <PRI>1 TIMESTAMP HOST APP - - - (UTC, milliseconds)', () => {
    expect(syslogHeader({ ...base, protocol: 'rfc5424', facility: 23, severity: 7 }, new Date(AT))).toBe(
      '<191>1 2026-12-03T06:10:42.123Z gw kernel - - - ',
    );
  });

  it('facilities and severities by name or number', () => {
    expect(parseFacility('kern')).toBe(0);
    expect(parseFacility('local7')).toBe(23);
    expect(parseFacility('16')).toBe(16);
    expect(() => parseFacility('24')).toThrow(/not one of kern, user/);
    expect(() => parseFacility('lokal0')).toThrow(/'lokal0'/);
    expect(parseSeverity('warning')).toBe(4);
    expect(parseSeverity('warn')).toBe(4);
    expect(parseSeverity('err')).toBe(3);
    expect(() => parseSeverity('8')).toThrow(/0-7/);
  });

  it('host names and app names that a header cannot carry', () => {
    expect(headerFieldProblem('hostname', 'gw-1.example')).toBeNull();
    expect(headerFieldProblem('hostname', 'gw 1')).toMatch(/without spaces/);
    expect(headerFieldProblem('appName', 'a'.repeat(49))).toMatch(/1-48/);
    expect(headerFieldProblem('appName', 'fw:1')).toMatch(/':'/);
  });
});

describe('SyslogFramer', () => {
  const lines = Buffer.from('first\nsecond é\n');

  it('octet counting: LEN SP HEADER MSG, the length in bytes', () => {
    const framer = new SyslogFramer({ ...base, protocol: 'rfc5424' }, () => AT);
    const header = '<4>1 2026-12-03T06:10:42.123Z gw kernel - - - ';
    const first = `${header}first`;
    const second = `${header}second é`;
    expect(framer.frameStream(lines, 'octet-counting').toString()).toBe(`${first.length} ${first}${Buffer.byteLength(second)} ${second}`);
  });

  it('LF framing: HEADER MSG LF', () => {
    const framer = new SyslogFramer(base, () => AT);
    expect(framer.frameStream(lines, 'lf').toString()).toBe(`<4>${stamp3164} gw kernel: first\n<4>${stamp3164} gw kernel: second é\n`);
  });

  it('datagrams: one per line, cut to the maximum on a character boundary, counted', () => {
    const framer = new SyslogFramer(base, () => AT);
    const header = `<4>${stamp3164} gw kernel: `;
    // Room for 'second ' and one byte of 'é' (2 bytes): the cut backs off to before it.
    const { frames, truncated } = framer.frameDatagrams(lines, header.length + 8);
    expect(frames.map((f) => f.toString())).toEqual([`${header}first`, `${header}second `]);
    expect(truncated).toBe(1);
    expect(framer.frameDatagrams(lines, 8192).truncated).toBe(0);
  });

  it('makes the header once per second (RFC 3164)', () => {
    let now = AT;
    const framer = new SyslogFramer(base, () => now);
    const a = framer.frameDatagrams(Buffer.from('x\n'), 100).frames[0].toString();
    now += 500;
    expect(framer.frameDatagrams(Buffer.from('x\n'), 100).frames[0].toString()).toBe(a);
    now += 1000;
    expect(framer.frameDatagrams(Buffer.from('x\n'), 100).frames[0].toString()).not.toBe(a);
  });
});
