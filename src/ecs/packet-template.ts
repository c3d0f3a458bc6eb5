// An ECS packet line with holes for what changes from packet to packet.
//
// Packets of one flow share almost all of their line: addresses, ports,
// Community ID, interfaces, prefix, rule, every key. packet-json.ts writes the
// line once with a slot marker where a per-packet number goes; the parts
// between the markers are kept, and each later packet of the flow costs only
// its numbers and one concatenation.
//
// A marker is a NUL character and a slot letter. The line's text never holds
// a raw NUL otherwise: strings are JSON-escaped (NUL as \u0000), and names,
// numbers and hex are ASCII.
import type { PacketRecord } from '../records';
import type { Ipv4Header, Ipv6Header, TcpHeader, UdpHeader, IcmpHeader } from '../packet/types';
import { formatTimestampUs } from './timestamp';

const MARK = '\u0000';

/** Slot markers, to write into a line where a per-packet value goes. */
export const SLOT = {
  timestamp: MARK + 'a',
  created: MARK + 'b',
  seq: MARK + 'c',
  seqGlobal: MARK + 'd',
  /** source.bytes: the IP datagram length. */
  bytes: MARK + 'e',
  payloadLength: MARK + 'f',
  ipv4Id: MARK + 'g',
  udpLength: MARK + 'h',
  tcpWindow: MARK + 'i',
  tcpSeq: MARK + 'j',
  tcpAck: MARK + 'k',
  /** The TCP options as a JSON string (they hold timestamps, so they change per packet). */
  tcpOptions: MARK + 'l',
  icmpSequence: MARK + 'm',
} as const;

/** A line split at its slots: parts[0] slot[0] parts[1] … slot[n-1] parts[n]. */
export interface PacketTemplate {
  parts: string[];
  /** Slot letters' char codes. */
  slots: number[];
}

/** Splits a line written with SLOT markers. */
export function parseTemplate(text: string): PacketTemplate {
  const pieces = text.split(MARK);
  const parts = [pieces[0]];
  const slots: number[] = [];
  for (let i = 1; i < pieces.length; i++) {
    slots.push(pieces[i].charCodeAt(0));
    parts.push(pieces[i].slice(1));
  }
  return { parts, slots };
}

/** A JSON string literal; plain ASCII without quotes or backslashes (most values) is written as is. */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

// The slot letters' codes (SLOT.x.charCodeAt(1)).
const A = 0x61;

function slotValue(slot: number, r: PacketRecord): string | number | undefined {
  const pkt = r.packet;
  switch (slot - A) {
    case 0:
      return formatTimestampUs(r.timestampUs);
    case 1:
      return formatTimestampUs(r.receivedUs);
    case 2:
      return r.seq;
    case 3:
      return r.seqGlobal;
    case 4: {
      const net = pkt.network as Ipv4Header | Ipv6Header;
      return net.kind === 'ipv4' ? net.totalLength : net.payloadLength + 40;
    }
    case 5:
      return r.payloadLength;
    case 6:
      return (pkt.network as Ipv4Header).id;
    case 7:
      return (pkt.transport as UdpHeader).length;
    case 8:
      return (pkt.transport as TcpHeader).window;
    case 9:
      return (pkt.transport as TcpHeader).seq;
    case 10:
      return (pkt.transport as TcpHeader).ack;
    case 11:
      return jsonString((pkt.transport as TcpHeader).options);
    case 12:
      return (pkt.transport as IcmpHeader).sequence;
  }
  return undefined;
}

/** The line of a record whose shape the template was written for. */
export function fillTemplate(template: PacketTemplate, record: PacketRecord): string {
  const { parts, slots } = template;
  let out = parts[0];
  for (let i = 0; i < slots.length; i++) out = out + slotValue(slots[i], record) + parts[i + 1];
  return out;
}
