// The ECS reference facts the schema tests check against, from
// test/fixtures/reference/ecs.json (made by scripts/extract-reference.js from
// elastic/ecs's fields.csv and ecs_flat.yml; source and version inside).
import * as fs from 'node:fs';
import * as net from 'node:net';
import { expect } from 'vitest';
import { referencePath } from './reference';

export interface EcsField {
  name: string;
  type: string;
  /** Normalization column: 'array' when the field holds several values. */
  array: boolean;
}

export interface FlatYamlField {
  /** Names of allowed_values entries. */
  allowed: string[];
  /** expected_event_types per allowed value (event.category). */
  expectedEventTypes: Map<string, string[]>;
  /** expected_values list. */
  expected: string[];
  pattern?: string;
  type?: string;
}

interface EcsFixture {
  source: { project: string; version: string; commit: string };
  fields: Record<string, [string, boolean]>;
  values: Record<
    string,
    { allowed: string[]; expectedEventTypes: Record<string, string[]>; expected: string[]; pattern?: string; type?: string }
  >;
}

let fixture: EcsFixture | undefined;
function load(): EcsFixture {
  return (fixture ??= JSON.parse(fs.readFileSync(referencePath('ecs.json'), 'utf8')) as EcsFixture);
}

/** The ECS release the fixture was extracted from. */
export function ecsReferenceVersion(): string {
  return load().source.version;
}

export function loadFields(): Map<string, EcsField> {
  const fields = new Map<string, EcsField>();
  for (const [name, [type, array]] of Object.entries(load().fields)) fields.set(name, { name, type, array });
  return fields;
}

/** Allowed and expected values of the named fields (those the fixture keeps). */
export function loadFlatYaml(names: string[]): Map<string, FlatYamlField> {
  const out = new Map<string, FlatYamlField>();
  for (const name of names) {
    const v = load().values[name];
    if (!v) throw new Error(`${name}: not in test/fixtures/reference/ecs.json (add it to VALUE_FIELDS in scripts/extract-reference.js)`);
    out.set(name, { ...v, expectedEventTypes: new Map(Object.entries(v.expectedEventTypes)) });
  }
  return out;
}

let cachedFields: Map<string, EcsField> | undefined;

/** A nested document as dotted paths → leaf values (arrays are leaves). */
export function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.set(prefix, value);
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Expects `v` to be a value of the ECS type. */
export function checkValue(path: string, type: string, v: unknown): void {
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'match_only_text':
      expect(typeof v, path).toBe('string');
      break;
    case 'long':
      expect(Number.isSafeInteger(v), `${path}: ${String(v)}`).toBe(true);
      break;
    case 'integer':
      expect(Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31, `${path}: ${String(v)}`).toBe(true);
      break;
    case 'ip':
      expect(typeof v === 'string' && net.isIP(v) !== 0, `${path}: ${String(v)}`).toBe(true);
      break;
    case 'date':
      expect(typeof v === 'string' && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v)), `${path}: ${String(v)}`).toBe(true);
      break;
    case 'boolean':
      expect(typeof v, path).toBe('boolean');
      break;
    default:
      throw new Error(`${path}: ECS type ${type} not expected in these documents`);
  }
}

/**
 * Expects every field outside netfilter.* to be an ECS field (fields.csv)
 * with a value of its type; adds the paths seen to `seen`.
 */
export function checkDocument(doc: object, seen: Set<string>, fields: Map<string, EcsField> = (cachedFields ??= loadFields())): void {
  const flat = new Map<string, unknown>();
  flatten(doc, '', flat);
  for (const [path, value] of flat) {
    if (path === 'netfilter' || path.startsWith('netfilter.')) continue;
    seen.add(path);
    const field = fields.get(path);
    expect(field, `${path} is not in fields.csv`).toBeDefined();
    expect(value, path).not.toBeUndefined();
    expect(value, path).not.toBeNull();
    if (Array.isArray(value)) {
      expect(field!.array, `${path} is an array but ECS does not normalise it to one`).toBe(true);
      expect(value.length, path).toBeGreaterThan(0);
      for (const v of value) checkValue(path, field!.type, v);
    } else {
      checkValue(path, field!.type, value);
    }
  }
}
