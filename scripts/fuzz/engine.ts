// The fuzz loop for one target: pick a parent (a seed or an input that showed
// a new feature), mutate it, run the target, check the oracles, count.
//
// Oracles, for every case:
//   - the target does not throw (decoders must turn bad bytes into error codes);
//   - the target's own checks hold (bounded output and record counts; see targets.ts);
//   - a case takes less than slowMs (re-run twice before calling it slow);
//   - one case in 16: the output does not change when the bytes after the
//     input's end change (a decoder read outside its window).
// A hang (a case that never returns) cannot be seen from inside the loop; the
// runner (run.js) watches the case counter from another thread.
import { performance } from 'node:perf_hooks';
import { features } from './features';
import { Input, MAX_INPUT, Mutator } from './mutate';
import { Random, targetSeed } from './random';
import type { CaseResult, Target } from './target';

export type FindingKind = 'crash' | 'oracle' | 'slow' | 'window' | 'hang';

export interface Finding {
  target: string;
  kind: FindingKind;
  message: string;
  /** Same signature: same bug. */
  signature: string;
  input: Uint8Array;
  caseIndex: number;
}

export interface TargetSummary {
  target: string;
  cases: number;
  seconds: number;
  casesPerSecond: number;
  /** Decode error codes met, with how many times. */
  errors: Record<string, number>;
  /** Cases without any decode error. */
  clean: number;
  maxOutputSize: number;
  maxRecords: number;
  slowestMs: number;
  /** Inputs kept because they showed new features, and how many features were seen. */
  corpus: number;
  features: number;
  findings: Finding[];
}

export interface EngineOptions {
  cases: number;
  seed: number;
  /** A case slower than this is a finding. Default 100 ms. */
  slowMs?: number;
  /** Keep inputs that show new features. Default true. */
  guided?: boolean;
  /** Called about every progressMs with the summary so far. */
  onProgress?: (summary: TargetSummary) => void;
  progressMs?: number;
  /** Called before each case with the input about to run (the runner mirrors it for hang reports). */
  beforeCase?: (input: Input, caseIndex: number) => void;
  /** Shrink each new finding's input before reporting it. Default true. */
  minimize?: boolean;
}

const MAX_CORPUS = 4096;
const TAIL = 64;

export function fuzzTarget(target: Target, options: EngineOptions): TargetSummary {
  const slowMs = options.slowMs ?? 100;
  const guided = options.guided ?? true;
  const progressMs = options.progressMs ?? 2000;
  const rand = new Random(targetSeed(options.seed, target.name));
  const mutator = new Mutator(rand, target.layout);
  const seeds = target.seeds().filter((s) => s.length <= MAX_INPUT);
  const corpus: Uint8Array[] = seeds.slice();
  const seen = new Set<string>();
  let fresh = false;
  const emit = (f: string): void => {
    if (!seen.has(f)) {
      seen.add(f);
      fresh = true;
    }
  };
  const summary: TargetSummary = {
    target: target.name,
    cases: 0,
    seconds: 0,
    casesPerSecond: 0,
    errors: {},
    clean: 0,
    maxOutputSize: 0,
    maxRecords: 0,
    slowestMs: 0,
    corpus: 0,
    features: 0,
    findings: [],
  };
  const signatures = new Set<string>();
  const input = new Input();
  const started = performance.now();
  let lastProgress = started;

  const report = (kind: FindingKind, message: string, signature: string, caseIndex: number): void => {
    if (signatures.has(signature)) return;
    signatures.add(signature);
    let bytes = input.copy();
    if (options.minimize ?? true) bytes = minimize(target, bytes, signature);
    summary.findings.push({ target: target.name, kind, message, signature, input: bytes, caseIndex });
  };

  for (let i = 0; i < options.cases; i++) {
    if (i < seeds.length) input.load(seeds[i]);
    else if (rand.chance(0.03)) randomInput(input, rand);
    else {
      input.load(corpus[rand.below(corpus.length)]);
      mutator.mutate(input, corpus);
    }
    // Garbage after the end: a decoder that reads past its window sees noise, not zeros.
    for (let j = input.length; j < input.length + TAIL && j < input.bytes.length; j++) input.bytes[j] = rand.byte();
    options.beforeCase?.(input, i);

    const t0 = performance.now();
    let result: CaseResult;
    try {
      result = target.run(input.bytes, input.length);
    } catch (err) {
      const e = err as Error;
      const kind: FindingKind = e?.name === 'OracleError' ? 'oracle' : 'crash';
      report(kind, describe(e), signatureOf(kind, e), i);
      summary.cases++;
      continue;
    }
    const ms = performance.now() - t0;
    if (ms > summary.slowestMs) summary.slowestMs = ms;
    if (ms > slowMs && !signatures.has('slow') && isSlow(target, input, slowMs))
      report('slow', `a case took ${ms.toFixed(1)} ms`, 'slow', i);

    if ((i & 15) === 0 && input.length + TAIL <= input.bytes.length) {
      const before = stringify(result);
      for (let j = input.length; j < input.length + TAIL; j++) input.bytes[j] = rand.byte();
      const after = stringify(target.run(input.bytes, input.length));
      if (before !== after) report('window', 'output depends on bytes after the end of the input', 'window', i);
    }

    summary.cases++;
    let clean = true;
    for (const code of result.errors) {
      if (code === undefined) continue;
      clean = false;
      summary.errors[code] = (summary.errors[code] ?? 0) + 1;
    }
    if (clean) summary.clean++;
    if (result.outputSize > summary.maxOutputSize) summary.maxOutputSize = result.outputSize;
    if (result.records > summary.maxRecords) summary.maxRecords = result.records;

    if (guided) {
      fresh = false;
      for (const code of result.errors) if (code !== undefined) emit(`error:${code}`);
      for (const shape of result.shapes) features(shape, emit);
      if (fresh) {
        const copy = input.copy();
        if (corpus.length < MAX_CORPUS) corpus.push(copy);
        else corpus[seeds.length + rand.below(MAX_CORPUS - seeds.length)] = copy;
      }
    }

    if ((i & 1023) === 0 && options.onProgress) {
      const now = performance.now();
      if (now - lastProgress >= progressMs) {
        lastProgress = now;
        finish(summary, started, corpus.length - seeds.length, seen.size);
        options.onProgress(summary);
      }
    }
  }
  return finish(summary, started, corpus.length - seeds.length, seen.size);
}

function finish(summary: TargetSummary, started: number, kept: number, features: number): TargetSummary {
  summary.seconds = (performance.now() - started) / 1000;
  summary.casesPerSecond = summary.seconds > 0 ? Math.round(summary.cases / summary.seconds) : 0;
  summary.corpus = kept;
  summary.features = features;
  return summary;
}

function randomInput(input: Input, rand: Random): void {
  const n = rand.below(rand.chance(0.8) ? 96 : 1024);
  for (let j = 0; j < n; j++) input.bytes[j] = rand.byte();
  input.length = n;
}

/** Slow twice more (the first time may have been a GC pause)? */
function isSlow(target: Target, input: Input, slowMs: number): boolean {
  for (let k = 0; k < 2; k++) {
    const t0 = performance.now();
    try {
      target.run(input.bytes, input.length);
    } catch {
      return false;
    }
    if (performance.now() - t0 <= slowMs) return false;
  }
  return true;
}

function stringify(result: CaseResult): string {
  return JSON.stringify({ errors: result.errors, records: result.records, size: result.outputSize, shapes: result.shapes });
}

function describe(e: Error): string {
  const stack = e?.stack ?? String(e);
  return stack.split('\n').slice(0, 4).join('\n');
}

/** Error name and message (numbers blurred) and the frame that threw (without line and column). */
function signatureOf(kind: FindingKind, e: Error): string {
  const message = String(e?.message ?? e).replace(/\d+/g, '#');
  const frame = (e?.stack ?? '').split('\n').find((l) => /^\s+at /.test(l)) ?? '';
  return `${kind}:${e?.name}:${message}@${frame.replace(/:\d+:\d+\)?$/, '').trim()}`;
}

/** What a run of `bytes` gives: its finding signature, or undefined when it passes. */
export function replay(target: Target, bytes: Uint8Array): { kind: FindingKind; signature: string; message: string } | undefined {
  const buf = new Uint8Array(Math.min(MAX_INPUT, bytes.length) + TAIL);
  buf.set(bytes.subarray(0, MAX_INPUT));
  try {
    target.run(buf, bytes.length);
  } catch (err) {
    const e = err as Error;
    const kind: FindingKind = e?.name === 'OracleError' ? 'oracle' : 'crash';
    return { kind, signature: signatureOf(kind, e), message: describe(e) };
  }
  return undefined;
}

/** Removes chunks of the input while it still fails the same way (bounded tries). */
function minimize(target: Target, bytes: Uint8Array, signature: string): Uint8Array {
  if (!signature.startsWith('crash:') && !signature.startsWith('oracle:')) return bytes;
  let best = bytes;
  let tries = 0;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && tries < 4000; chunk >>= 1) {
    let at = 0;
    while (at < best.length && tries < 4000) {
      tries++;
      const candidate = new Uint8Array(best.length - Math.min(chunk, best.length - at));
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + chunk), at);
      if (replay(target, candidate)?.signature === signature) best = candidate;
      else at += chunk;
    }
  }
  return best;
}
