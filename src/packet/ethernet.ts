// Ethernet II header and 802.1Q / 802.1ad VLAN tags.

import { macToString } from './address';
import { TPID_8021AD, TPID_8021Q } from './protocols';
import { type LayerSink, u16 } from './layer-sink';
import type { EthernetHeader, VlanTag } from './types';

/** More tags than this is not a real frame. */
export const MAX_VLAN_TAGS = 8;

/**
 * Decodes the Ethernet header at offset and any VLAN tags after it into
 * out.link. Returns the offset of the payload, or -1 when decoding stopped
 * (out.error set; out.link keeps the tags read so far).
 */
export function decodeEthernet(bytes: Uint8Array, offset: number, end: number, out: { link?: EthernetHeader } & LayerSink): number {
  if (end - offset < 14) {
    out.error = 'ethernet.truncated';
    return -1;
  }
  const vlans: VlanTag[] = [];
  let etherType = u16(bytes, offset + 12);
  const link: EthernetHeader = {
    kind: 'ethernet',
    src: macToString(bytes, offset + 6),
    dst: macToString(bytes, offset),
    etherType,
    vlans,
  };
  out.link = link;
  let p = offset + 14;
  while (etherType === TPID_8021Q || etherType === TPID_8021AD) {
    if (vlans.length === MAX_VLAN_TAGS) {
      out.error = 'ethernet.too-many-vlan-tags';
      return -1;
    }
    if (end - p < 4) {
      out.error = 'ethernet.truncated';
      return -1;
    }
    const tci = u16(bytes, p);
    vlans.push({ tpid: etherType, id: tci & 0x0fff, priority: tci >> 13, dei: (tci & 0x1000) !== 0 });
    etherType = u16(bytes, p + 2);
    link.etherType = etherType;
    p += 4;
  }
  return p;
}
