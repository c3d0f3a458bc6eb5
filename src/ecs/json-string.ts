// JSON string literals for the hand-written ECS lines: the same text as
// JSON.stringify, without its call for the plain ASCII most values are.

/** A JSON string literal; plain ASCII without quotes or backslashes (most values) is written as is. */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/** A JSON array of strings. */
export function jsonStrings(list: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ',') + jsonString(list[i]);
  return out + ']';
}
