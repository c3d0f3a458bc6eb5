// A copy of the built package that any user can read, for child processes
// that must run unprivileged (as nobody): the clone itself may sit in a
// directory only root can enter (/root is 0700 on Debian). Made once per test
// file, under the system's temporary directory, removed at exit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
let copy: string | undefined;

/** The directory of the public copy: dist/, the addon, package.json and the runtime dependencies. */
export function publicPackage(): string {
  if (copy) return copy;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-public-'));
  fs.chmodSync(dir, 0o755);
  // The package's runtime dependencies come along (none of them has dependencies of its own).
  const dependencies = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies ?? {});
  const parts = [
    'package.json',
    'dist',
    'build/Release/netfilter_collector.node',
    'prebuilds',
    ...dependencies.map((d) => `node_modules/${d}`),
  ];
  for (const part of parts) {
    const from = path.join(ROOT, part);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, part), { recursive: true });
  }
  if (!fs.existsSync(path.join(dir, 'dist', 'index.js'))) throw new Error(`${ROOT}/dist is missing: run npm run build (npm test does)`);
  // Directories 0755, files readable by all (the copy may have kept a umask's tighter modes).
  const open = (p: string): void => {
    const stat = fs.statSync(p);
    fs.chmodSync(p, stat.isDirectory() ? 0o755 : stat.mode | 0o444);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(p)) open(path.join(p, entry));
  };
  open(dir);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  copy = dir;
  return dir;
}
