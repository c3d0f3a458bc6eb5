// ARP (RFC 826). Addresses are decoded only for Ethernet/IPv4.

import { ipv4ToString, macToString } from './address';
import { type LayerSink, u16 } from './layer-sink';
import type { ArpPacket } from './types';

/** Decodes the ARP packet at offset into out.network. */
export function decodeArp(bytes: Uint8Array, offset: number, end: number, out: LayerSink): void {
  if (end - offset < 8) {
    out.error = 'arp.truncated';
    return;
  }
  const hardwareType = u16(bytes, offset);
  const protocolType = u16(bytes, offset + 2);
  const hardwareLength = bytes[offset + 4];
  const protocolLength = bytes[offset + 5];
  const arp: ArpPacket = {
    kind: 'arp',
    hardwareType,
    protocolType,
    hardwareLength,
    protocolLength,
    operation: u16(bytes, offset + 6),
  };
  out.network = arp;
  if (end - offset < 8 + 2 * (hardwareLength + protocolLength)) {
    out.error = 'arp.truncated';
    return;
  }
  if (hardwareType === 1 && protocolType === 0x0800 && hardwareLength === 6 && protocolLength === 4) {
    arp.senderMac = macToString(bytes, offset + 8);
    arp.senderIp = ipv4ToString(bytes, offset + 14);
    arp.targetMac = macToString(bytes, offset + 18);
    arp.targetIp = ipv4ToString(bytes, offset + 24);
  }
}
