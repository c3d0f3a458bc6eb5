// Syslog framing, pure functions over bytes: the RFC 3164 and RFC 5424
// headers, and how messages travel on a stream (RFC 6587 octet counting, or
// LF-terminated) or one per datagram (RFC 5426, truncated to a maximum).
// The message itself is any of the collector's line formats.

export type SyslogProtocol = 'rfc3164' | 'rfc5424';
export type SyslogFraming = 'octet-counting' | 'lf';

export const SYSLOG_PROTOCOLS: readonly SyslogProtocol[] = ['rfc3164', 'rfc5424'];
export const SYSLOG_FRAMINGS: readonly SyslogFraming[] = ['octet-counting', 'lf'];

/** RFC 5424 §6.2.1 facility codes (the names syslog.conf uses). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  'solaris-cron': 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** RFC 5424 §6.2.1 severities. */
export const SYSLOG_SEVERITIES: Readonly<Record<string, number>> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

export interface SyslogHeaderOptions {
  protocol: SyslogProtocol;
  facility: number;
  severity: number;
  /** HOSTNAME: printable ASCII without spaces. */
  hostname: string;
  /** RFC 3164 TAG / RFC 5424 APP-NAME. */
  appName: string;
  /**
   * RFC 3164 to the local socket: `<PRI>TIMESTAMP TAG: MSG` without HOSTNAME, as glibc's syslog()
   * writes to /dev/log (the local daemon adds its own host name and would read ours as the tag).
   */
  local?: boolean;
}

/**
 * The defaults make `--format log` read like the kernel's own LOG line through syslog:
 * facility kern, severity warning (the LOG target's default level 4), tag "kernel".
 */
export const SYSLOG_DEFAULTS = { protocol: 'rfc3164', facility: 0, severity: 4, appName: 'kernel' } as const;

/** A facility by name or number (0-23); throws with a message that lists the names. */
export function parseFacility(text: string): number {
  return parseCode(text, SYSLOG_FACILITIES, 23, 'facility');
}

/** A severity by name or number (0-7); 'warn', 'error', 'emergency' are accepted as syslog.conf does. */
export function parseSeverity(text: string): number {
  const alias: Record<string, string> = { warn: 'warning', error: 'err', emergency: 'emerg', panic: 'emerg', critical: 'crit' };
  return parseCode(alias[text] ?? text, SYSLOG_SEVERITIES, 7, 'severity');
}

function parseCode(text: string, names: Readonly<Record<string, number>>, max: number, what: string): number {
  if (/^[0-9]+$/.test(text) && Number(text) <= max) return Number(text);
  const code = names[text];
  if (code === undefined) throw new Error(`syslog ${what} '${text}' is not one of ${Object.keys(names).join(', ')} or 0-${max}`);
  return code;
}

/** Why a HOSTNAME or APP-NAME cannot go into a header, or null (RFC 5424 §6: PRINTUSASCII, 1-255 / 1-48 octets). */
export function headerFieldProblem(field: 'hostname' | 'appName', value: string): string | null {
  const max = field === 'hostname' ? 255 : 48;
  if (value.length === 0 || value.length > max) return `must be 1-${max} characters`;
  if (!/^[\x21-\x7e]+$/.test(value)) return 'must be printable ASCII without spaces';
  if (field === 'appName' && /[:[\]]/.test(value)) return "must not contain ':', '[' or ']' (RFC 3164 ends the TAG there)";
  return null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The header up to the message: `<PRI>Mmm dd hh:mm:ss HOST TAG: ` (RFC 3164, local time, as
 * syslogd writes it) or `<PRI>1 2026-12-03T06:10:42.123Z HOST APP - - - ` (RFC 5424, UTC).
 */
export function syslogHeader(options: SyslogHeaderOptions, date: Date): string {
  const pri = `<${options.facility * 8 + options.severity}>`;
  if (options.protocol === 'rfc5424') return `${pri}1 ${date.toISOString()} ${options.hostname} ${options.appName} - - - `;
  const day = date.getDate();
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  const host = options.local ? '' : `${options.hostname} `;
  return `${pri}${MONTHS[date.getMonth()]} ${day < 10 ? ` ${day}` : day} ${time} ${host}${options.appName}: `;
}

/** The longest prefix of bytes[start, end) that ends on a UTF-8 character boundary, at most max bytes. */
function utf8Cut(bytes: Buffer, start: number, end: number, max: number): number {
  if (end - start <= max) return end;
  let cut = start + max;
  // Back off continuation bytes (10xxxxxx): a character is never split.
  while (cut > start && (bytes[cut] & 0xc0) === 0x80) cut--;
  return cut;
}

/**
 * Frames the lines of chunks (each ending in '\n', as the line encoder makes them) as syslog messages.
 * The header is made once per second (RFC 3164) or millisecond (RFC 5424), not once per message.
 */
export class SyslogFramer {
  private headerKey = -1;
  private header = Buffer.alloc(0);

  constructor(
    private readonly options: SyslogHeaderOptions,
    private readonly now: () => number = Date.now,
  ) {}

  private currentHeader(): Buffer {
    const ms = this.now();
    const key = this.options.protocol === 'rfc5424' ? ms : Math.floor(ms / 1000);
    if (key !== this.headerKey) {
      this.headerKey = key;
      this.header = Buffer.from(syslogHeader(this.options, new Date(ms)), 'latin1');
    }
    return this.header;
  }

  /** Stream framing: `LEN SP HEADER MSG` each (octet counting) or `HEADER MSG LF` each, in one buffer. */
  frameStream(lines: Buffer, framing: SyslogFraming): Buffer {
    const header = this.currentHeader();
    const parts: Buffer[] = [];
    let start = 0;
    for (let end = lines.indexOf(0x0a, start); end >= 0; end = lines.indexOf(0x0a, start)) {
      const message = lines.subarray(start, end);
      if (framing === 'octet-counting') {
        parts.push(Buffer.from(`${header.length + message.length} `, 'latin1'), header, message);
      } else {
        // LF framing: the message ends at its newline, which the encoder already wrote.
        parts.push(header, lines.subarray(start, end + 1));
      }
      start = end + 1;
    }
    return Buffer.concat(parts);
  }

  /**
   * Datagram framing: one `HEADER MSG` per line, each at most maxBytes (the message cut on a UTF-8
   * character boundary). truncated counts the messages that were cut.
   */
  frameDatagrams(lines: Buffer, maxBytes: number): { frames: Buffer[]; truncated: number } {
    const header = this.currentHeader();
    const room = Math.max(0, maxBytes - header.length);
    const frames: Buffer[] = [];
    let truncated = 0;
    let start = 0;
    for (let end = lines.indexOf(0x0a, start); end >= 0; end = lines.indexOf(0x0a, start)) {
      const cut = utf8Cut(lines, start, end, room);
      if (cut < end) truncated++;
      const frame = Buffer.allocUnsafe(header.length + cut - start);
      header.copy(frame, 0);
      lines.copy(frame, header.length, start, cut);
      frames.push(frame);
      start = end + 1;
    }
    return { frames, truncated };
  }
}
