#!/usr/bin/env node
// @ts-check
// Extracts the facts the tests check against from the public reference data
// into test/fixtures/reference/, so no test reads anything outside the repo.
//
//   node scripts/extract-reference.js REFERENCE_DIR
//
// REFERENCE_DIR holds elastic/ecs's generated/csv/fields.csv and
// generated/ecs/ecs_flat.yml under ecs/, and corelight/community-id-spec's
// baseline/*.json under community-id/. Rerun after refreshing them; the
// versions it records come from its SOURCES table below (update it too).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'reference');

const SOURCES = {
  ecs: {
    project: 'elastic/ecs',
    version: '9.5.0-dev',
    commit: 'b85f7573',
    files: ['generated/csv/fields.csv', 'generated/ecs/ecs_flat.yml'],
  },
  communityId: {
    project: 'corelight/community-id-spec',
    commit: 'b1fe530f',
    files: ['baseline/baseline_deflt.json', 'baseline/baseline_nob64.json', 'baseline/baseline_seed1.json'],
  },
};

/** Fields whose allowed or expected values the schema tests check. */
const VALUE_FIELDS = ['event.kind', 'event.category', 'event.type', 'event.outcome', 'network.direction', 'source.mac', 'destination.mac'];

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Every field: name → [type, normalised to an array]. */
function extractFields(csvText) {
  const rows = parseCsv(csvText);
  const header = rows[0];
  const iField = header.indexOf('Field');
  const iType = header.indexOf('Type');
  const iNorm = header.indexOf('Normalization');
  if (iField < 0 || iType < 0 || iNorm < 0) throw new Error(`fields.csv: unexpected header ${header.join(',')}`);
  /** @type {Record<string, [string, boolean]>} */
  const fields = {};
  for (const row of rows.slice(1)) {
    if (row.length < header.length) continue;
    fields[row[iField]] = [row[iType], row[iNorm].split(/[,\s]+/).includes('array')];
  }
  return fields;
}

/**
 * Allowed values, expected values, pattern and type of the named fields, read
 * line by line from ecs_flat.yml: top-level keys at column 0, properties at 2
 * spaces, list items of allowed_values at '  - ' with their keys at 4 spaces.
 */
function extractValues(yamlText, names) {
  const wanted = new Set(names);
  /** @type {Record<string, {allowed: string[], expectedEventTypes: Record<string, string[]>, expected: string[], pattern?: string, type?: string}>} */
  const out = {};
  /** @type {{ allowed: string[]; expectedEventTypes: Record<string, string[]>; expected: string[]; pattern?: string; type?: string } | undefined} */
  let current;
  let section = '';
  /** @type {string[] | undefined} */
  let itemTypes;
  let inItemTypes = false;
  const unquote = (/** @type {string} */ s) =>
    s
      .trim()
      .replace(/^'(.*)'$/, '$1')
      .replace(/^"(.*)"$/, '$1');
  for (const line of yamlText.split('\n')) {
    if (/^\S/.test(line)) {
      const key = unquote(line.replace(/:\s*$/, ''));
      current = wanted.has(key) ? { allowed: [], expectedEventTypes: {}, expected: [] } : undefined;
      if (current) out[key] = current;
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
    } else if (section === 'allowed_values') {
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
          if (itemTypes && itemTypes.length > 0) current.expectedEventTypes[name] = itemTypes;
        }
        continue;
      }
      const listItem = /^ {4}- (.+)$/.exec(line);
      if (listItem && inItemTypes && itemTypes) itemTypes.push(unquote(listItem[1]));
    }
  }
  for (const name of names) if (!out[name]) throw new Error(`ecs_flat.yml: no field ${name}`);
  return out;
}

function main() {
  if (process.argv[2] === undefined) {
    console.error('usage: node scripts/extract-reference.js REFERENCE_DIR (holding ecs/ and community-id/, see the header)');
    process.exit(2);
  }
  const ref = path.resolve(process.argv[2]);
  if (!fs.existsSync(path.join(ref, 'ecs', 'fields.csv'))) {
    console.error(`extract-reference: ${ref}/ecs/fields.csv not found (pass the reference directory as the argument)`);
    process.exit(2);
  }
  fs.mkdirSync(path.join(OUT, 'community-id'), { recursive: true });
  const ecs = {
    source: SOURCES.ecs,
    fields: extractFields(fs.readFileSync(path.join(ref, 'ecs', 'fields.csv'), 'utf8')),
    values: extractValues(fs.readFileSync(path.join(ref, 'ecs', 'ecs_flat.yml'), 'utf8'), VALUE_FIELDS),
  };
  // One field a line: small diffs when the reference is refreshed.
  const fieldLines = Object.entries(ecs.fields).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const text =
    `{\n "source": ${JSON.stringify(ecs.source)},\n "values": ${JSON.stringify(ecs.values)},\n` +
    ` "fields": {\n${fieldLines.join(',\n')}\n }\n}\n`;
  fs.writeFileSync(path.join(OUT, 'ecs.json'), text);
  for (const file of SOURCES.communityId.files) {
    const name = path.basename(file);
    const vectors = JSON.parse(fs.readFileSync(path.join(ref, 'community-id', name), 'utf8'));
    fs.writeFileSync(path.join(OUT, 'community-id', name), JSON.stringify(vectors, null, 1) + '\n');
  }
  console.log(
    `extract-reference: ${Object.keys(ecs.fields).length} ECS fields, ${VALUE_FIELDS.length} with values, ` +
      `${SOURCES.communityId.files.length} Community ID vector files → ${path.relative(ROOT, OUT)}/`,
  );
}

main();
