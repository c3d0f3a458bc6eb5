// Interface names for a capture read offline (--interface-names,
// --interface-names-file). An NFLOG entry carries interface indexes only; the
// kernel's LOG target prints the device's name, which only the capturing host
// knew. The operator gives the names; every format then uses them.
//
// A name is checked as the kernel's dev_valid_name() checks it
// (net/core/dev.c): 1 to 15 bytes (IFNAMSIZ 16 with the NUL), not "." or
// "..", no '/', ':' or whitespace.
import * as fs from 'node:fs';

/** IFNAMSIZ - 1. */
const LONGEST_NAME = 15;

/** Why `name` is not a valid interface name, or null. */
export function invalidInterfaceName(name: string): string | null {
  if (name.length === 0) return 'an empty name';
  if (Buffer.byteLength(name) > LONGEST_NAME) return `'${name}' is longer than ${LONGEST_NAME} bytes`;
  if (name === '.' || name === '..') return `'${name}' is not a name`;
  if (/[/:\s]/.test(name)) return `'${name}' holds '/', ':' or whitespace`;
  return null;
}

function index(text: string): number | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const n = Number(text);
  // Interface indexes are positive ints (dev_new_index).
  return n >= 1 && n <= 0x7fffffff ? n : null;
}

function add(names: Map<number, string>, indexText: string, name: string, where: string): void {
  const i = index(indexText);
  if (i === null) throw new Error(`${where}: '${indexText}' is not an interface index (1 to 2147483647)`);
  const bad = invalidInterfaceName(name);
  if (bad !== null) throw new Error(`${where}: ${bad}`);
  const known = names.get(i);
  if (known !== undefined && known !== name) throw new Error(`${where}: index ${i} is both '${known}' and '${name}'`);
  names.set(i, name);
}

/** `2=eth0,10=wlan0` into `names` (returned). Throws with a message naming the bad part. */
export function parseInterfaceNames(text: string, names = new Map<number, string>()): Map<number, string> {
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part.length === 0) continue;
    const at = part.indexOf('=');
    if (at < 0) throw new Error(`--interface-names: '${part}' is not INDEX=NAME`);
    add(names, part.slice(0, at).trim(), part.slice(at + 1).trim(), '--interface-names');
  }
  return names;
}

// `ip link` / `ip -o link` lines: "2: eth0: <BROADCAST,…" or "5: eth0.10@eth0: <…".
const IP_LINK_LINE = /^([0-9]+):\s+([^\s:@]+)(?:@[^\s:]*)?:\s/;

/**
 * The names in a file's text: one `INDEX=NAME` or `INDEX NAME` a line, or
 * what `ip link` / `ip -o link` prints on the capturing host (its
 * indented continuation lines are skipped). `#` starts a comment.
 */
export function parseInterfaceNamesFile(text: string, file: string, names = new Map<number, string>()): Map<number, string> {
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    // ip link's second line of each link ("    link/ether …") is indented.
    if (/^\s/.test(line)) continue;
    const where = `${file}:${n + 1}`;
    const ipLink = IP_LINK_LINE.exec(line);
    if (ipLink !== null) {
      add(names, ipLink[1], ipLink[2], where);
      continue;
    }
    const content = line.replace(/#.*/, '').trim();
    if (content.length === 0) continue;
    const pair = /^([^=\s]+)\s*(?:=|\s)\s*(\S+)$/.exec(content);
    if (pair === null) throw new Error(`${where}: '${content}' is not INDEX=NAME, INDEX NAME or a line of 'ip link'`);
    add(names, pair[1], pair[2], where);
  }
  return names;
}

/** Reads and parses a names file; errors name the file (and line). */
export function readInterfaceNamesFile(file: string, names = new Map<number, string>()): Map<number, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `--interface-names-file: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
    );
  }
  return parseInterfaceNamesFile(text, file, names);
}
