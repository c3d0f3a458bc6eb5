// Where the package's loader (node-gyp-build) finds the addon: build/Release
// when it was built here, else prebuilds/<platform>-<arch>/ (npm pack leaves
// only the prebuilds). '' when there is neither.
import * as path from 'node:path';

export function addonPath(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('node-gyp-build') as { resolve(dir: string): string }).resolve(path.resolve(__dirname, '../..'));
  } catch {
    return '';
  }
}
