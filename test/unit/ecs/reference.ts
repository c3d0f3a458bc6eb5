// Locates the third-party reference data (../shared/reference from the repo root).
// Override with NFC_REFERENCE_DIR.
import * as path from 'node:path';

export const REFERENCE_DIR =
  process.env.NFC_REFERENCE_DIR ?? path.resolve(__dirname, '../../..', '..', 'shared', 'reference');

export function referencePath(...parts: string[]): string {
  return path.join(REFERENCE_DIR, ...parts);
}
