// Importing the package where the addon cannot load gives one clear error.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
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
