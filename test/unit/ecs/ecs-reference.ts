// Reads what the schema tests need from the ECS reference (fields.csv and
// ecs_flat.yml) without a CSV or YAML dependency.
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

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function loadFields(): Map<string, EcsField> {
  const rows = parseCsv(fs.readFileSync(referencePath('ecs', 'fields.csv'), 'utf8'));
  const header = rows[0];
  const iField = header.indexOf('Field');
  const iType = header.indexOf('Type');
  const iNorm = header.indexOf('Normalization');
  if (iField < 0 || iType < 0 || iNorm < 0) throw new Error(`fields.csv: unexpected header ${header.join(',')}`);
  const fields = new Map<string, EcsField>();
  for (const row of rows.slice(1)) {
    if (row.length < header.length) continue;
    fields.set(row[iField], { name: row[iField], type: row[iType], array: row[iNorm].split(/[,\s]+/).includes('array') });
  }
  return fields;
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

/**
 * Line-based reader of ecs_flat.yml for the named fields: top-level keys at
 * column 0, properties at 2 spaces, list items of allowed_values at '  - ' with
 * their keys at 4 spaces.
 */
export function loadFlatYaml(names: string[]): Map<string, FlatYamlField> {
  const lines = fs.readFileSync(referencePath('ecs', 'ecs_flat.yml'), 'utf8').split('\n');
  const wanted = new Set(names);
  const out = new Map<string, FlatYamlField>();
  let current: FlatYamlField | undefined;
  let section = '';
  let itemTypes: string[] | undefined;
  let inItemTypes = false;
  const unquote = (s: string) => s.trim().replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  for (const line of lines) {
    if (/^\S/.test(line)) {
      const key = unquote(line.replace(/:\s*$/, ''));
      current = wanted.has(key) ? { allowed: [], expectedEventTypes: new Map(), expected: [] } : undefined;
      if (current) out.set(key, current);
      section = '';
      continue;
    }
    if (!current) continue;
    const prop = /^ {2}([a-z_]+):\s*(.*)$/.exec(line);
    if (prop) {
      section = prop[1];
      if (section === 'pattern') current.pattern = unquote(prop[2]);
      if (section === 'type') current.type = unquote(prop[2]);
      continue;
    }
    if (section === 'expected_values') {
      const item = /^ {2}- (.+)$/.exec(line);
      if (item) current.expected.push(unquote(item[1]));
      continue;
    }
    if (section === 'allowed_values') {
      if (/^ {2}- /.test(line)) {
        itemTypes = [];
        inItemTypes = false;
      }
      const key = /^(?: {2}- | {4})([a-z_]+):\s*(.*)$/.exec(line);
      if (key) {
        inItemTypes = key[1] === 'expected_event_types';
        if (key[1] === 'name') {
          const name = unquote(key[2]);
          current.allowed.push(name);
          if (itemTypes && itemTypes.length > 0) current.expectedEventTypes.set(name, itemTypes);
        }
        continue;
      }
      const listItem = /^ {4}- (.+)$/.exec(line);
      if (listItem && inItemTypes && itemTypes) itemTypes.push(unquote(listItem[1]));
    }
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
