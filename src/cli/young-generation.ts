// The CLI's bound on V8's young generation. Node 24's V8 sizes the most the
// young generation may grow to from the machine's memory: on a host with
// 16 GiB or more it lets each of its two semi-spaces grow to 64 MiB, and any
// sustained allocation (a burst's records, each dying young) grows them
// there: 128 MiB of process memory, more than the ring. Records die as young
// with 8 MiB semi-spaces (measured: the same CPU per event in a 1,000,000
// packet scan, 120 MiB less peak RSS). Node fixes the largest size at start
// (--max-semi-space-size cannot be changed later), but reads the growth factor
// each time the space grows: once the space has reached the bound, the CLI
// sets the factor to 1 and it grows no more. A --max-semi-space-size given to
// node (command line or NODE_OPTIONS) is the operator's choice and left alone.
import * as v8 from 'node:v8';

/** The young generation's size (both semi-spaces) at which growth stops. */
const BOUND_BYTES = 16 * 1024 * 1024;

export class YoungGenerationBound {
  private done: boolean;

  constructor(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? '') {
    this.done = [...execArgv, nodeOptions].some((a) => a.includes('semi-space-size'));
  }

  /** Call now and then (once per batch): cheap once the bound is reached. */
  check(): void {
    if (this.done) return;
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (young === undefined) {
      this.done = true;
      return;
    }
    if (young.space_size >= BOUND_BYTES) {
      v8.setFlagsFromString('--semi-space-growth-factor=1');
      this.done = true;
    }
  }
}
