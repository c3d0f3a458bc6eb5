// Conntrack events recorded from this kernel (scripts/record-fixtures.js, the
// gateway lab's router), decoded without the kernel.
import { describe, expect, it } from 'vitest';
import { DatagramDecoder } from '../../../src/datagram';
import { flowToEcs } from '../../../src/ecs/flow';
import { GATEWAY } from '../../../src/lab/gateway';
import type { FlowRecord } from '../../../src/records';
import { decodeFixture, loadFixture } from '../../helpers/fixtures';

const fixture = loadFixture('conntrack-gateway.json');
const [, tcpPort, forwardedPort] = /:(\d+) -> 10\.60\.2\.2:5000.*10\.60\.2\.2:(\d+) -> /.exec(fixture.description)!.map(Number);

function flows(): FlowRecord[] {
  const decoder = new DatagramDecoder();
  const records = decodeFixture('conntrack-gateway.json', decoder);
  expect(records.filter((r) => r.kind === 'gap')).toEqual([]);
  expect(decoder.counters.decodeErrors).toBe(0);
  return records.filter((r): r is FlowRecord => r.kind === 'flow');
}

describe('recorded conntrack events of a NAT router', () => {
  const all = flows();
  const one = (event: FlowRecord['event'], pred: (f: FlowRecord) => boolean): FlowRecord => {
    const found = all.filter((f) => f.event === event && pred(f));
    expect(found).toHaveLength(1);
    return found[0];
  };

  it('has a NEW and a DESTROY for each of the four flows', () => {
    expect(all.filter((f) => f.event === 'new')).toHaveLength(4);
    expect(all.filter((f) => f.event === 'destroy')).toHaveLength(4);
    expect(all.every((f) => f.decodeError === undefined)).toBe(true);
  });

  it('masqueraded TCP: tuples, NAT view, TCP state, exact counters and times', () => {
    const start = one('new', (f) => f.original?.srcPort === tcpPort);
    expect(start.original).toEqual({ src: GATEWAY.client4, dst: GATEWAY.server4, protocol: 6, srcPort: tcpPort, dstPort: 5000 });
    expect(start.nat).toEqual({
      source: { ip: GATEWAY.client4, port: tcpPort, translatedIp: GATEWAY.routerOut4, translatedPort: start.reply!.dstPort },
    });
    expect(start.stateName).toBe('SYN_SENT');
    const end = one('destroy', (f) => f.id === start.id);
    expect(end.originalBytes).toBeGreaterThan(1000);
    expect(end.replyPackets).toBeGreaterThanOrEqual(3);
    expect(end.startUs).toBeLessThan(end.stopUs!);
    expect(end.timestampUs).toBe(end.stopUs);
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the document as its JSON reader would
    const doc = flowToEcs(end) as Record<string, any>;
    expect(doc.event).toMatchObject({ action: 'flow-destroy', type: ['connection', 'end'] });
    expect(doc.event.duration).toBe((end.stopUs! - end.startUs!) * 1000);
    expect(doc.source).toMatchObject({ ip: GATEWAY.client4, port: tcpPort, nat: { ip: GATEWAY.routerOut4 }, bytes: end.originalBytes });
    expect(doc.destination).toMatchObject({ ip: GATEWAY.server4, port: 5000, bytes: end.replyBytes });
  });

  it('IPv6 UDP through masquerade: 2 datagrams of 40 bytes each way', () => {
    const end = one('destroy', (f) => f.family === 10);
    expect(end.original).toMatchObject({ src: GATEWAY.client6, dst: GATEWAY.server6, srcPort: 44001, dstPort: 5001, protocol: 17 });
    expect(end).toMatchObject({ originalPackets: 2, originalBytes: 2 * 88, replyPackets: 2, replyBytes: 2 * 88 });
    expect(end.nat?.source).toMatchObject({ ip: GATEWAY.client6, translatedIp: GATEWAY.routerOut6 });
  });

  it('ICMP echo: id, type and code; one request and one reply', () => {
    const end = one('destroy', (f) => f.original?.protocol === 1);
    expect(end.original).toMatchObject({ icmpType: 8, icmpCode: 0 });
    expect(end.reply).toMatchObject({ icmpType: 0, icmpId: end.original!.icmpId });
    expect(end).toMatchObject({ originalPackets: 1, replyPackets: 1 });
  });

  it('DNAT port forward: the public address and port, and where they went', () => {
    const start = one('new', (f) => f.original?.dstPort === GATEWAY.forwardedPort);
    expect(start.original).toMatchObject({ src: GATEWAY.server4, srcPort: forwardedPort, dst: GATEWAY.routerOut4 });
    expect(start.nat).toEqual({ destination: { ip: GATEWAY.routerOut4, port: 8080, translatedIp: GATEWAY.client4, translatedPort: 80 } });
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the document as its JSON reader would
    const doc = flowToEcs(one('destroy', (f) => f.id === start.id)) as Record<string, any>;
    expect(doc.destination).toMatchObject({ ip: GATEWAY.routerOut4, port: 8080, nat: { ip: GATEWAY.client4, port: 80 } });
  });
});
