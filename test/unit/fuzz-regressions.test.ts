// Replays every input the fuzzer ever found failing (test/fixtures/fuzz-regressions/):
// each must now pass its target's oracles.
import { describe, expect, it } from 'vitest';
import { replay } from '../../scripts/fuzz/engine';
import { loadRegressions } from '../../scripts/fuzz/regressions';
import { targetByName } from '../../scripts/fuzz/targets';

const regressions = loadRegressions();

describe('fuzz regressions', () => {
  it('the fixtures directory is readable and every fixture names a known target', () => {
    for (const { file, regression } of regressions) {
      expect(() => targetByName(regression.target), file).not.toThrow();
      expect(regression.hex, file).toMatch(/^([0-9a-f]{2})*$/);
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
