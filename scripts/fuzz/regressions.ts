// Inputs the fuzzer found failing, kept as fixtures in
// test/fixtures/fuzz-regressions/ and replayed by test/unit/fuzz-regressions.test.ts.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Finding } from './engine';

export const REGRESSIONS_DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'fuzz-regressions');

export interface Regression {
  target: string;
  kind: string;
  /** What failed when it was found. */
  message: string;
  /** How it was found: `node scripts/fuzz/run.js --seed S --target T` reaches it at case N. */
  found: { seed: number; caseIndex: number };
  hex: string;
}

/** Writes a finding as a fixture; returns its path (an existing fixture of the same bytes is kept). */
export function saveRegression(finding: Finding, seed: number, dir = REGRESSIONS_DIR): string {
  const hex = Buffer.from(finding.input).toString('hex');
  const id = createHash('sha1').update(finding.target).update(hex).digest('hex').slice(0, 10);
  const file = path.join(dir, `${finding.target}-${finding.kind}-${id}.json`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  const regression: Regression = {
    target: finding.target,
    kind: finding.kind,
    message: finding.message,
    found: { seed, caseIndex: finding.caseIndex },
    hex,
  };
  fs.writeFileSync(file, JSON.stringify(regression, null, 1) + '\n');
  return file;
}

export function loadRegressions(dir = REGRESSIONS_DIR): Array<{ file: string; regression: Regression }> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, regression: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Regression }));
}
