// Importing the package where the addon cannot load gives one clear error.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';

const DIST = path.resolve(__dirname, '../../dist');

function importWith(env: Record<string, string>, module: string): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(DIST, module))})`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: run.status, stderr: run.stderr };
}

it('says the addon is not built and how to build it', () => {
  expect(fs.existsSync(path.join(DIST, 'index.js')), 'run npm run build first').toBe(true);
  const run = importWith({ NFC_ADDON_PATH: '/nonexistent/netfilter_collector.node' }, 'index.js');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/cannot load the native reader: the addon is not built/);
  expect(run.stderr).toMatch(/setup-system\.sh/);
  expect(run.stderr).toMatch(/npm rebuild netfilter-collector/);
});

it('reports an addon file that does not load, with the loader message', () => {
  // A file that is not a shared object stands in for a broken addon.
  const run = importWith({ NFC_ADDON_PATH: path.join(DIST, 'index.js.map') }, 'index.js');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/cannot load the native reader/);
});

it('the decoders load without the addon', () => {
  const run = importWith({ NFC_ADDON_PATH: '/nonexistent/netfilter_collector.node' }, 'decode.js');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});

it('names the Debian package of a missing runtime library', () => {
  // An addon that needs libnetfilter_log.so.7, which no system has: linked against a stand-in that is then removed.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-libtest-'));
  try {
    const cc = (args: string[]) => spawnSync('cc', args, { cwd: dir, encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, 'lib.c'), 'int nflog_stub(void) { return 1; }\n');
    fs.writeFileSync(path.join(dir, 'addon.c'), 'int nflog_stub(void); int use(void) { return nflog_stub(); }\n');
    expect(cc(['-shared', '-fPIC', '-Wl,-soname,libnetfilter_log.so.7', '-o', 'libnetfilter_log.so.7', 'lib.c']).status).toBe(0);
    expect(cc(['-shared', '-fPIC', '-o', 'addon.node', 'addon.c', `-L${dir}`, '-l:libnetfilter_log.so.7']).status).toBe(0);
    fs.rmSync(path.join(dir, 'libnetfilter_log.so.7'));
    const run = importWith({ NFC_ADDON_PATH: path.join(dir, 'addon.node') }, 'index.js');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /a system library is missing: libnetfilter_log\.so\.7\. Install it with `apt-get install libnetfilter-log1`/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('says when no prebuilt addon fits the architecture and none was built', () => {
  // node-gyp-build looks for prebuilds/linux-riscv64 (there are none) and, with PREBUILDS_ONLY, not in build/.
  const run = importWith({ npm_config_arch: 'riscv64', PREBUILDS_ONLY: '1', NFC_ADDON_PATH: '' }, 'index.js');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/no prebuilt addon fits linux-riscv64 \(the package carries linux-x64 and linux-arm64/);
  expect(run.stderr).toMatch(/apt-get install build-essential python3 pkg-config libnetfilter-log-dev libnetfilter-conntrack-dev/);
});
