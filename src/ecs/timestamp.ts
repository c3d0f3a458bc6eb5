// Microseconds since the epoch → ISO 8601 UTC with six fractional digits
// ('2026-11-21T21:44:50.123456Z'), the form ECS `date` fields accept.
//
// Per packet this is the hottest formatting step, and packets arrive in bursts
// that share the same second: the 'YYYY-MM-DDTHH:MM:SS.' part is computed once
// per second (two slots, so @timestamp and event.created can alternate between
// adjacent seconds) and only the microseconds are appended per call.

const PAD2: string[] = [];
const PAD3: string[] = [];
for (let i = 0; i < 1000; i++) {
  if (i < 100) PAD2.push(i < 10 ? '0' + i : String(i));
  PAD3.push(i < 10 ? '00' + i : i < 100 ? '0' + i : String(i));
}

let slotSecA = NaN;
let slotStrA = '';
let slotSecB = NaN;
let slotStrB = '';
let nextSlotA = true;
// The same prefixes as ASCII bytes, for writeTimestampUs.
let slotBytesA = Buffer.alloc(0);
let slotBytesB = Buffer.alloc(0);
let lastPrefixBytes = slotBytesA;
// 0..999 as three ASCII digits each: the microseconds in two lookups, not six divisions.
const DIGITS3 = new Uint8Array(3000);
for (let i = 0; i < 1000; i++) {
  DIGITS3[3 * i] = 0x30 + Math.floor(i / 100);
  DIGITS3[3 * i + 1] = 0x30 + (Math.floor(i / 10) % 10);
  DIGITS3[3 * i + 2] = 0x30 + (i % 10);
}

/** 'YYYY-MM-DDTHH:MM:SS.' for whole seconds since the epoch (proleptic Gregorian, UTC). */
function secondPrefix(secs: number): string {
  const days = Math.floor(secs / 86400);
  const sod = secs - days * 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  let y: string;
  if (year >= 0 && year <= 9999) {
    y = PAD2[Math.floor(year / 100)] + PAD2[year % 100];
  } else {
    // ISO 8601 expanded years, as Date#toISOString writes them.
    const abs = Math.abs(year);
    y = (year < 0 ? '-' : '+') + String(abs).padStart(6, '0');
  }
  const hh = Math.floor(sod / 3600);
  const mm = Math.floor((sod - hh * 3600) / 60);
  const ss = sod - hh * 3600 - mm * 60;
  return y + '-' + PAD2[month] + '-' + PAD2[day] + 'T' + PAD2[hh] + ':' + PAD2[mm] + ':' + PAD2[ss] + '.';
}

/**
 * Formats microseconds since the epoch (fractions are truncated) as
 * 'YYYY-MM-DDTHH:MM:SS.uuuuuuZ'. A non-finite input formats as the epoch.
 */
export function formatTimestampUs(us: number): string {
  const secs = timestampSeconds(us);
  const micros = timestampMicros(us, secs);
  return cachedPrefix(secs) + PAD3[Math.floor(micros / 1000)] + PAD3[micros % 1000] + 'Z';
}

/** The microseconds of us within its second `secs` (timestampSeconds(us)). */
function timestampMicros(us: number, secs: number): number {
  const micros = Number.isFinite(us) ? Math.floor(us - secs * 1e6) : 0;
  // Beyond 2^53 µs a double has no microseconds left: the remainder can fall outside [0, 1e6).
  return micros >= 0 && micros < 1e6 ? micros : 0;
}

/** formatTimestampUs(us) as ASCII bytes into out at `at`; returns the end. out needs MAX_TIMESTAMP_BYTES of room. */
export function writeTimestampUs(out: Uint8Array, at: number, us: number): number {
  const secs = timestampSeconds(us);
  const prefix = timestampPrefix(secs);
  const n = prefix.length;
  for (let i = 0; i < n; i++) out[at + i] = prefix[i];
  return writeTimestampMicros(out, at + n, us, secs);
}

/** The whole seconds of a timestamp: its 'YYYY-MM-DDTHH:MM:SS.' part is timestampPrefix(timestampSeconds(us)). */
export function timestampSeconds(us: number): number {
  return Number.isFinite(us) ? Math.floor(us / 1e6) : 0;
}

/** 'YYYY-MM-DDTHH:MM:SS.' of whole seconds as ASCII bytes (20 for the years 0 to 9999), kept for the next calls. */
export function timestampPrefix(secs: number): Uint8Array {
  if (secs === slotSecA) return slotBytesA;
  if (secs === slotSecB) return slotBytesB;
  cachedPrefix(secs);
  return lastPrefixBytes;
}

/** Length of timestampPrefix() for the years 0 to 9999. */
export const TIMESTAMP_PREFIX_BYTES = 20;

/** The rest of the timestamp after its prefix ('uuuuuuZ'), for us in second `secs` (timestampSeconds(us)); returns the end. */
export function writeTimestampMicros(out: Uint8Array, at: number, us: number, secs: number): number {
  const micros = timestampMicros(us, secs);
  const hi = 3 * Math.floor(micros / 1000);
  const lo = 3 * (micros % 1000);
  out[at] = DIGITS3[hi];
  out[at + 1] = DIGITS3[hi + 1];
  out[at + 2] = DIGITS3[hi + 2];
  out[at + 3] = DIGITS3[lo];
  out[at + 4] = DIGITS3[lo + 1];
  out[at + 5] = DIGITS3[lo + 2];
  out[at + 6] = 0x5a; // 'Z'
  return at + 7;
}

/** The longest timestamp: an expanded year ('+275760-09-13T00:00:00.000000Z'). */
export const MAX_TIMESTAMP_BYTES = 32;

/** The second's prefix from its slot (made when it has none); lastPrefixBytes is the same as bytes. */
function cachedPrefix(secs: number): string {
  if (secs === slotSecA) {
    lastPrefixBytes = slotBytesA;
    return slotStrA;
  }
  if (secs === slotSecB) {
    lastPrefixBytes = slotBytesB;
    return slotStrB;
  }
  const prefix = secondPrefix(secs);
  if (nextSlotA) {
    slotSecA = secs;
    slotStrA = prefix;
    lastPrefixBytes = slotBytesA = Buffer.from(prefix, 'latin1');
  } else {
    slotSecB = secs;
    slotStrB = prefix;
    lastPrefixBytes = slotBytesB = Buffer.from(prefix, 'latin1');
  }
  nextSlotA = !nextSlotA;
  return prefix;
}

/** Alias of formatTimestampUs. */
export const isoTimestamp = formatTimestampUs;
