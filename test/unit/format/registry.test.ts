// The format registry: each format writes a line for exactly the record kinds it
// declares, and its byte path writes the same line as its string path.
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS } from '../../../src/cli/args';
import { LineEncoder } from '../../../src/format/line-target';
import { LINE_FORMAT_NAMES, LINE_FORMATS, openLineFormat } from '../../../src/format/registry';
import type { CollectorRecord, FlowRecord, GapRecord } from '../../../src/records';
import { decodeFixture } from '../../helpers/fixtures';
import { sampleRecords } from '../../helpers/packet-records';

const flows = decodeFixture('conntrack-gateway.json').filter((r): r is FlowRecord => r.kind === 'flow');
const gap: GapRecord = {
  kind: 'gap',
  source: 'nflog',
  reason: 'sequence',
  count: 3,
  group: 1,
  fromSeq: 5,
  toSeq: 7,
  timestampUs: 1795297490123456,
};
const records: CollectorRecord[] = [
  ...sampleRecords(),
  ...flows.slice(0, 20),
  gap,
  { ...gap, netns: { name: 'tenant a', inode: 4026531840 } },
];

function written(name: (typeof LINE_FORMAT_NAMES)[number], record: CollectorRecord): string | null {
  const encoder = new LineEncoder();
  if (!openLineFormat(name).write(record, encoder)) return null;
  const text = Buffer.concat(encoder.take().map((c) => c.bytes)).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1);
}

describe('the format registry', () => {
  it('has the samples it needs: packets, flows and gaps', () => {
    expect(new Set(records.map((r) => r.kind))).toEqual(new Set(['packet', 'flow', 'gap']));
    expect(flows.length).toBeGreaterThan(5);
  });

  for (const name of LINE_FORMAT_NAMES) {
    it(`${name}: a line for exactly the kinds it declares, the same through both paths`, () => {
      const format = LINE_FORMATS[name];
      expect(format.name).toBe(name);
      const writer = format.open();
      for (const record of records) {
        const line = writer.line(record);
        expect(line === null, `${name} ${record.kind}`).toBe(!format.writes.includes(record.kind));
        if (line !== null) expect(line).not.toContain('\n');
        expect(written(name, record)).toBe(line);
      }
    });
  }

  it("is where the CLI's --format choices come from (and IPFIX, which writes messages)", () => {
    expect(OUTPUT_FORMATS).toEqual([...LINE_FORMAT_NAMES, 'ipfix']);
  });
});
