// The reference facts the tests check against, kept in the repository under
// test/fixtures/reference/ (see its README; refreshed by scripts/extract-reference.js).
import * as path from 'node:path';

export const REFERENCE_DIR = path.resolve(__dirname, '../../fixtures/reference');

export function referencePath(...parts: string[]): string {
  return path.join(REFERENCE_DIR, ...parts);
}
