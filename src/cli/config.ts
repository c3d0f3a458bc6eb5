// --config FILE: the command line's options from a YAML file. YAML because
// operators edit it by hand and comment it (Kubernetes, Prometheus, Ansible
// all use it); the `yaml` package because it is maintained, has no
// dependencies, and says where each node is, so every error names the line.
//
// One definition of the options: a key is a flag's name without "--", and its
// value is turned into that flag's argument and parsed by parseArgs, so the
// file accepts exactly what the flags accept, with the same checks. Lists
// become comma-separated values; a map (label, interface-names) repeats the
// flag with KEY=VALUE; `true` gives a switch. `outputs:` is a list of outputs,
// each with the output flags' keys. Flags on the command line override the
// file's keys of the same name (and --output replaces its outputs).
import * as fs from 'node:fs';
import type { LineCounter, Node } from 'yaml';
import {
  checkFlowsTaken,
  checkIpfixRun,
  checkOutputOptions,
  HELP,
  OUTPUT_FLAGS,
  outputSpecFromArgs,
  parseArgs,
  type CliArgs,
  type OutputSpec,
} from './args';

type Yaml = typeof import('yaml');
let yamlModule: Yaml | undefined;
/** The yaml package, loaded with the first config file: it is 72 modules, ~20 ms of CPU at every start without one. */
function yaml(): Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  yamlModule ??= require('yaml') as Yaml;
  return yamlModule;
}

/** A config file error: names the file, the line and the key. Exits with status 2, as a bad flag does. */
function fail(message: string): never {
  const error = new Error(message);
  (error as Error & { usage: boolean }).usage = true;
  throw error;
}

/** One key of the file as flag arguments, with where it was. */
interface ConfigItem {
  key: string;
  line: number;
  argv: string[];
}

/** Every flag the help names (for "did you mean"). */
function knownFlags(): string[] {
  return [...new Set(HELP.match(/--[a-z][a-z0-9-]*/g) ?? [])];
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function suggestion(key: string, among: readonly string[]): string {
  let best = '';
  let bestDistance = 3;
  for (const flag of among) {
    const d = distance(key, flag.slice(2));
    if (d < bestDistance) {
      best = flag.slice(2);
      bestDistance = d;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

/** Whether --key is a switch (takes no value). */
function isSwitch(key: string): boolean {
  try {
    parseArgs([`--${key}`], { partial: true });
    return true;
  } catch {
    return false;
  }
}

function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** A key's value as flag arguments. */
function toArgv(key: string, node: Node | null, where: string): string[] {
  const { isMap, isScalar, isSeq } = yaml();
  const flag = `--${key}`;
  if (node === null || (isScalar(node) && node.value === null)) fail(`${where}: ${key} has no value`);
  if (isScalar(node)) {
    const value = node.value;
    if (value === true) return [flag];
    if (value === false && isSwitch(key)) return [];
    return [`${flag}=${scalarText(value)}`];
  }
  if (isSeq(node)) {
    const parts = node.items.map((item) => {
      if (!isScalar(item)) fail(`${where}: ${key}: a list of plain values is expected`);
      return scalarText(item.value);
    });
    return [`${flag}=${parts.join(',')}`];
  }
  if (isMap(node)) {
    return node.items.map((pair) => {
      if (!isScalar(pair.key) || !isScalar(pair.value)) fail(`${where}: ${key}: a map of plain KEY: VALUE is expected`);
      return `${flag}=${scalarText(pair.key.value)}=${scalarText(pair.value.value)}`;
    });
  }
  fail(`${where}: ${key}: unsupported value`);
}

/** The items of a YAML map, each key checked on its own (unknown key, bad value), with its line. */
function items(map: Node, file: string, lines: LineCounter, allowed: readonly string[] | null, context: string): ConfigItem[] {
  const { isMap, isScalar } = yaml();
  if (!isMap(map)) fail(`${file}:${lineOf(map, lines)}: ${context || 'the file'} must be a map of KEY: VALUE`);
  const result: ConfigItem[] = [];
  for (const pair of map.items) {
    const keyNode = pair.key as Node;
    const line = lineOf(keyNode, lines);
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') fail(`${file}:${line}: ${context}keys are option names (strings)`);
    const key = keyNode.value;
    const where = `${file}:${line}`;
    if (key === 'outputs' && allowed === null) continue;
    const flag = `--${key}`;
    if (allowed !== null && !allowed.includes(flag)) {
      const known = knownFlags().includes(flag);
      fail(
        known
          ? `${where}: ${context}'${key}' is not an output key (an output takes ${allowed.map((f) => f.slice(2)).join(', ')})`
          : `${where}: ${context}unknown key '${key}'${suggestion(key, allowed)}`,
      );
    }
    if (key === 'config' || key === 'help' || key === 'version') fail(`${where}: '${key}' has no place in a config file`);
    const argv = toArgv(key, pair.value as Node | null, where);
    try {
      parseArgs(argv, { partial: true });
    } catch (err) {
      const message = (err as Error).message;
      if (message.startsWith('unknown option')) fail(`${where}: ${context}unknown key '${key}'${suggestion(key, knownFlags())}`);
      if (message.includes('takes no value')) fail(`${where}: ${context}${key} is a switch: write '${key}: true', or leave it out`);
      fail(`${where}: ${context}${key}: ${message}`);
    }
    result.push({ key, line, argv });
  }
  return result;
}

function lineOf(node: Node | null | undefined, lines: LineCounter): number {
  const offset = node?.range?.[0];
  return offset === undefined ? 1 : lines.linePos(offset).line;
}

/** Flags given on the command line, by name (--name or --name=value). */
function flagsGiven(argv: string[]): Set<string> {
  const given = new Set<string>();
  for (const arg of argv) if (arg.startsWith('--')) given.add(arg.split('=')[0]);
  return given;
}

/**
 * The command line with --config: the file's options, then the flags (which override them).
 * Without --config, parseArgs(argv). Errors name the file, the line and the key.
 */
export function parseCommandLine(argv: string[]): CliArgs {
  const first = parseArgs(argv, { partial: true });
  if (first.config === undefined || first.help || first.version) return parseArgs(argv);
  const file = first.config;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    fail(`--config ${file}: ${(err as Error).message}`);
  }
  const { isMap, LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const pos = lines.linePos(error.pos[0]);
    fail(`${file}:${pos.line}:${pos.col}: ${error.message.split('\n')[0]}`);
  }
  if (doc.contents === null) fail(`${file}: the file is empty`);
  const top = items(doc.contents as Node, file, lines, null, '');
  const given = flagsGiven(argv);
  // Flags override the file: a key also given as a flag is left out.
  const fromFile = top.filter((item) => !given.has(`--${item.key}`));
  const where = new Map(top.map((item) => [`--${item.key}`, item]));
  const outputsNode = isMap(doc.contents) ? (doc.contents.get('outputs', true) as Node | undefined) : undefined;
  // An output flag without --output would describe no output of the file's list: say so rather than drop it.
  const outputFlag = outputsNode !== undefined && !given.has('--output') ? OUTPUT_FLAGS.find((flag) => given.has(flag)) : undefined;
  if (outputFlag !== undefined)
    fail(
      `${outputFlag} describes one output, and ${file} lists its outputs: put '${outputFlag.slice(2)}' in an entry of outputs:, or give --output too (the command line's outputs then replace the file's)`,
    );
  let args: CliArgs;
  try {
    args = parseArgs([...fromFile.flatMap((item) => item.argv), ...argv]);
  } catch (err) {
    // A check of the whole: name the line of the first file key it mentions.
    const message = (err as Error).message;
    const mentioned = (message.match(/--[a-z][a-z0-9-]*/g) ?? []).map((flag) => where.get(flag)).find((item) => item !== undefined);
    fail(mentioned ? `${file}:${mentioned.line}: ${mentioned.key}: ${message}` : `${file} (with the command line): ${message}`);
  }
  if (outputsNode !== undefined && !given.has('--output')) {
    for (const item of top) {
      if (OUTPUT_FLAGS.includes(`--${item.key}`))
        fail(`${file}:${item.line}: '${item.key}' describes one output: with 'outputs:', put it in an output`);
    }
    args.outputs = outputs(outputsNode, file, lines);
    try {
      checkFlowsTaken(args);
      checkIpfixRun(args);
    } catch (err) {
      fail(`${file}:${lineOf(outputsNode, lines)}: outputs: ${(err as Error).message}`);
    }
  }
  return args;
}

function outputs(node: Node, file: string, lines: LineCounter): OutputSpec[] {
  const { isSeq } = yaml();
  if (!isSeq(node) || node.items.length === 0) fail(`${file}:${lineOf(node, lines)}: outputs must be a list of outputs (- output: …)`);
  return node.items.map((entry, i) => {
    const context = `outputs[${i}]: `;
    const entryItems = items(entry as Node, file, lines, OUTPUT_FLAGS, context);
    const line = lineOf(entry as Node, lines);
    if (!entryItems.some((item) => item.key === 'output')) fail(`${file}:${line}: ${context}needs an output (-, a file, tcp:…, syslog:…)`);
    const spec = outputSpecFromArgs(
      parseArgs(
        entryItems.flatMap((item) => item.argv),
        { partial: true },
      ),
    );
    try {
      checkOutputOptions(spec, { listed: true });
    } catch (err) {
      fail(`${file}:${line}: ${context}${(err as Error).message}`);
    }
    return spec;
  });
}
