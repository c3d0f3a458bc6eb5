// IPv6 text as the kernel's %pI6 prints it: eight groups of four lower-case
// hex digits, nothing compressed ('fd77:0001:0000:…:0001').

const CACHE_MAX = 1024;
const cache = new Map<string, string>();

/** The %pI6 form of an address given in any RFC 4291 text form; the input itself when it does not parse. */
export function ipv6Full(text: string): string {
  const known = cache.get(text);
  if (known !== undefined) return known;
  const full = expand(text);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, full);
  return full;
}

function expand(text: string): string {
  const groups = new Array<string>(8);
  const gap = text.indexOf('::');
  const head = gap < 0 ? text : text.slice(0, gap);
  const tail = gap < 0 ? '' : text.slice(gap + 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  // A trailing dotted quad (::ffff:192.0.2.1) stands for two groups.
  const parts = right.length > 0 || gap >= 0 ? right : left;
  const last = parts.length > 0 ? parts[parts.length - 1] : '';
  if (last.includes('.')) {
    const q = last.split('.').map(Number);
    if (q.length !== 4 || q.some((n) => !(n >= 0 && n <= 255))) return text;
    parts.splice(parts.length - 1, 1, ((q[0] << 8) | q[1]).toString(16), ((q[2] << 8) | q[3]).toString(16));
  }
  const missing = 8 - left.length - right.length;
  if (gap < 0 ? left.length !== 8 : missing < 1) return text;
  let i = 0;
  for (const g of left) groups[i++] = g;
  if (gap >= 0) for (let k = 0; k < missing; k++) groups[i++] = '0';
  for (const g of right) groups[i++] = g;
  let out = '';
  for (let k = 0; k < 8; k++) {
    const g = groups[k];
    if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return text;
    out += (k === 0 ? '' : ':') + '0000'.slice(g.length) + g.toLowerCase();
  }
  return out;
}
