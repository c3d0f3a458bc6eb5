// IPFIX (RFC 7011) messages from conntrack flow records: a pure encoder,
// records in, message bytes out, with no socket and no clock of its own (the
// caller passes the time). Network byte order throughout.
//
// Per record:
//   - NEW (or a flow found by a table dump) of a translated flow: a NAT event,
//     natEvent "session create" (RFC 8158);
//   - DESTROY of a translated flow: a NAT event "session delete", and a flow
//     record with both directions' counters, start, end and end reason;
//   - with flowStarts, NEW (or dump) of any flow also gives a flow start
//     record (firewallEvent "flow created": start time, tuples, no counters).
// Untranslated flows give flow records, and NAT events only when asked.
//
// Templates go at the head of the first message of a session and, for UDP
// (templateRefreshMs), again once the interval has passed, so a collector
// started late or restarted can decode within that interval. The sequence
// number counts the data records sent before each message, per session.
import { parseIpInto } from '../packet/ip-text';
import type { ResolvedIpfixOptions } from './options';
import type { FlowRecord, FlowTuple } from '../records';
import { FIREWALL_EVENT, FLOW_END_REASON, NAT_EVENT, recordLength, TEMPLATES, type TemplateSpec } from './elements';

export const IPFIX_VERSION = 10;
export const MESSAGE_HEADER_BYTES = 16;
export const SET_HEADER_BYTES = 4;
export const TEMPLATE_SET_ID = 2;

/** One finished message and the data records it carries (for loss counts). */
export interface IpfixMessage {
  bytes: Buffer;
  records: number;
}

export interface IpfixEncoderCounters {
  /** NAT event data records encoded. */
  natEvents: number;
  /** Flow data records encoded (at DESTROY). */
  flows: number;
  /** Flow start data records encoded (at NEW, with flowStarts). */
  flowStarts: number;
  /** Records that produce nothing by design (UPDATE events, untranslated flows without flows or untranslated on). */
  ignored: number;
  /** Records that could not be encoded: a tuple or an address missing or of the wrong family. */
  unencodable: number;
  messages: number;
  templateSends: number;
}

const BASE_TEMPLATES: readonly TemplateSpec[] = [TEMPLATES.natEvent4, TEMPLATES.natEvent6, TEMPLATES.flow4, TEMPLATES.flow6];
const START_TEMPLATES: readonly TemplateSpec[] = [...BASE_TEMPLATES, TEMPLATES.flowStart4, TEMPLATES.flowStart6];

/** The template set of these templates, as bytes. */
export function templateSet(templates: readonly TemplateSpec[] = BASE_TEMPLATES): Buffer {
  let length = SET_HEADER_BYTES;
  for (const t of templates) {
    length += 4;
    for (const field of t.fields) length += field.enterprise === undefined ? 4 : 8;
  }
  const out = Buffer.alloc(length);
  out.writeUInt16BE(TEMPLATE_SET_ID, 0);
  out.writeUInt16BE(length, 2);
  let at = SET_HEADER_BYTES;
  for (const t of templates) {
    out.writeUInt16BE(t.id, at);
    out.writeUInt16BE(t.fields.length, at + 2);
    at += 4;
    for (const field of t.fields) {
      out.writeUInt16BE(field.enterprise === undefined ? field.id : field.id | 0x8000, at);
      out.writeUInt16BE(field.length, at + 2);
      at += 4;
      if (field.enterprise !== undefined) {
        out.writeUInt32BE(field.enterprise, at);
        at += 4;
      }
    }
  }
  return out;
}

/** A template withdrawal of every template of this exporter (RFC 7011 §8.1: ID 2 with no fields); TCP only. */
export function withdrawAllSet(): Buffer {
  const out = Buffer.alloc(SET_HEADER_BYTES + 4);
  out.writeUInt16BE(TEMPLATE_SET_ID, 0);
  out.writeUInt16BE(out.length, 2);
  out.writeUInt16BE(TEMPLATE_SET_ID, 4);
  out.writeUInt16BE(0, 6);
  return out;
}

/** Largest IPFIX message for an MTU: less the IP header (20 for IPv4, 40 for IPv6) and UDP's 8. */
export function maxMessageBytes(mtu: number, ipv6: boolean): number {
  return mtu - (ipv6 ? 48 : 28);
}

const NAT4_BYTES = recordLength(TEMPLATES.natEvent4);
const NAT6_BYTES = recordLength(TEMPLATES.natEvent6);
const FLOW4_BYTES = recordLength(TEMPLATES.flow4);
const FLOW6_BYTES = recordLength(TEMPLATES.flow6);
const START4_BYTES = recordLength(TEMPLATES.flowStart4);
const START6_BYTES = recordLength(TEMPLATES.flowStart6);
const TWO_32 = 0x1_0000_0000;

const ICMP = 1;
const ICMPV6 = 58;
const TCP = 6;
// TCP states in which conntrack saw the connection close (FIN or RST exchanged).
const TCP_CLOSING = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE']);

export class IpfixEncoder {
  readonly counters: IpfixEncoderCounters = {
    natEvents: 0,
    flows: 0,
    flowStarts: 0,
    ignored: 0,
    unencodable: 0,
    messages: 0,
    templateSends: 0,
  };
  private readonly options: ResolvedIpfixOptions;
  private readonly maxBytes: number;
  /** The templates this exporter uses: the flow start ones only when asked. */
  private readonly templateSet: Buffer;
  private buffer: Buffer;
  private view: DataView;
  private used = 0;
  private recordsInMessage = 0;
  private setStart = -1;
  private setTemplate = -1;
  /** Data records sent in this session before the open message (mod 2^32). */
  private sequence = 0;
  private templatesSent = false;
  private templatesAtMs = 0;
  private nowMs = 0;
  private finished: IpfixMessage[] = [];
  /** The record's four addresses, parsed once: before and after NAT, source then destination (16 bytes each). */
  private readonly addresses = new Uint8Array(64);
  private readonly scratch = new Uint8Array(16);
  /** The text each address slot holds now, and its length (see parse()). */
  private readonly parsedText: string[] = ['', '', '', ''];
  private readonly parsedLength: number[] = [0, 0, 0, 0];

  /** maxBytes: the message bound (see maxMessageBytes); it must hold the templates and one record of each. */
  constructor(options: ResolvedIpfixOptions, maxBytes: number) {
    this.templateSet = templateSet(options.flowStarts ? START_TEMPLATES : BASE_TEMPLATES);
    const least = MESSAGE_HEADER_BYTES + this.templateSet.length + SET_HEADER_BYTES + FLOW6_BYTES;
    if (maxBytes < least || maxBytes > 65535)
      throw new RangeError(`netfilter-collector: an IPFIX message must be ${least} to 65535 bytes, got ${maxBytes}`);
    this.options = options;
    this.maxBytes = maxBytes;
    this.buffer = Buffer.allocUnsafeSlow(maxBytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, maxBytes);
  }

  /** Encodes what this record exports (maybe nothing). nowMs: the current time, for export times and template refresh. */
  add(record: FlowRecord, nowMs: number): void {
    this.nowMs = nowMs;
    const event = record.event;
    if (event === 'update') {
      this.counters.ignored++;
      return;
    }
    const original = record.original;
    const reply = record.reply;
    if (original === undefined || reply === undefined || (record.family !== 2 && record.family !== 10)) {
      this.counters.unencodable++;
      return;
    }
    const translated = record.nat !== undefined;
    const natEvent = this.options.natEvents && (translated || this.options.untranslated);
    const flow = this.options.flows && event === 'destroy';
    const flowStart = this.options.flowStarts && event !== 'destroy';
    if (!natEvent && !flow && !flowStart) {
      this.counters.ignored++;
      return;
    }
    const v6 = record.family === 10;
    // Every address must parse to the family's length before anything is written.
    const addressBytes = v6 ? 16 : 4;
    if (
      !this.parse(original.src, 0, addressBytes) ||
      !this.parse(reply.dst, 16, addressBytes) ||
      !this.parse(original.dst, 32, addressBytes) ||
      !this.parse(reply.src, 48, addressBytes)
    ) {
      this.counters.unencodable++;
      return;
    }
    if (natEvent) {
      const create = event !== 'destroy';
      const value = v6
        ? create
          ? NAT_EVENT.nat64SessionCreate
          : NAT_EVENT.nat64SessionDelete
        : create
          ? NAT_EVENT.nat44SessionCreate
          : NAT_EVENT.nat44SessionDelete;
      this.writeNatEvent(record, original, reply, v6, value);
      this.counters.natEvents++;
    }
    if (flow) {
      this.writeFlow(record, original, reply, v6);
      this.counters.flows++;
    }
    if (flowStart) {
      this.writeFlowStart(record, original, reply, v6);
      this.counters.flowStarts++;
    }
  }

  /** The messages finished so far, the open one included; nowMs stamps the open one's export time. */
  take(nowMs: number): IpfixMessage[] {
    this.nowMs = nowMs;
    if (this.recordsInMessage > 0) this.finish();
    const out = this.finished;
    this.finished = [];
    return out;
  }

  /**
   * A new transport session (a new TCP connection): templates go first again and sequence numbers
   * start over. Messages not yet taken are kept, and re-stamped on take() only if still open.
   */
  newSession(): void {
    this.sequence = 0;
    this.templatesSent = false;
  }

  /** A message of the templates alone, counted as sent (a TCP connection's first message). */
  templateMessage(nowMs: number): IpfixMessage {
    this.nowMs = nowMs;
    const bytes = Buffer.alloc(MESSAGE_HEADER_BYTES + this.templateSet.length);
    this.templateSet.copy(bytes, MESSAGE_HEADER_BYTES);
    this.header(bytes, bytes.length, this.sequence);
    this.templatesSent = true;
    this.templatesAtMs = nowMs;
    this.counters.templateSends++;
    this.counters.messages++;
    return { bytes, records: 0 };
  }

  /** A message withdrawing every template (the end of a TCP session; never over UDP, RFC 7011 §8.4). */
  withdrawalMessage(nowMs: number): IpfixMessage {
    this.nowMs = nowMs;
    const set = withdrawAllSet();
    const bytes = Buffer.alloc(MESSAGE_HEADER_BYTES + set.length);
    set.copy(bytes, MESSAGE_HEADER_BYTES);
    this.header(bytes, bytes.length, this.sequence);
    this.counters.messages++;
    return { bytes, records: 0 };
  }

  private parse(address: string, slot: number, length: number): boolean {
    // A gateway's translated address (and often the peer's) repeats from record to record: parse it once.
    const index = slot >> 4;
    if (address === this.parsedText[index] && length === this.parsedLength[index]) return true;
    if (parseIpInto(address, this.scratch) !== length) return false;
    this.addresses.set(this.scratch, slot);
    this.parsedText[index] = address;
    this.parsedLength[index] = length;
    return true;
  }

  /** Room for one record of `bytes` in template `id`: a new message, a new set, or the open set. */
  private open(id: number, bytes: number): number {
    if (this.used > 0 && this.used + bytes + (this.setTemplate === id ? 0 : SET_HEADER_BYTES) > this.maxBytes) this.finish();
    if (this.used === 0) {
      this.used = MESSAGE_HEADER_BYTES;
      const refresh = this.templatesSent && this.nowMs - this.templatesAtMs >= this.options.templateRefreshMs;
      if (!this.templatesSent || refresh) {
        this.templateSet.copy(this.buffer, this.used);
        this.used += this.templateSet.length;
        this.templatesSent = true;
        this.templatesAtMs = this.nowMs;
        this.counters.templateSends++;
      }
    }
    if (this.setTemplate !== id) {
      this.closeSet();
      this.setStart = this.used;
      this.setTemplate = id;
      this.view.setUint16(this.used, id);
      this.used += SET_HEADER_BYTES;
    }
    const at = this.used;
    this.used += bytes;
    this.recordsInMessage++;
    return at;
  }

  private closeSet(): void {
    if (this.setStart >= 0) this.view.setUint16(this.setStart + 2, this.used - this.setStart);
    this.setStart = -1;
    this.setTemplate = -1;
  }

  private finish(): void {
    this.closeSet();
    const bytes = Buffer.allocUnsafeSlow(this.used);
    this.buffer.copy(bytes, 0, 0, this.used);
    this.header(bytes, this.used, this.sequence);
    this.finished.push({ bytes, records: this.recordsInMessage });
    this.sequence = (this.sequence + this.recordsInMessage) % TWO_32;
    this.counters.messages++;
    this.used = 0;
    this.recordsInMessage = 0;
  }

  private header(bytes: Buffer, length: number, sequence: number): void {
    bytes.writeUInt16BE(IPFIX_VERSION, 0);
    bytes.writeUInt16BE(length, 2);
    bytes.writeUInt32BE(Math.floor(this.nowMs / 1000) % TWO_32, 4);
    bytes.writeUInt32BE(sequence, 8);
    bytes.writeUInt32BE(this.options.observationDomainId, 12);
  }

  private u64(at: number, value: number): void {
    const v = Math.max(value, 0);
    this.view.setUint32(at, Math.floor(v / TWO_32));
    this.view.setUint32(at + 4, v >>> 0);
  }

  /** An address parsed by add() (slot 0, 16, 32, 48) and a port (the ICMP identifier where the protocol has none). */
  private endpoint(at: number, slot: number, port: number, length: number): number {
    const buffer = this.buffer;
    const addresses = this.addresses;
    for (let i = 0; i < length; i++) buffer[at + i] = addresses[slot + i];
    this.view.setUint16(at + length, port);
    return at + length + 2;
  }

  private writeNatEvent(record: FlowRecord, o: FlowTuple, r: FlowTuple, v6: boolean, natEvent: number): void {
    const length = v6 ? 16 : 4;
    let at = this.open(v6 ? TEMPLATES.natEvent6.id : TEMPLATES.natEvent4.id, v6 ? NAT6_BYTES : NAT4_BYTES);
    this.u64(at, Math.floor(record.timestampUs / 1000));
    this.buffer[at + 8] = natEvent;
    this.buffer[at + 9] = o.protocol;
    at = this.tuples(at + 10, o, r, length);
    this.view.setUint32(at, record.zone ?? 0);
  }

  private writeFlow(record: FlowRecord, o: FlowTuple, r: FlowTuple, v6: boolean): void {
    const length = v6 ? 16 : 4;
    let at = this.open(v6 ? TEMPLATES.flow6.id : TEMPLATES.flow4.id, v6 ? FLOW6_BYTES : FLOW4_BYTES);
    // Without the kernel's timestamps (nf_conntrack_timestamp=0), the event's own time.
    this.u64(at, Math.floor((record.startUs ?? record.timestampUs) / 1000));
    this.u64(at + 8, Math.floor((record.stopUs ?? record.timestampUs) / 1000));
    this.u64(at + 16, record.originalBytes ?? 0);
    this.u64(at + 24, record.originalPackets ?? 0);
    this.u64(at + 32, record.replyBytes ?? 0);
    this.u64(at + 40, record.replyPackets ?? 0);
    this.buffer[at + 48] = o.protocol;
    const closed = o.protocol === TCP && record.stateName !== undefined && TCP_CLOSING.has(record.stateName);
    this.buffer[at + 49] = closed ? FLOW_END_REASON.endOfFlowDetected : FLOW_END_REASON.idleTimeout;
    at = this.tuples(at + 50, o, r, length);
    const icmp = o.protocol === ICMP || o.protocol === ICMPV6;
    this.view.setUint16(at, icmp ? (((o.icmpType ?? 0) & 0xff) << 8) | ((o.icmpCode ?? 0) & 0xff) : 0);
    this.view.setUint32(at + 2, record.mark ?? 0);
    this.view.setUint32(at + 6, record.zone ?? 0);
  }

  private writeFlowStart(record: FlowRecord, o: FlowTuple, r: FlowTuple, v6: boolean): void {
    const length = v6 ? 16 : 4;
    let at = this.open(v6 ? TEMPLATES.flowStart6.id : TEMPLATES.flowStart4.id, v6 ? START6_BYTES : START4_BYTES);
    this.u64(at, Math.floor((record.startUs ?? record.timestampUs) / 1000));
    this.buffer[at + 8] = o.protocol;
    this.buffer[at + 9] = FIREWALL_EVENT.flowCreated;
    at = this.tuples(at + 10, o, r, length);
    const icmp = o.protocol === ICMP || o.protocol === ICMPV6;
    this.view.setUint16(at, icmp ? (((o.icmpType ?? 0) & 0xff) << 8) | ((o.icmpCode ?? 0) & 0xff) : 0);
    this.view.setUint32(at + 2, record.mark ?? 0);
    this.view.setUint32(at + 6, record.zone ?? 0);
  }

  /**
   * Before and after translation, from conntrack's two tuples: the source was original.src and became
   * reply.dst; the destination was original.dst and became reply.src (see conntrack/nat.ts).
   */
  private tuples(at: number, o: FlowTuple, r: FlowTuple, length: number): number {
    const icmp = o.protocol === ICMP || o.protocol === ICMPV6;
    at = this.endpoint(at, 0, (icmp ? o.icmpId : o.srcPort) ?? 0, length);
    at = this.endpoint(at, 16, (icmp ? r.icmpId : r.dstPort) ?? 0, length);
    at = this.endpoint(at, 32, icmp ? 0 : (o.dstPort ?? 0), length);
    return this.endpoint(at, 48, icmp ? 0 : (r.srcPort ?? 0), length);
  }
}
