// Decodes one NFLOG packet message (NFULNL_MSG_PACKET) into a PacketRecord.
// Pure over bytes; never throws on malformed input (faults land in decodeError).
import { AttributeTable, NLMSG_HDRLEN, nlAlign } from '../netlink/message';
import { linkHeaderToString, macToString } from '../packet/address';
import { decodePacket, startForHwProtocol } from '../packet/decode';
import type { DecodedPacket, EthernetHeader } from '../packet/types';
import type { PacketRecord } from '../records';
import { readU64BE, toHex } from '../bytes';
import * as C from './constants';
import { ConntrackDecoder } from '../conntrack/decode';
import { ARPHRD_ETHER, ETH_HLEN } from '../packet/protocols';

const PREFIX_CACHE_SIZE = 16;

/** "08:00" for 0x0800: the EtherType as the kernel prints the last two bytes of a MAC header. */
const ETHER_TYPE_TEXT: string[] = [];
function etherTypeText(etherType: number): string {
  let text = ETHER_TYPE_TEXT[etherType];
  if (text === undefined) {
    const hex = etherType.toString(16).padStart(4, '0');
    text = ETHER_TYPE_TEXT[etherType] = hex.slice(0, 2) + ':' + hex.slice(2);
  }
  return text;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Reusable state for decoding many messages: attribute tables and the prefix cache. */
export class NflogDecoder {
  private readonly attrs = new AttributeTable(C.NFULA_MAX);
  private readonly vlanAttrs = new AttributeTable(C.NFULA_VLAN_MAX);
  private readonly conntrack = new ConntrackDecoder();
  /** Prefixes repeat: the strings of the last few, most recent first. */
  private readonly prefixes: Array<{ bytes: Uint8Array; text: string }> = [];

  constructor(private readonly includePayload = false) {}

  /**
   * Decodes the message at bytes[offset, offset + length) (a whole nlmsghdr
   * with type NFLOG_PACKET_TYPE). `receivedUs` stands in for the timestamp
   * when the kernel sent none.
   */
  decode(bytes: Uint8Array, view: DataView, offset: number, length: number, receivedUs: number): PacketRecord {
    return this.decodeBody(bytes, view, offset + NLMSG_HDRLEN, offset + length, receivedUs);
  }

  /**
   * Decodes an NFLOG entry without its nlmsghdr: bytes[body, end) holds the
   * nfgenmsg and the attributes (what a LINKTYPE_NFLOG pcap record holds).
   */
  decodeBody(bytes: Uint8Array, view: DataView, body: number, end: number, receivedUs: number): PacketRecord {
    // Every field in the literal, in one order: all records share one hidden class.
    const record: PacketRecord = {
      kind: 'packet',
      group: 0,
      groupLabel: undefined,
      family: 0,
      hook: 0,
      hwProtocol: 0,
      prefix: '',
      timestampUs: receivedUs,
      kernelTimestamp: false,
      receivedUs,
      mark: undefined,
      inIfindex: undefined,
      outIfindex: undefined,
      physInIfindex: undefined,
      physOutIfindex: undefined,
      inInterface: undefined,
      outInterface: undefined,
      physInInterface: undefined,
      physOutInterface: undefined,
      hwAddr: undefined,
      hwType: undefined,
      hwLen: undefined,
      hwHeader: undefined,
      uid: undefined,
      gid: undefined,
      seq: undefined,
      seqGlobal: undefined,
      vlan: undefined,
      l2Header: undefined,
      ctInfo: undefined,
      ct: undefined,
      payloadLength: 0,
      packet: EMPTY_PACKET,
      payload: undefined,
      decodeError: undefined,
    };
    if (body + C.NFGENMSG_LEN > end) {
      record.decodeError = 'nflog.truncated';
      return record;
    }
    record.family = bytes[body];
    record.group = view.getUint16(body + 2);
    const attrs = this.attrs;
    const fault = attrs.parse(view, body + nlAlign(C.NFGENMSG_LEN), end);
    if (fault) record.decodeError = fault;
    const o = attrs.offsets;
    const n = attrs.lengths;

    if (o[C.NFULA_PACKET_HDR] >= 0 && n[C.NFULA_PACKET_HDR] >= 3) {
      record.hwProtocol = view.getUint16(o[C.NFULA_PACKET_HDR]);
      record.hook = bytes[o[C.NFULA_PACKET_HDR] + 2];
    }
    if (o[C.NFULA_TIMESTAMP] >= 0 && n[C.NFULA_TIMESTAMP] >= 16) {
      const at = o[C.NFULA_TIMESTAMP];
      record.timestampUs = readU64BE(view, at) * 1e6 + readU64BE(view, at + 8);
      record.kernelTimestamp = true;
    }
    if (o[C.NFULA_PREFIX] >= 0) record.prefix = this.prefix(bytes, o[C.NFULA_PREFIX], n[C.NFULA_PREFIX]);
    if (o[C.NFULA_MARK] >= 0 && n[C.NFULA_MARK] >= 4) record.mark = view.getUint32(o[C.NFULA_MARK]);
    if (o[C.NFULA_IFINDEX_INDEV] >= 0 && n[C.NFULA_IFINDEX_INDEV] >= 4)
      record.inIfindex = view.getUint32(o[C.NFULA_IFINDEX_INDEV]);
    if (o[C.NFULA_IFINDEX_OUTDEV] >= 0 && n[C.NFULA_IFINDEX_OUTDEV] >= 4)
      record.outIfindex = view.getUint32(o[C.NFULA_IFINDEX_OUTDEV]);
    if (o[C.NFULA_IFINDEX_PHYSINDEV] >= 0 && n[C.NFULA_IFINDEX_PHYSINDEV] >= 4)
      record.physInIfindex = view.getUint32(o[C.NFULA_IFINDEX_PHYSINDEV]);
    if (o[C.NFULA_IFINDEX_PHYSOUTDEV] >= 0 && n[C.NFULA_IFINDEX_PHYSOUTDEV] >= 4)
      record.physOutIfindex = view.getUint32(o[C.NFULA_IFINDEX_PHYSOUTDEV]);
    // NFULA_HWADDR: made into text at the end, where it can reuse the MAC header's source.
    let hwAddrAt = -1;
    let hwAddrLen = 0;
    if (o[C.NFULA_HWADDR] >= 0 && n[C.NFULA_HWADDR] >= 4) {
      hwAddrAt = o[C.NFULA_HWADDR] + 4;
      hwAddrLen = Math.min(view.getUint16(o[C.NFULA_HWADDR]), 8, n[C.NFULA_HWADDR] - 4);
    }
    if (o[C.NFULA_UID] >= 0 && n[C.NFULA_UID] >= 4) record.uid = view.getUint32(o[C.NFULA_UID]);
    if (o[C.NFULA_GID] >= 0 && n[C.NFULA_GID] >= 4) record.gid = view.getUint32(o[C.NFULA_GID]);
    if (o[C.NFULA_SEQ] >= 0 && n[C.NFULA_SEQ] >= 4) record.seq = view.getUint32(o[C.NFULA_SEQ]);
    if (o[C.NFULA_SEQ_GLOBAL] >= 0 && n[C.NFULA_SEQ_GLOBAL] >= 4)
      record.seqGlobal = view.getUint32(o[C.NFULA_SEQ_GLOBAL]);
    if (o[C.NFULA_HWTYPE] >= 0 && n[C.NFULA_HWTYPE] >= 2) record.hwType = view.getUint16(o[C.NFULA_HWTYPE]);
    if (o[C.NFULA_HWLEN] >= 0 && n[C.NFULA_HWLEN] >= 2) record.hwLen = view.getUint16(o[C.NFULA_HWLEN]);
    if (o[C.NFULA_CT_INFO] >= 0 && n[C.NFULA_CT_INFO] >= 4) record.ctInfo = view.getUint32(o[C.NFULA_CT_INFO]);
    if (o[C.NFULA_CT] >= 0) {
      const at = o[C.NFULA_CT];
      record.ct = this.conntrack.decodeAttributes(bytes, view, at, at + n[C.NFULA_CT], record.family, receivedUs);
    }
    if (o[C.NFULA_L2HDR] >= 0) record.l2Header = toHex(bytes, o[C.NFULA_L2HDR], n[C.NFULA_L2HDR]);
    if (o[C.NFULA_VLAN] >= 0) this.vlan(record, view, o[C.NFULA_VLAN], n[C.NFULA_VLAN]);

    // Copy what the packet decoder needs before anything else reuses the tables.
    const hwHeaderAt = o[C.NFULA_HWHEADER];
    const hwHeaderLen = n[C.NFULA_HWHEADER];
    const payloadAt = o[C.NFULA_PAYLOAD];
    if (payloadAt >= 0) {
      const payloadLen = n[C.NFULA_PAYLOAD];
      record.payloadLength = payloadLen;
      record.packet = decodePacket(bytes, payloadAt, payloadLen, startForHwProtocol(record.hwProtocol, record.family));
      if (record.packet.error && !record.decodeError) record.decodeError = record.packet.error;
      if (this.includePayload) record.payload = bytes.slice(payloadAt, payloadAt + payloadLen);
    } else {
      record.packet = {};
    }
    // The MAC header travels beside the payload for IP families: decode its addresses.
    if (hwHeaderAt >= 0 && hwHeaderLen > 0) {
      if (!record.packet.link && record.hwType === ARPHRD_ETHER && hwHeaderLen >= ETH_HLEN) {
        const link: EthernetHeader = {
          kind: 'ethernet',
          dst: macToString(bytes, hwHeaderAt, 6),
          src: macToString(bytes, hwHeaderAt + 6, 6),
          etherType: view.getUint16(hwHeaderAt + 12),
          vlans: [],
        };
        record.packet.link = link;
        // The same text the header's bytes give, from the addresses just made (MAC text is a hot spot).
        record.hwHeader =
          hwHeaderLen === ETH_HLEN ? link.dst + ':' + link.src + ':' + etherTypeText(link.etherType) : linkHeaderToString(bytes, hwHeaderAt, hwHeaderLen);
        if (hwAddrLen === 6 && sameBytes(bytes, hwAddrAt, hwHeaderAt + 6, 6)) record.hwAddr = link.src;
      } else {
        record.hwHeader = linkHeaderToString(bytes, hwHeaderAt, hwHeaderLen);
      }
    }
    if (hwAddrLen > 0 && record.hwAddr === undefined) record.hwAddr = macToString(bytes, hwAddrAt, hwAddrLen);
    return record;
  }

  private prefix(bytes: Uint8Array, at: number, length: number): string {
    // The kernel sends the prefix NUL-terminated.
    let len = 0;
    while (len < length && bytes[at + len] !== 0) len++;
    const known = this.prefixes;
    search: for (let k = 0; k < known.length; k++) {
      const entry = known[k];
      if (entry.bytes.length !== len) continue;
      for (let i = 0; i < len; i++) if (entry.bytes[i] !== bytes[at + i]) continue search;
      return entry.text;
    }
    let text = '';
    for (let i = 0; i < len; i++) text += String.fromCharCode(bytes[at + i]);
    if (known.length >= PREFIX_CACHE_SIZE) known.pop();
    known.unshift({ bytes: bytes.slice(at, at + len), text });
    return text;
  }

  private vlan(record: PacketRecord, view: DataView, at: number, length: number): void {
    const t = this.vlanAttrs;
    if (t.parse(view, at, at + length)) return;
    if (!t.has(C.NFULA_VLAN_TCI) || t.lengths[C.NFULA_VLAN_TCI] < 2) return;
    const tci = view.getUint16(t.offsets[C.NFULA_VLAN_TCI]);
    const proto = t.has(C.NFULA_VLAN_PROTO) && t.lengths[C.NFULA_VLAN_PROTO] >= 2 ? view.getUint16(t.offsets[C.NFULA_VLAN_PROTO]) : 0;
    record.vlan = { proto, tci, id: tci & 0x0fff };
  }
}

/** Shared empty layers for entries without a payload; replaced, never mutated. */
const EMPTY_PACKET: DecodedPacket = Object.freeze({}) as DecodedPacket;

/** Is this nlmsghdr type an NFLOG packet? */
export function isNflogPacket(type: number): boolean {
  return type === C.NFLOG_PACKET_TYPE;
}
