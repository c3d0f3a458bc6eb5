import { describe, expect, it } from 'vitest';
import { natView } from '../../../src/conntrack/nat';
import { IPS_DST_NAT, IPS_SRC_NAT, IPS_CONFIRMED } from '../../../src/conntrack/constants';
import type { FlowTuple } from '../../../src/records';

const t = (src: string, srcPort: number | undefined, dst: string, dstPort: number | undefined, protocol = 6): FlowTuple => ({
  src,
  dst,
  protocol,
  srcPort,
  dstPort,
});

describe('natView', () => {
  const masqOrig = t('10.0.1.2', 40000, '10.0.2.2', 80);
  const masqReply = t('10.0.2.2', 80, '10.0.2.1', 40000);
  const fwdOrig = t('198.51.100.7', 5000, '203.0.113.1', 8080);
  const fwdReply = t('10.0.1.5', 80, '198.51.100.7', 5000);

  it('SNAT: inside host = original source, translated = reply destination', () => {
    expect(natView(masqOrig, masqReply, IPS_SRC_NAT | IPS_CONFIRMED)).toEqual({
      source: { ip: '10.0.1.2', port: 40000, translatedIp: '10.0.2.1', translatedPort: 40000 },
    });
  });

  it('DNAT: public = original destination, translated = reply source', () => {
    expect(natView(fwdOrig, fwdReply, IPS_DST_NAT)).toEqual({
      destination: { ip: '203.0.113.1', port: 8080, translatedIp: '10.0.1.5', translatedPort: 80 },
    });
  });

  it('both at once', () => {
    const orig = t('10.0.1.2', 40002, '203.0.113.1', 443);
    const reply = t('10.0.1.5', 8443, '10.0.1.1', 61000);
    expect(natView(orig, reply, IPS_SRC_NAT | IPS_DST_NAT)).toEqual({
      source: { ip: '10.0.1.2', port: 40002, translatedIp: '10.0.1.1', translatedPort: 61000 },
      destination: { ip: '203.0.113.1', port: 443, translatedIp: '10.0.1.5', translatedPort: 8443 },
    });
    expect(natView(orig, reply, undefined)).toEqual(natView(orig, reply, IPS_SRC_NAT | IPS_DST_NAT));
  });

  it('no NAT: undefined', () => {
    expect(natView(t('a', 1, 'b', 2), t('b', 2, 'a', 1), IPS_CONFIRMED)).toBeUndefined();
    expect(natView(t('a', 1, 'b', 2), t('b', 2, 'a', 1), undefined)).toBeUndefined();
    expect(natView(undefined, masqReply, IPS_SRC_NAT)).toBeUndefined();
    expect(natView(masqOrig, undefined, IPS_SRC_NAT)).toBeUndefined();
  });

  it('with a status the kernel bits decide, even when the tuples differ', () => {
    expect(natView(masqOrig, masqReply, IPS_CONFIRMED)).toBeUndefined();
  });

  it('without a status the tuples decide: addresses, and ports when both are known', () => {
    expect(natView(masqOrig, masqReply, undefined)).toEqual(natView(masqOrig, masqReply, IPS_SRC_NAT));
    expect(natView(fwdOrig, fwdReply, undefined)).toEqual(natView(fwdOrig, fwdReply, IPS_DST_NAT));
    // Port-only source translation (clash resolution).
    expect(natView(t('10.0.0.1', 1000, '10.0.0.2', 53, 17), t('10.0.0.2', 53, '10.0.0.1', 1001, 17), undefined)).toEqual({
      source: { ip: '10.0.0.1', port: 1000, translatedIp: '10.0.0.1', translatedPort: 1001 },
    });
    // ICMP: no ports, addresses only.
    const icmpO: FlowTuple = { src: '10.0.1.2', dst: '8.8.8.8', protocol: 1, icmpId: 1, icmpType: 8, icmpCode: 0 };
    const icmpR: FlowTuple = { src: '8.8.8.8', dst: '192.0.2.1', protocol: 1, icmpId: 1, icmpType: 0, icmpCode: 0 };
    expect(natView(icmpO, icmpR, undefined)).toEqual({ source: { ip: '10.0.1.2', translatedIp: '192.0.2.1' } });
  });
});
