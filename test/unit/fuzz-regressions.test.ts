// Replays every input the fuzzer ever found failing (test/fixtures/fuzz-regressions/):
// each must now pass its target's oracles.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../scripts/fuzz/engine';
import { loadRegressions, saveRegression } from '../../scripts/fuzz/regressions';
import { OracleError, type Target } from '../../scripts/fuzz/target';
import { targetByName } from '../../scripts/fuzz/targets';

const regressions = loadRegressions();

describe('fuzz regressions', () => {
  it('every fixture names a known target and holds bytes', () => {
    for (const { file, regression } of regressions) {
      expect(() => targetByName(regression.target), file).not.toThrow();
      expect(regression.hex, file).toMatch(/^([0-9a-f]{2})*$/);
    }
  });

  it('a saved finding is loaded back and replayed, and a failing target is reported', () => {
    // The machinery the replays below rely on, on a finding made here (the directory may hold none).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-fuzz-regressions-'));
    try {
      const input = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
      const file = saveRegression(
        { target: 'nflog', kind: 'crash', message: 'boom', signature: 'crash:boom', input, caseIndex: 7 },
        3,
        dir,
      );
      const loaded = loadRegressions(dir);
      expect(loaded).toEqual([
        {
          file: path.basename(file),
          regression: { target: 'nflog', kind: 'crash', message: 'boom', found: { seed: 3, caseIndex: 7 }, hex: 'deadbeef' },
        },
      ]);
      const failing: Target = {
        ...targetByName('nflog'),
        run: (bytes) => {
          if (bytes[0] === 0xde) throw new OracleError('the oracle saw 0xde');
          return { errors: [], outputSize: 0, records: 0, shapes: [] };
        },
      };
      expect(replay(failing, new Uint8Array(Buffer.from(loaded[0].regression.hex, 'hex')))).toMatchObject({
        kind: 'oracle',
        message: expect.stringContaining('0xde'),
      });
      expect(replay(failing, new Uint8Array([1, 2, 3]))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const { file, regression } of regressions) {
    it(`${file} (${regression.kind}: ${regression.message.split('\n')[0]})`, () => {
      const started = performance.now();
      const failure = replay(targetByName(regression.target), new Uint8Array(Buffer.from(regression.hex, 'hex')));
      expect(failure?.message).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(1000);
    });
  }
});
