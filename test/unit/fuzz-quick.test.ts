// A quick fuzz run in CI: every target of scripts/fuzz (the decoders and the
// ECS formatters over their output) for a few thousand cases, same seed each
// run. The long campaign is `npm run fuzz` (node scripts/fuzz/run.js).
import { describe, expect, it } from 'vitest';
import { fuzzTarget } from '../../scripts/fuzz/engine';
import { TARGETS, targetByName, type Target } from '../../scripts/fuzz/targets';

/** Cases per target; the pcap target reads whole files in several chunkings per case, so it gets fewer. */
const CASES: Record<string, number> = { pcap: 3000 };
const DEFAULT_CASES = 20_000;

describe('fuzz (quick)', () => {
  it('has a target for every decoder', () => {
    expect(TARGETS.map((t) => t.name).sort()).toEqual(['conntrack', 'datagram', 'netlink', 'nflog', 'packet', 'pcap', 'rtnl']);
  });

  for (const target of TARGETS) {
    const cases = CASES[target.name] ?? DEFAULT_CASES;
    it(`${target.name}: ${cases} mutated cases, no crash, slow case or oracle failure`, () => {
      const summary = fuzzTarget(target, { cases, seed: 0x6a5e, slowMs: 250 });
      const findings = summary.findings.map((f) => `${f.kind}: ${f.message}\n  input ${Buffer.from(f.input).toString('hex')}`);
      expect(findings).toEqual([]);
      expect(summary.cases).toBe(cases);
      // The mutations reach both sides: inputs that decode cleanly and inputs that are refused.
      const errors = Object.values(summary.errors).reduce((a, b) => a + b, 0);
      expect(errors).toBeGreaterThan(0);
      expect(summary.clean).toBeGreaterThan(0);
      // Guidance found inputs reaching new output shapes beyond the seeds.
      expect(summary.corpus).toBeGreaterThan(10);
    });
  }
});

describe('fuzz oracles catch planted bugs', () => {
  const netlink = targetByName('netlink');

  it('a decoder that throws on a message length of 17: found, and the input shrunk to the message', () => {
    const planted: Target = {
      ...netlink,
      run(bytes, length) {
        for (let at = 0; at + 4 <= length; at++)
          if (bytes[at] === 17 && bytes[at + 1] === 0 && bytes[at + 2] === 0 && bytes[at + 3] === 0) throw new RangeError('planted');
        return netlink.run(bytes, length);
      },
    };
    const summary = fuzzTarget(planted, { cases: 5000, seed: 7 });
    expect(summary.findings.map((f) => f.kind)).toEqual(['crash']);
    expect(summary.findings[0].message).toContain('planted');
    expect(summary.findings[0].input.length).toBe(4);
  });

  it('a decoder that reads past the end of its input: found by the window check', () => {
    const planted: Target = {
      ...netlink,
      run(bytes, length) {
        const result = netlink.run(bytes, length);
        return { ...result, records: result.records + bytes[length] };
      },
    };
    const summary = fuzzTarget(planted, { cases: 200, seed: 7 });
    expect(summary.findings.map((f) => f.kind)).toEqual(['window']);
  });

  it('a slow decoder: found by the time bound', () => {
    const packet = targetByName('packet');
    const slow = fuzzTarget(
      {
        ...packet,
        run(bytes, length) {
          const until = performance.now() + (bytes[0] === 3 ? 30 : 0);
          while (performance.now() < until);
          return packet.run(bytes, length);
        },
      },
      { cases: 100, seed: 7, slowMs: 20 },
    );
    expect(slow.findings.map((f) => f.kind)).toEqual(['slow']);
  });
});
