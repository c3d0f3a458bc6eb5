// The shipper's type test: tsc over test/types/consumer.ts, which asserts the
// ECS documents are assignable to @elastic/ecs's types and that the names the
// README uses are exported. A type that drifts fails here, not in a user's build.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

it('the documents and the public names type-check against @elastic/ecs', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'test/types/tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
  expect(run.stdout + run.stderr).toBe('');
  expect(run.status).toBe(0);
}, 120_000);
