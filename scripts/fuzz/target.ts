// What a fuzz target is, and the error its oracles throw.
import type { Layout } from './mutate';

/** What one case produced, for the summary and the coverage guidance. */
export interface CaseResult {
  /** Decode error codes met (undefined entries are ignored). */
  errors: Array<string | undefined>;
  /** Characters of output (JSON of the decoded structures and the ECS documents). */
  outputSize: number;
  /** Records or structures returned. */
  records: number;
  /** The decoded values, walked for new features (coverage guidance). */
  shapes: unknown[];
}

export interface Target {
  name: string;
  /** What it exercises. */
  description: string;
  layout: Layout;
  seeds: () => Uint8Array[];
  /** Runs one case on bytes[0, length). Throws when an oracle fails. */
  run: (bytes: Uint8Array, length: number) => CaseResult;
}

export class OracleError extends Error {
  override name = 'OracleError';
}

/** Output may grow with the input, linearly and no more. */
export function outputBound(inputLength: number): number {
  return 16384 + 24 * inputLength;
}
