// The layer rules of src/ (ARCHITECTURE.md, "Layers"), as data, and a checker
// over the import graph. Used by test/unit/layers.test.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/**
 * Rank of each module group: a module may import only from groups of the same
 * or a lower rank. A group is a directory under src/ or a file at its root.
 */
export const LAYERS: Record<string, number> = {
  // Bytes and the kernel's framing; the ring's layout; process facts.
  packet: 0,
  netlink: 0,
  ring: 0,
  'bytes.ts': 0,
  'native.ts': 0,
  'node-version.ts': 0,
  'privileges.ts': 0,
  lab: 0,
  // The records every later stage takes.
  'records.ts': 1,
  // Decoders of the kernel's messages into records.
  nflog: 2,
  conntrack: 2,
  rtnl: 2,
  'datagram.ts': 2,
  // Which verdict and rule a log prefix names (shared by the formats).
  verdict: 3,
  // Formats: records into documents, lines, captures.
  ecs: 4,
  format: 4,
  pcap: 4,
  ipfix: 4, // IPFIX messages from flow records (and the exporter's options)
  // Outputs: where lines go.
  sink: 5,
  // Collection: options, the collector over the native reader and the ring.
  'options.ts': 6,
  'collector.ts': 6,
  netns: 6, // which namespaces to collect from (options' allNetns)
  // The public entry points.
  'decode.ts': 7,
  'index.ts': 7,
  // The command line.
  cli: 8,
};

export interface ImportEdge {
  from: string; // module path relative to src/, without extension
  to: string;
  typeOnly: boolean;
}

/** The group of a module path relative to src/ ('ecs/flow' → 'ecs', 'records' → 'records.ts'). */
export function groupOf(module: string): string {
  const slash = module.indexOf('/');
  return slash < 0 ? `${module}.ts` : module.slice(0, slash);
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'|require\('(\.[^']+)'\)/gm;

/** Relative imports of every .ts file under `srcDir`. */
export function importEdges(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        const from = relative(srcDir, path).replace(/\.ts$/, '');
        for (const m of readFileSync(path, 'utf8').matchAll(IMPORT)) {
          const spec = m[3] ?? m[4];
          let to = posix.normalize(posix.join(posix.dirname(from), spec));
          if (to.startsWith('..')) continue; // outside src/ (package.json)
          if (existsSync(join(srcDir, to)) && statSync(join(srcDir, to)).isDirectory()) to += '/index';
          edges.push({ from, to, typeOnly: m[2] !== undefined });
        }
      }
    }
  };
  walk(srcDir);
  return edges;
}

/** Imports that point up the layers, or from a group the table does not know. */
export function layerViolations(edges: ImportEdge[], layers: Record<string, number> = LAYERS): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const a = layers[groupOf(e.from)];
    const b = layers[groupOf(e.to)];
    if (a === undefined) out.push(`${e.from}: its group ${groupOf(e.from)} has no layer`);
    else if (b === undefined) out.push(`${e.to}: its group ${groupOf(e.to)} has no layer`);
    else if (b > a) out.push(`${e.from} (${groupOf(e.from)}, layer ${a}) imports ${e.to} (${groupOf(e.to)}, layer ${b})`);
  }
  return [...new Set(out)];
}

/** Cycles among modules through imports that exist at run time (`import type` is erased). */
export function runtimeCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.typeOnly) continue;
    const list = next.get(e.from) ?? [];
    list.push(e.to);
    next.set(e.from, list);
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (m: string): void => {
    state.set(m, 'open');
    stack.push(m);
    for (const n of next.get(m) ?? []) {
      if (state.get(n) === 'open') cycles.push([...stack.slice(stack.indexOf(n)), n]);
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of next.keys()) if (!state.has(m)) visit(m);
  return cycles;
}

export const SRC_DIR = join(dirname(dirname(__dirname)), 'src');
