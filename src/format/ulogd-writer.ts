// What ulogd2's JSON output plugin (ulogd_output_JSON.c, 2.0.8, with jansson)
// writes around the keys: "@version", "timestamp", "dvc", and the byte form of
// one line — keys in insertion order, ", " and ": " separators, jansson's
// string escapes.

/** Options of the ulogd JSON formatters: ulogd's own settings, and values that depend on ulogd's host. */
export interface UlogdJsonOptions {
  /** ulogd JSON `device`: the "dvc" value. Default 'Netfilter'. */
  device?: string;
  /** ulogd JSON `timestamp`: write the "timestamp" key. Default true. */
  timestamp?: boolean;
  /** ulogd JSON `eventv1`: "@version": 1 first, and "@timestamp" instead of "timestamp". Default false. */
  eventV1?: boolean;
  /** ulogd JSON `boolean_label`: "action": "allowed" (label ≠ 0) or "blocked" instead of "raw.label". Default false. */
  booleanLabel?: boolean;
  /** ulogd NFLOG `numeric_label`: the "raw.label" value. Default 0. */
  label?: number;
  /**
   * Offset of ulogd's local time zone from UTC in minutes (ulogd prints local time).
   * Default: this process's offset (TZ) at that instant.
   */
  utcOffsetMinutes?: number;
  /**
   * ulogd's own clock, µs since the epoch, where ulogd reads it instead of a kernel time: a flow's
   * "timestamp", a NEW flow's start and a DESTROY's end without kernel conntrack timestamps, and a
   * packet's oob.time without a kernel timestamp. Default: the record's receivedUs.
   */
  nowUs?: number;
}

/** Builds one line; keys are appended in the order ulogd's JSON plugin meets them. */
export class UlogdLine {
  private text = '';

  int(key: string, value: number): void {
    this.text += (this.text === '' ? '{"' : ', "') + key + '": ' + String(value);
  }

  /** A string given as JS text. */
  str(key: string, value: string): void {
    this.text += (this.text === '' ? '{"' : ', "') + key + '": ' + janssonString(value);
  }

  /**
   * A string the kernel gave as bytes (each char one byte, 0–255). jansson refuses
   * invalid UTF-8 (json_string returns NULL), and the key is then missing.
   */
  bytes(key: string, value: string): void {
    const text = utf8Text(value);
    if (text !== null) this.str(key, text);
  }

  /** "@version", "timestamp" / "@timestamp" and "dvc": what ulogd writes before any key. */
  head(options: UlogdJsonOptions, seconds: number, micros: number | undefined): void {
    if (options.eventV1) this.int('@version', 1);
    if (options.timestamp ?? true) {
      this.str(options.eventV1 ? '@timestamp' : 'timestamp', ulogdTime(seconds, micros, options.utcOffsetMinutes));
    }
    this.str('dvc', options.device ?? 'Netfilter');
  }

  /** raw.label, or with boolean_label the "action" in its place. */
  label(options: UlogdJsonOptions): void {
    const label = (options.label ?? 0) & 0xff;
    if (options.booleanLabel) this.str('action', label !== 0 ? 'allowed' : 'blocked');
    else this.int('raw.label', label);
  }

  done(): string {
    return this.text === '' ? '{}' : this.text + '}';
  }
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * ulogd's "timestamp": local time as %04d-%02d-%02dT%02d:%02d:%02d, then .%06u when
 * there is a microsecond part, then the zone as +hhmm. ulogd 2.0.8 caches the zone
 * with an assignment where it meant a comparison: at UTC (offset 0) it prints no zone.
 */
export function ulogdTime(seconds: number, micros: number | undefined, utcOffsetMinutes?: number): string {
  const offsetMinutes = utcOffsetMinutes ?? -new Date(seconds * 1000).getTimezoneOffset();
  const d = new Date((seconds + offsetMinutes * 60) * 1000);
  let text =
    String(d.getUTCFullYear()).padStart(4, '0') +
    '-' +
    pad2(d.getUTCMonth() + 1) +
    '-' +
    pad2(d.getUTCDate()) +
    'T' +
    pad2(d.getUTCHours()) +
    ':' +
    pad2(d.getUTCMinutes()) +
    ':' +
    pad2(d.getUTCSeconds());
  if (micros !== undefined) text += '.' + String(micros).padStart(6, '0');
  if (offsetMinutes !== 0) {
    // "%+03d%02d" of the hours (truncated toward zero) and the absolute minutes.
    const offsetSeconds = (offsetMinutes * 60) % 86400;
    const hours = Math.trunc(offsetSeconds / 3600);
    const minutes = Math.floor(Math.abs(offsetSeconds) / 60) % 60;
    // The sign is the hours' sign: ulogd writes -00:30 as +0030.
    text += (hours < 0 ? '-' : '+') + pad2(Math.abs(hours)) + pad2(minutes);
  }
  return text;
}

/** A JSON string as jansson dumps it: ", \, \b \f \n \r \t escaped, other controls as \u00XX (upper case). */
export function janssonString(value: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += value.slice(from, i) + escapeChar(c);
    from = i + 1;
  }
  return out + value.slice(from) + '"';
}

function escapeChar(c: number): string {
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    default:
      return '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
}

/**
 * The text of bytes (one char per byte) read as UTF-8, or null when they are not
 * valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF included).
 */
export function utf8Text(bytes: string): string | null {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return bytes;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes.charCodeAt(i);
    if (b0 > 0xff) return null; // not a byte string
    if (b0 < 0x80) {
      out += bytes[i];
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return null;
    }
    if (i + need >= bytes.length) return null;
    for (let k = 1; k <= need; k++) {
      const b = bytes.charCodeAt(i + k);
      if ((b & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}
