// Decodes one NFLOG packet message (NFULNL_MSG_PACKET) into a PacketRecord.
// Pure over bytes; never throws on malformed input (faults land in decodeError).
import * as M from '../netlink/message';
import { ethernetHeaderText, linkHeaderToString, macToString } from '../packet/address';
import { decodePacketRange, startForHwProtocol } from '../packet/decode';
import type { DecodedPacket, EthernetHeader } from '../packet/types';
import type { PacketRecord } from '../records';
import { readU64BE, toHex } from '../bytes';
import * as C from './constants';
import { ConntrackDecoder } from '../conntrack/decode';
import { ARPHRD_ETHER, ETH_HLEN } from '../packet/protocols';

// Read once: the attribute switch below compares against these for every attribute, and a
// property load on the constants module per comparison costs measurably (about a tenth of decoding).
const {
  NFULA_PACKET_HDR,
  NFULA_MARK,
  NFULA_TIMESTAMP,
  NFULA_IFINDEX_INDEV,
  NFULA_IFINDEX_OUTDEV,
  NFULA_IFINDEX_PHYSINDEV,
  NFULA_IFINDEX_PHYSOUTDEV,
  NFULA_HWADDR,
  NFULA_PAYLOAD,
  NFULA_PREFIX,
  NFULA_UID,
  NFULA_SEQ,
  NFULA_SEQ_GLOBAL,
  NFULA_GID,
  NFULA_HWTYPE,
  NFULA_HWHEADER,
  NFULA_HWLEN,
  NFULA_CT,
  NFULA_CT_INFO,
  NFULA_VLAN,
  NFULA_L2HDR,
  NFGENMSG_LEN,
} = C;
const { AttributeTable, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN, nlAlign } = M;

const PREFIX_CACHE_SIZE = 16;

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Reusable state for decoding many messages: the VLAN attribute table and the prefix cache. */
export class NflogDecoder {
  private readonly vlanAttrs = new AttributeTable(C.NFULA_VLAN_MAX);
  private readonly conntrack = new ConntrackDecoder();
  /** Prefixes repeat: the strings of the last few, most recent first. */
  private readonly prefixes: Array<{ bytes: Uint8Array; words: Int32Array; text: string }> = [];

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
    // The fields most entries have, in one order: records of one rule share one hidden class. The
    // rest (rare: bridge ports, conntrack, VLAN …) are added when present.
    const record: PacketRecord = {
      kind: 'packet',
      group: 0,
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
      inInterface: undefined,
      outInterface: undefined,
      hwAddr: undefined,
      hwType: undefined,
      hwLen: undefined,
      hwHeader: undefined,
      // Every locally sent packet has a socket: entries of the output hooks carry its owner.
      uid: undefined,
      gid: undefined,
      seq: undefined,
      payloadLength: 0,
      packet: EMPTY_PACKET,
      decodeError: undefined,
    };
    if (body + NFGENMSG_LEN > end) {
      record.decodeError = 'nflog.truncated';
      return record;
    }
    record.family = bytes[body];
    record.group = view.getUint16(body + 2);

    // One pass over the attributes, straight into the record (the last of a repeated type wins).
    // The payload, the MAC header and NFULA_HWADDR are decoded after the pass: they need
    // hwProtocol, family and hwType, which may come later.
    let payloadAt = -1;
    let payloadLen = 0;
    let hwHeaderAt = -1;
    let hwHeaderLen = 0;
    let hwAddrAt = -1;
    let hwAddrLen = 0;
    let at = body + nlAlign(NFGENMSG_LEN);
    while (at + NLA_HDRLEN <= end) {
      const length = view.getUint16(at, true);
      if (length < NLA_HDRLEN || at + length > end) {
        record.decodeError = 'netlink.bad-attribute-length';
        break;
      }
      const p = at + NLA_HDRLEN;
      const n = length - NLA_HDRLEN;
      switch (view.getUint16(at + 2, true) & NLA_TYPE_MASK) {
        case NFULA_PACKET_HDR:
          record.hwProtocol = n >= 3 ? view.getUint16(p) : 0;
          record.hook = n >= 3 ? bytes[p + 2] : 0;
          break;
        case NFULA_TIMESTAMP:
          record.timestampUs = n >= 16 ? readU64BE(view, p) * 1e6 + readU64BE(view, p + 8) : receivedUs;
          record.kernelTimestamp = n >= 16;
          break;
        case NFULA_PREFIX:
          record.prefix = this.prefix(bytes, view, p, n);
          break;
        case NFULA_MARK:
          record.mark = n >= 4 ? view.getUint32(p) : undefined;
          break;
        case NFULA_IFINDEX_INDEV:
          record.inIfindex = n >= 4 ? view.getUint32(p) : undefined;
          break;
        case NFULA_IFINDEX_OUTDEV:
          record.outIfindex = n >= 4 ? view.getUint32(p) : undefined;
          break;
        case NFULA_IFINDEX_PHYSINDEV:
          if (n >= 4) record.physInIfindex = view.getUint32(p);
          break;
        case NFULA_IFINDEX_PHYSOUTDEV:
          if (n >= 4) record.physOutIfindex = view.getUint32(p);
          break;
        case NFULA_HWADDR:
          // Made into text at the end, where it can reuse the MAC header's source.
          hwAddrAt = n >= 4 ? p + 4 : -1;
          hwAddrLen = n >= 4 ? Math.min(view.getUint16(p), 8, n - 4) : 0;
          break;
        case NFULA_UID:
          record.uid = n >= 4 ? view.getUint32(p) : undefined;
          break;
        case NFULA_GID:
          record.gid = n >= 4 ? view.getUint32(p) : undefined;
          break;
        case NFULA_SEQ:
          record.seq = n >= 4 ? view.getUint32(p) : undefined;
          break;
        case NFULA_SEQ_GLOBAL:
          if (n >= 4) record.seqGlobal = view.getUint32(p);
          break;
        case NFULA_HWTYPE:
          record.hwType = n >= 2 ? view.getUint16(p) : undefined;
          break;
        case NFULA_HWLEN:
          record.hwLen = n >= 2 ? view.getUint16(p) : undefined;
          break;
        case NFULA_CT_INFO:
          if (n >= 4) record.ctInfo = view.getUint32(p);
          break;
        case NFULA_CT:
          record.ct = this.conntrack.decodeAttributes(bytes, view, p, p + n, record.family, receivedUs);
          break;
        case NFULA_L2HDR:
          record.l2Header = toHex(bytes, p, n);
          break;
        case NFULA_VLAN:
          {
            const vlan = this.vlan(view, p, n);
            if (vlan !== undefined) record.vlan = vlan;
          }
          break;
        case NFULA_HWHEADER:
          hwHeaderAt = p;
          hwHeaderLen = n;
          break;
        case NFULA_PAYLOAD:
          payloadAt = p;
          payloadLen = n;
          break;
      }
      at += nlAlign(length);
    }

    if (payloadAt >= 0) {
      record.payloadLength = payloadLen;
      record.packet = decodePacketRange(bytes, payloadAt, payloadAt + payloadLen, startForHwProtocol(record.hwProtocol, record.family));
      if (record.packet.error && !record.decodeError) record.decodeError = record.packet.error;
      if (this.includePayload) record.payload = bytes.slice(payloadAt, payloadAt + payloadLen);
    } else {
      record.packet = {};
    }
    // The MAC header travels beside the payload for IP families: decode its addresses.
    if (hwHeaderAt >= 0 && hwHeaderLen > 0) {
      if (!record.packet.link && record.hwType === ARPHRD_ETHER && hwHeaderLen >= ETH_HLEN) {
        const text = ethernetHeaderText(bytes, hwHeaderAt);
        const link: EthernetHeader = {
          kind: 'ethernet',
          dst: text.dst,
          src: text.src,
          etherType: view.getUint16(hwHeaderAt + 12),
          vlans: [],
        };
        record.packet.link = link;
        record.hwHeader = hwHeaderLen === ETH_HLEN ? text.header : linkHeaderToString(bytes, hwHeaderAt, hwHeaderLen);
        if (hwAddrLen === 6 && sameBytes(bytes, hwAddrAt, hwHeaderAt + 6, 6)) record.hwAddr = link.src;
      } else {
        record.hwHeader = linkHeaderToString(bytes, hwHeaderAt, hwHeaderLen);
      }
    }
    if (hwAddrLen > 0 && record.hwAddr === undefined) record.hwAddr = macToString(bytes, hwAddrAt, hwAddrLen);
    return record;
  }

  private prefix(bytes: Uint8Array, view: DataView, at: number, length: number): string {
    // The kernel sends the prefix NUL-terminated: the text ends at the first NUL. A known prefix
    // matches when its bytes (which hold no NUL) are there and the text ends right after them;
    // they are compared four at a time.
    const known = this.prefixes;
    search: for (let k = 0; k < known.length; k++) {
      const entry = known[k];
      const len = entry.bytes.length;
      if (len > length || (len < length && bytes[at + len] !== 0)) continue;
      const words = entry.words;
      for (let w = 0; w < words.length; w++) if (view.getInt32(at + 4 * w) !== words[w]) continue search;
      for (let i = 4 * words.length; i < len; i++) if (entry.bytes[i] !== bytes[at + i]) continue search;
      return entry.text;
    }
    let len = 0;
    while (len < length && bytes[at + len] !== 0) len++;
    let text = '';
    for (let i = 0; i < len; i++) text += String.fromCharCode(bytes[at + i]);
    const words = new Int32Array(len >> 2);
    for (let w = 0; w < words.length; w++) words[w] = view.getInt32(at + 4 * w);
    if (known.length >= PREFIX_CACHE_SIZE) known.pop();
    known.unshift({ bytes: bytes.slice(at, at + len), words, text });
    return text;
  }

  /** NFULA_VLAN's nested attributes; undefined when they are malformed or have no TCI. */
  private vlan(view: DataView, at: number, length: number): PacketRecord['vlan'] {
    const t = this.vlanAttrs;
    if (t.parse(view, at, at + length)) return undefined;
    if (!t.has(C.NFULA_VLAN_TCI) || t.lengths[C.NFULA_VLAN_TCI] < 2) return undefined;
    const tci = view.getUint16(t.offsets[C.NFULA_VLAN_TCI]);
    const proto = t.has(C.NFULA_VLAN_PROTO) && t.lengths[C.NFULA_VLAN_PROTO] >= 2 ? view.getUint16(t.offsets[C.NFULA_VLAN_PROTO]) : 0;
    return { proto, tci, id: tci & 0x0fff };
  }
}

/** Shared empty layers for entries without a payload; replaced, never mutated. */
const EMPTY_PACKET: DecodedPacket = Object.freeze({}) as DecodedPacket;

/** Is this nlmsghdr type an NFLOG packet? */
export function isNflogPacket(type: number): boolean {
  return type === C.NFLOG_PACKET_TYPE;
}
