// scripts/clean-dist.js: what tsc left in dist/ from a source that is gone is removed before packing.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';

const SCRIPT = path.join(__dirname, '../../scripts/clean-dist.js');

it('removes the outputs of vanished sources, and only those', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-clean-dist-'));
  try {
    const write = (file: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), '');
    };
    for (const file of ['src/index.ts', 'src/ecs/packet.ts']) write(file);
    const kept = ['index.js', 'index.d.ts', 'index.js.map', 'ecs/packet.js', 'ecs/packet.d.ts'];
    const gone = ['ecs/action.js', 'ecs/action.d.ts', 'ecs/action.js.map', 'old/sink.js'];
    for (const file of [...kept, ...gone]) write(`dist/${file}`);
    execFileSync(process.execPath, [SCRIPT, path.join(dir, 'src'), path.join(dir, 'dist')], { stdio: 'pipe' });
    const left = (sub: string): string[] =>
      fs.readdirSync(path.join(dir, sub), { withFileTypes: true }).flatMap((e) => {
        const relative = path.join(sub, e.name);
        return e.isDirectory() ? left(relative) : [path.relative('dist', relative)];
      });
    expect(left('dist').sort()).toEqual([...kept].sort());
    // A directory left empty goes too.
    expect(fs.existsSync(path.join(dir, 'dist/old'))).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
