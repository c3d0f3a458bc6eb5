// An ECS packet line with holes for what changes from packet to packet.
//
// Packets of one flow share almost all of their line: addresses, ports,
// Community ID, interfaces, prefix, rule, every key. packet-json.ts writes the
// line once with a slot marker where a per-packet number goes; the parts
// between the markers are kept, and each later packet of the flow costs only
// its numbers and one concatenation.
//
// The same builder writes a line in full when given the record's own values
// instead of the markers: the first packet of a shape, and shapes that are
// not kept, cost no more than before templates.
//
// A marker is a NUL character and a slot letter. The line's text never holds
// a raw NUL otherwise: strings are JSON-escaped (NUL as \u0000), and names,
// numbers and hex are ASCII.
import type { PacketRecord } from '../records';
import { jsonString } from './json-string';
import { formatTimestampUs, MAX_TIMESTAMP_BYTES, writeTimestampUs } from './timestamp';

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

export type SlotName = keyof typeof SLOT;

// The slots' letter codes, as a template keeps them.
const code = (name: SlotName): number => SLOT[name].charCodeAt(1);
const TIMESTAMP = code('timestamp');
const CREATED = code('created');
const SEQ = code('seq');
const SEQ_GLOBAL = code('seqGlobal');
const BYTES = code('bytes');
const PAYLOAD_LENGTH = code('payloadLength');
const IPV4_ID = code('ipv4Id');
const UDP_LENGTH = code('udpLength');
const TCP_WINDOW = code('tcpWindow');
const TCP_SEQ = code('tcpSeq');
const TCP_ACK = code('tcpAck');
const TCP_OPTIONS = code('tcpOptions');
const ICMP_SEQUENCE = code('icmpSequence');

/** What a line builder writes at each slot: the markers (SLOT), or a record's own values (slotValues). */
export type SlotTexts = Readonly<Record<SlotName, string | number | undefined>>;

/** A line split at its slots: parts[0] slot[0] parts[1] … slot[n-1] parts[n]. */
export interface PacketTemplate {
  parts: string[];
  /** The parts UTF-8 encoded, for writing lines straight into an output buffer. */
  partBytes: Buffer[];
  /** Slot letters' char codes. */
  slots: number[];
  /** The longest line the template writes, but for the TCP options' text. */
  maxBytes: number;
}

/** The most bytes a slot other than the TCP options writes: a timestamp (the longest), or a number as JavaScript prints it. */
const MAX_SLOT_BYTES = MAX_TIMESTAMP_BYTES;

/** Splits a line written with SLOT markers. */
export function parseTemplate(text: string): PacketTemplate {
  const pieces = text.split(MARK);
  const parts = [pieces[0]];
  const slots: number[] = [];
  for (let i = 1; i < pieces.length; i++) {
    slots.push(pieces[i].charCodeAt(0));
    parts.push(pieces[i].slice(1));
  }
  const partBytes = parts.map((part) => Buffer.from(part, 'utf8'));
  let maxBytes = slots.length * MAX_SLOT_BYTES;
  for (const bytes of partBytes) maxBytes += bytes.length;
  return { parts, partBytes, slots, maxBytes };
}

/** A slot's value in a record; undefined where the record has no such field. */
function slotValue(slot: number, r: PacketRecord): string | number | undefined {
  const net = r.packet.network;
  const tr = r.packet.transport;
  switch (slot) {
    case TIMESTAMP:
      return formatTimestampUs(r.timestampUs);
    case CREATED:
      return formatTimestampUs(r.receivedUs);
    case SEQ:
      return r.seq;
    case SEQ_GLOBAL:
      return r.seqGlobal;
    case BYTES:
      return net?.kind === 'ipv4' ? net.totalLength : net?.kind === 'ipv6' ? net.payloadLength + 40 : undefined;
    case PAYLOAD_LENGTH:
      return r.payloadLength;
    case IPV4_ID:
      return net?.kind === 'ipv4' ? net.id : undefined;
    case UDP_LENGTH:
      return tr?.kind === 'udp' || tr?.kind === 'udplite' ? tr.length : undefined;
    case TCP_WINDOW:
      return tr?.kind === 'tcp' ? tr.window : undefined;
    case TCP_SEQ:
      return tr?.kind === 'tcp' ? tr.seq : undefined;
    case TCP_ACK:
      return tr?.kind === 'tcp' ? tr.ack : undefined;
    case TCP_OPTIONS:
      return tr?.kind === 'tcp' ? jsonString(tr.options) : undefined;
    case ICMP_SEQUENCE:
      return tr?.kind === 'icmp' || tr?.kind === 'icmpv6' ? tr.sequence : undefined;
  }
  return undefined;
}

const VALUES: Record<SlotName, string | number | undefined> = {
  timestamp: '',
  created: '',
  seq: undefined,
  seqGlobal: undefined,
  bytes: undefined,
  payloadLength: 0,
  ipv4Id: undefined,
  udpLength: undefined,
  tcpWindow: undefined,
  tcpSeq: undefined,
  tcpAck: undefined,
  tcpOptions: undefined,
  icmpSequence: undefined,
};

/** A record's own slot values, to write its line in full. The object is shared: use it before the next call. */
export function slotValues(r: PacketRecord): SlotTexts {
  // Property by property (not a loop over the names): a store to a fixed property is cheap.
  const v = VALUES;
  v.timestamp = slotValue(TIMESTAMP, r);
  v.created = slotValue(CREATED, r);
  v.seq = slotValue(SEQ, r);
  v.seqGlobal = slotValue(SEQ_GLOBAL, r);
  v.bytes = slotValue(BYTES, r);
  v.payloadLength = slotValue(PAYLOAD_LENGTH, r);
  v.ipv4Id = slotValue(IPV4_ID, r);
  v.udpLength = slotValue(UDP_LENGTH, r);
  v.tcpWindow = slotValue(TCP_WINDOW, r);
  v.tcpSeq = slotValue(TCP_SEQ, r);
  v.tcpAck = slotValue(TCP_ACK, r);
  v.tcpOptions = slotValue(TCP_OPTIONS, r);
  v.icmpSequence = slotValue(ICMP_SEQUENCE, r);
  return v;
}

/** The most bytes writeTemplate() writes for this record. */
export function templateBytes(template: PacketTemplate, record: PacketRecord): number {
  const tr = record.packet.transport;
  // The options' JSON text: at most 6 bytes (\uXXXX) a character, and the quotes.
  return template.maxBytes + (tr?.kind === 'tcp' ? 6 * tr.options.length + 2 : 0);
}

/** fillTemplate()'s line as UTF-8 into out from `at` (templateBytes() of room); returns the end. */
export function writeTemplate(template: PacketTemplate, record: PacketRecord, out: Buffer, at: number): number {
  const { partBytes, slots } = template;
  at = copyBytes(out, at, partBytes[0]);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i];
    if (slot === TIMESTAMP) at = writeTimestampUs(out, at, record.timestampUs);
    else if (slot === CREATED) at = writeTimestampUs(out, at, record.receivedUs);
    else {
      const value = slotValue(slot, record);
      at = typeof value === 'number' ? writeNumber(out, at, value) : at + out.write(String(value), at, 'utf8');
    }
    at = copyBytes(out, at, partBytes[i + 1]);
  }
  return at;
}

function copyBytes(out: Buffer, at: number, bytes: Buffer): number {
  const n = bytes.length;
  // A short part is copied faster by hand than by a call into the runtime.
  if (n < 16) for (let i = 0; i < n; i++) out[at + i] = bytes[i];
  else out.set(bytes, at);
  return at + n;
}

/** A number as String(n) writes it; digits by hand for the usual non-negative 32-bit integers. */
function writeNumber(out: Buffer, at: number, n: number): number {
  if (!(n >= 0 && n <= 0xffffffff && n % 1 === 0)) return at + out.write(String(n), at, 'latin1');
  const end = at + decimalDigits(n);
  let i = end;
  do {
    const tenth = (n / 10) >>> 0;
    out[--i] = 0x30 + n - tenth * 10;
    n = tenth;
  } while (n > 0);
  return end;
}

function decimalDigits(n: number): number {
  if (n < 1e5) return n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : 5;
  return n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
}

/** The line of a record whose shape the template was written for. */
export function fillTemplate(template: PacketTemplate, record: PacketRecord): string {
  const { parts, slots } = template;
  let out = parts[0];
  for (let i = 0; i < slots.length; i++) out = out + slotValue(slots[i], record) + parts[i + 1];
  return out;
}
