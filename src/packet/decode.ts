// Entry points: decode one captured packet from a given layer down.

import { decodeArp } from './arp';
import { decodeEmbeddedIpv4, decodeEmbeddedIpv6 } from './embedded';
import { decodeEthernet } from './ethernet';
import { decodeIpv4, ipv4PayloadEnd } from './ipv4';
import { decodeIpv6, ipv6PayloadEnd } from './ipv6';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, NFPROTO_IPV4, NFPROTO_IPV6 } from './protocols';
import { decodeTransport } from './transport';
import type { LayerSink } from './layer-sink';
import type { AhHeader, DecodedPacket, IcmpHeader, Icmpv6Header, Ipv4Header, Ipv6Header } from './types';

// No re-exports (`export … from`) here: TypeScript emits them as accessors on the exports object,
// which V8 then keeps as a slow dictionary, and every caller of decodePacket pays for the lookup.

export type StartLayer = 'ethernet' | 'ipv4' | 'ipv6' | 'ip' | 'arp';

/** Protocol families as NFLOG reports them (nfgen_family). */

/**
 * The layer an NFLOG packet starts at: from its hardware protocol (an
 * EtherType, NFULA_PACKET_HDR hw_protocol) when that names one, else from the
 * protocol family, else 'ip' (read the version nibble).
 */
export function startForHwProtocol(hwProtocol: number, family: number): StartLayer {
  if (hwProtocol === ETHERTYPE_IPV4) return 'ipv4';
  if (hwProtocol === ETHERTYPE_IPV6) return 'ipv6';
  if (hwProtocol === ETHERTYPE_ARP) return 'arp';
  if (family === NFPROTO_IPV4) return 'ipv4';
  if (family === NFPROTO_IPV6) return 'ipv6';
  return 'ip';
}

/**
 * Decodes bytes[offset, offset + length) starting at layer `start`. Never
 * throws: a truncated or malformed layer sets `error` and the layers before
 * it are kept.
 */
export function decodePacket(bytes: Uint8Array, offset: number, length: number, start: StartLayer): DecodedPacket {
  if (bytes === null || typeof bytes !== 'object' || typeof bytes.length !== 'number') {
    return { error: 'packet.no-data' };
  }
  const off = offset >= 0 ? Math.floor(offset) : 0;
  let end = off + (length >= 0 ? Math.floor(length) : 0);
  if (!(end <= bytes.length)) end = bytes.length; // also catches NaN
  return decodePacketRange(bytes, off, end, start);
}

/**
 * decodePacket for callers that have checked their numbers: bytes[offset, end)
 * with whole numbers, end <= bytes.length (the NFLOG decoder). Skips the
 * argument clean-up, whose float arithmetic was a third of decodePacket's time.
 */
export function decodePacketRange(bytes: Uint8Array, offset: number, end: number, start: StartLayer): DecodedPacket {
  const out: DecodedPacket = {};
  if (offset >= end) {
    out.error = 'packet.empty';
    return out;
  }
  switch (start) {
    case 'ethernet':
      decodeEthernetPacket(bytes, offset, end, out);
      break;
    case 'ipv4':
      decodeIpv4Packet(bytes, offset, end, out);
      break;
    case 'ipv6':
      decodeIpv6Packet(bytes, offset, end, out);
      break;
    case 'ip':
      decodeIpPacket(bytes, offset, end, out);
      break;
    case 'arp':
      decodeArp(bytes, offset, end, out);
      break;
    default:
      out.error = 'packet.bad-start';
  }
  return out;
}

function decodeEthernetPacket(bytes: Uint8Array, offset: number, end: number, out: DecodedPacket): void {
  const p = decodeEthernet(bytes, offset, end, out);
  if (p < 0 || out.link === undefined) return;
  switch (out.link.etherType) {
    case ETHERTYPE_IPV4:
      decodeIpv4Packet(bytes, p, end, out);
      break;
    case ETHERTYPE_IPV6:
      decodeIpv6Packet(bytes, p, end, out);
      break;
    case ETHERTYPE_ARP:
      decodeArp(bytes, p, end, out);
      break;
  }
}

function decodeIpPacket(bytes: Uint8Array, offset: number, end: number, out: DecodedPacket): void {
  const version = bytes[offset] >> 4;
  if (version === 4) decodeIpv4Packet(bytes, offset, end, out);
  else if (version === 6) decodeIpv6Packet(bytes, offset, end, out);
  else out.error = 'ip.bad-version';
}

function decodeIpv4Packet(bytes: Uint8Array, offset: number, end: number, out: DecodedPacket): void {
  const p = decodeIpv4(bytes, offset, end, out);
  if (p < 0) return;
  const ip = out.network as Ipv4Header;
  if (ip.fragmentOffset !== 0) {
    out.transport = { kind: 'other', protocol: ip.protocol };
    return;
  }
  const payloadEnd = ipv4PayloadEnd(ip, offset, end);
  const quoted = decodeTransport(bytes, p, payloadEnd, ip.protocol, false, out);
  if (quoted >= 0) (out.transport as IcmpHeader).embedded = decodeEmbeddedIpv4(bytes, quoted, payloadEnd);
}

function decodeIpv6Packet(bytes: Uint8Array, offset: number, end: number, out: DecodedPacket): void {
  const p = decodeIpv6(bytes, offset, end, out);
  if (p < 0) return;
  const ip = out.network as Ipv6Header;
  if (ip.fragment !== undefined && ip.fragment.offset !== 0) {
    out.transport = { kind: 'other', protocol: ip.protocol };
    return;
  }
  const payloadEnd = ipv6PayloadEnd(ip, offset, end);
  const quoted = decodeTransport(bytes, p, payloadEnd, ip.protocol, true, out);
  if (quoted >= 0) (out.transport as Icmpv6Header).embedded = decodeEmbeddedIpv6(bytes, quoted, payloadEnd);
  else if (out.transport !== undefined && out.transport.kind === 'ah') decodeAfterAh(bytes, p, payloadEnd, out.transport);
}

/** Under IPv6, AH is an extension header: decode the header after it too (not an ICMPv6 error's quote). */
function decodeAfterAh(bytes: Uint8Array, offset: number, end: number, ah: AhHeader): void {
  const sink: LayerSink = {};
  decodeTransport(bytes, offset + ah.length, end, ah.nextHeader, true, sink);
  if (sink.transport !== undefined) ah.next = sink.transport;
}
