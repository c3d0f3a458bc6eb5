import { expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/cli/latency';

it('summarises latency with 0.1 ms buckets', () => {
  const h = new LatencyHistogram();
  expect(h.summary()).toBeNull();
  for (let i = 0; i < 98; i++) h.record(1_000); // 1 ms
  h.record(40_000); // 40 ms
  h.record(2_500_000); // 2.5 s
  expect(h.summary()).toEqual({ samples: 100, p50Ms: 1.1, p99Ms: 40.1, maxMs: 2500 });
  h.record(-5); // a clock step backwards counts as 0
  h.record(1e12); // past the last bucket
  expect(h.summary()!.maxMs).toBe(1e9);
});

it("never says a quantile above the max (a bucket's upper bound can be)", () => {
  const h = new LatencyHistogram();
  h.record(13_740); // bucket 13.7–13.8 ms
  expect(h.summary()).toEqual({ samples: 1, p50Ms: 13.7, p99Ms: 13.7, maxMs: 13.7 });
});
