// The NAT a flow went through, from its two tuples.
//
// Conntrack keeps the original tuple (as the first packet arrived) and the
// reply tuple (what a reply must look like after translation). So:
//
//   SNAT / masquerade  original  10.0.1.2:40000 → 10.0.2.2:80
//                      reply     10.0.2.2:80    → 10.0.2.1:40000
//     inside host = original.src:srcPort, translated = reply.dst:dstPort
//
//   DNAT / port fwd    original  198.51.100.7:5000 → 203.0.113.1:8080
//                      reply     10.0.1.5:80       → 198.51.100.7:5000
//     public = original.dst:dstPort, translated = reply.src:srcPort
//
// Both can apply to one flow. Which ones apply:
//   - with a status (CTA_STATUS), the kernel's bits decide: IPS_SRC_NAT for
//     source NAT, IPS_DST_NAT for destination NAT; tuples that differ without
//     the bit are not reported (the kernel knows better);
//   - without a status (e.g. a message that carries only tuples), the tuples
//     decide: source NAT when reply.dst ≠ original.src or, both ports known,
//     reply.dstPort ≠ original.srcPort; destination NAT when
//     reply.src ≠ original.dst or reply.srcPort ≠ original.dstPort.
// Addresses are compared as the decoder's canonical text (RFC 5952 for IPv6).
import type { FlowNat, FlowTuple } from '../records';
import { IPS_DST_NAT, IPS_SRC_NAT } from './constants';

type NatSide = NonNullable<FlowNat['source']>;

function side(ip: string, port: number | undefined, translatedIp: string, translatedPort: number | undefined): NatSide {
  const s: NatSide = { ip, translatedIp };
  if (port !== undefined) s.port = port;
  if (translatedPort !== undefined) s.translatedPort = translatedPort;
  return s;
}

function differs(a: string, b: string, pa: number | undefined, pb: number | undefined): boolean {
  return a !== b || (pa !== undefined && pb !== undefined && pa !== pb);
}

/** The flow's NAT, or undefined when there is none (or a tuple is missing). */
export function natView(original: FlowTuple | undefined, reply: FlowTuple | undefined, status: number | undefined): FlowNat | undefined {
  if (original === undefined || reply === undefined) return undefined;
  const snat = status !== undefined ? (status & IPS_SRC_NAT) !== 0 : differs(reply.dst, original.src, reply.dstPort, original.srcPort);
  const dnat = status !== undefined ? (status & IPS_DST_NAT) !== 0 : differs(reply.src, original.dst, reply.srcPort, original.dstPort);
  if (!snat && !dnat) return undefined;
  const nat: FlowNat = {};
  if (snat) nat.source = side(original.src, original.srcPort, reply.dst, reply.dstPort);
  if (dnat) nat.destination = side(original.dst, original.dstPort, reply.src, reply.srcPort);
  return nat;
}
