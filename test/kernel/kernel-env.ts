// Kernel tests need root and a kernel with NFLOG. Outside CI they skip with
// the reason when that is missing; in CI (CI=true) they fail instead.
import { describe, it } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';

export function describeKernel(name: string, body: () => void): void {
  const reason = NetnsLab.unavailable();
  if (reason === null) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('can reach the kernel', () => {
        throw new Error(`kernel tests cannot run here: ${reason}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${reason})`, body);
  }
}
