// Variants of a record for the line template tests (test/unit/ecs/*-line.test.ts):
// after a run of one record has made its template, each variant that changes
// one field must still get its own line, never the template's.

type Json = Record<string, unknown>;

/** A copy of `base` with the value at `path` changed: a number +1, a string extended, a boolean flipped, or set to `value`. */
export function changedAt<T>(base: T, path: string[], value?: unknown): T {
  const copy = structuredClone(base) as unknown as Json;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Json;
  const last = path[path.length - 1];
  const old = at[last];
  if (value !== undefined) at[last] = value;
  else if (typeof old === 'number') at[last] = old + 1;
  else if (typeof old === 'string') at[last] = old + '9';
  else if (typeof old === 'boolean') at[last] = !old;
  return copy as unknown as T;
}

/** One copy of `base` per leaf value, that leaf changed as changedAt does (`kind`, which tells layers apart, excepted). */
export function leafVariants<T>(base: T): T[] {
  const out: T[] = [];
  const walk = (value: unknown, path: string[]): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...path, String(i)]);
    } else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    // Changing `kind` makes no valid record.
    else if (value !== undefined && path[path.length - 1] !== 'kind') out.push(changedAt(base, path));
  };
  walk(base, []);
  return out;
}
