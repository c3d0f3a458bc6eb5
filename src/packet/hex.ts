// Byte-to-text tables, so formatting never calls toString(16) or pads per
// byte. String.fromCharCode with several arguments builds one flat string,
// which is much cheaper than concatenating two-character pieces.

function table(fn: (b: number) => string): readonly string[] {
  const out: string[] = new Array<string>(256);
  for (let b = 0; b < 256; b++) out[b] = fn(b);
  return out;
}

/** '00'…'ff'. */
export const HEX_LOWER = table((b) => (b < 16 ? '0' : '') + b.toString(16));
/** '00'…'FF'. */
export const HEX_UPPER = table((b) => (b < 16 ? '0' : '') + b.toString(16).toUpperCase());
/** '0'…'ff', no padding. */
export const HEX_SHORT = table((b) => b.toString(16));
/** '0'…'255'. */
export const DECIMAL = table((b) => String(b));
/** '0.'…'255.'. */
export const DECIMAL_DOT = table((b) => String(b) + '.');

/** Character codes of the hex digits 0-9a-f. */
export const LOWER_DIGIT_CODES: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Character codes of the hex digits 0-9A-F. */
export const UPPER_DIGIT_CODES: readonly number[] = Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0));

/** Upper-case hex of bytes[start, end); '' when the range is empty. */
export function hexUpper(bytes: Uint8Array, start: number, end: number): string {
  const H = UPPER_DIGIT_CODES;
  const chars = String.fromCharCode;
  let s = '';
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const a = bytes[i];
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const d = bytes[i + 3];
    s += chars(H[a >> 4], H[a & 15], H[b >> 4], H[b & 15], H[c >> 4], H[c & 15], H[d >> 4], H[d & 15]);
  }
  for (; i < end; i++) s += HEX_UPPER[bytes[i]];
  return s;
}
