// packetToEcsJson must write exactly JSON.stringify(packetToEcs(...)).
import { describe, expect, it } from 'vitest';
import { createActionMapper } from '../../../src/verdict/action';
import { packetToEcs, type EcsOptions } from '../../../src/ecs/packet';
import { packetToEcsJson } from '../../../src/ecs/packet-json';
import { DatagramDecoder } from '../../../src/datagram';
import type { CollectorRecord, PacketRecord } from '../../../src/records';
import { loadFixture } from '../../helpers/fixtures';
import { record, sampleRecords } from '../../helpers/packet-records';

const OPTION_SETS: Array<EcsOptions | undefined> = [
  undefined,
  {
    actionMapper: createActionMapper({ rules: [{ match: 'log only', action: 'log' }] }),
    groupLabels: { 1: 'lan "drop"' },
    observer: { hostname: 'gw-1', name: 'edge\\1' },
    communityIdSeed: 7,
  },
  { communityId: false },
];

/** Records decoded from recorded datagrams whose payload bytes were mutated: odd layers, errors, truncation. */
function mutatedRecords(): PacketRecord[] {
  let state = 99;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const out: CollectorRecord[] = [];
  const datagrams = ['nflog-inbound.json', 'nflog-outbound-uid.json']
    .flatMap((n) => loadFixture(n).datagrams)
    .filter((d) => d.source === 1);
  for (let round = 0; round < 3000; round++) {
    const d = datagrams[round % datagrams.length];
    const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
    // Mutate beyond the netlink/NFLOG headers mostly, so the packet decoder sees variety.
    for (let flips = 1 + (random() % 4); flips > 0; flips--) bytes[40 + (random() % (bytes.length - 40))] = random() & 0xff;
    new DatagramDecoder().decode(bytes, new DataView(bytes.buffer), 0, bytes.length, 1, 0, d.receivedUs, out);
  }
  return out.filter((r): r is PacketRecord => r.kind === 'packet');
}

describe('packetToEcsJson', () => {
  const records = [
    ...sampleRecords(),
    ...mutatedRecords(),
    record({}, { prefix: 'weird "prefix"\\\u0001 é ', inInterface: 'a"b', inIfindex: 3 }),
  ];

  it(`equals JSON.stringify(packetToEcs()) for ${records.length} records and ${OPTION_SETS.length} option sets`, () => {
    expect(records.length).toBeGreaterThan(2000);
    for (const options of OPTION_SETS) {
      for (const r of records) {
        const json = packetToEcsJson(r, options);
        expect(json).toBe(JSON.stringify(packetToEcs(r, options)));
      }
    }
  });

  it('writes valid JSON for hostile strings', () => {
    const r = record({}, { prefix: '\u2028"\\\u0000', groupLabel: '\ud800' });
    expect(() => JSON.parse(packetToEcsJson(r))).not.toThrow();
  });
});
