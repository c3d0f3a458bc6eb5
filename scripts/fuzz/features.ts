// Coverage guidance without instrumentation: the "features" of a decoded
// value are the key paths it has and the values of its discriminating keys
// (kind, error codes, events). An input whose output shows a feature never
// seen before reached new decoder code, so the engine keeps it as a parent.

const VALUE_KEYS = new Set([
  'kind',
  'error',
  'decodeError',
  'event',
  'reason',
  'protocol',
  'type',
  'code',
  'etherType',
  'hook',
  'family',
  'state',
]);
const MAX_DEPTH = 4;

/** Calls `emit` for each feature of `value`. */
export function features(value: unknown, emit: (feature: string) => void): void {
  walk(value, '', 0, emit);
}

function walk(value: unknown, path: string, depth: number, emit: (feature: string) => void): void {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return;
  if (ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    emit(`${path}[${value.length > 4 ? 'n' : value.length}]`);
    for (let i = 0; i < value.length && i < 2; i++) walk(value[i], `${path}[]`, depth + 1, emit);
    return;
  }
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const p = path ? `${path}.${key}` : key;
    emit(p);
    if (VALUE_KEYS.has(key) && (typeof v === 'string' || typeof v === 'number')) emit(`${p}=${v}`);
    else if (typeof v === 'object') walk(v, p, depth + 1, emit);
  }
}
