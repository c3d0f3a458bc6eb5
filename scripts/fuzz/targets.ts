// The fuzz targets: each runs one decoder (and the formatters over what it
// returns) on one input and checks what must hold for any bytes. A target
// throws when an oracle fails; the engine records the input.
//
// Inputs that need a parameter (the layer a packet starts at, the ring source
// of a datagram) carry it in their first byte, so a case is bytes only and a
// saved input replays exactly.
import { AttributeTable, NLMSG_HDRLEN, readMessageHeader, type MessageHeader } from '../../src/netlink/message';
import { NflogDecoder } from '../../src/nflog/decode';
import { DatagramDecoder } from '../../src/datagram';
import { decodePacket, type StartLayer } from '../../src/packet/decode';
import { ConntrackDecoder, decodeConntrackAttributes } from '../../src/conntrack/decode';
import { LinkTable } from '../../src/rtnl/links';
import { packetToEcs } from '../../src/ecs/packet';
import { EcsPacketLines, packetToEcsJson } from '../../src/ecs/packet-json';
import { flowToEcs } from '../../src/ecs/flow';
import { EcsFlowLines, flowToEcsJson } from '../../src/ecs/flow-json';
import { gapToEcs, gapToEcsJson } from '../../src/ecs/gap';
import { SOURCE_CONNTRACK, SOURCE_CONNTRACK_DUMP, SOURCE_NFLOG, SOURCE_RTNL, FLAG_ENOBUFS, FLAG_TRUNCATED } from '../../src/ring/layout';
import type { CollectorRecord, FlowRecord, PacketRecord } from '../../src/records';
import { OracleError, outputBound, type Target } from './target';
export type { CaseResult, Target } from './target';
import * as S from './seeds';
import { pcapTarget } from './pcap-target';

function check(ok: boolean, what: string): void {
  if (!ok) throw new OracleError(what);
}

function withParameter(parameter: number, body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = parameter;
  out.set(body, 1);
  return out;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const FUZZ_ECS_OPTIONS = { observer: { hostname: 'fuzz' } };

/** ECS documents of any record, as a shipper would make them; returns the JSON characters made. */
function formatRecord(record: CollectorRecord): number {
  if (record.kind === 'packet') return formatPacket(record);
  if (record.kind === 'flow') return formatFlow(record);
  const json = gapToEcsJson(record, FUZZ_ECS_OPTIONS);
  check(json === JSON.stringify(gapToEcs(record, FUZZ_ECS_OPTIONS)), 'gapToEcsJson differs from JSON.stringify(gapToEcs())');
  return json.length;
}

function formatPacket(record: PacketRecord): number {
  const doc = packetToEcs(record, FUZZ_ECS_OPTIONS);
  // Through the template table: the same text as the object, whatever packets came before.
  const json = packetToEcsJson(record, FUZZ_ECS_OPTIONS);
  const text = JSON.stringify(doc);
  check(json === text, 'packetToEcsJson differs from JSON.stringify(packetToEcs())');
  if (++packetsFormatted % 16 === 0) checkTemplate(record);
  return json.length + text.length;
}

let packetsFormatted = 0;

/** A packet of a scan after this one: other addresses, ports, lengths, sequence numbers and times (the slots). */
function nextInScan(record: PacketRecord): PacketRecord {
  const r = structuredClone(record);
  r.timestampUs += 1001;
  r.receivedUs += 999;
  if (r.seq !== undefined) r.seq++;
  if (r.seqGlobal !== undefined) r.seqGlobal++;
  r.payloadLength++;
  const net = r.packet.network;
  if (net?.kind === 'ipv4') {
    net.dst = '198.51.100.7';
    net.id = (net.id + 1) & 0xffff;
    net.totalLength++;
  } else if (net?.kind === 'ipv6') {
    net.dst = '2001:db8:5ca::7';
    net.flowLabel = (net.flowLabel + 1) & 0xfffff;
    net.payloadLength++;
  }
  const tr = r.packet.transport;
  if (tr?.kind === 'tcp' || tr?.kind === 'udp' || tr?.kind === 'udplite' || tr?.kind === 'sctp') {
    tr.srcPort = (tr.srcPort + 1) & 0xffff;
    tr.dstPort = (tr.dstPort + 7) & 0xffff;
  }
  if (tr?.kind === 'tcp') {
    tr.seq = (tr.seq + 1) >>> 0;
    tr.window = (tr.window + 1) & 0xffff;
  }
  return r;
}

/** A line template made from this record (a run of its shape), then filled for the next packet of a scan. */
function checkTemplate(record: PacketRecord): void {
  const lines = new EcsPacketLines(FUZZ_ECS_OPTIONS);
  for (let i = 0; i < 18; i++) lines.line(record);
  const next = nextInScan(record);
  check(
    lines.line(next) === JSON.stringify(packetToEcs(next, FUZZ_ECS_OPTIONS)),
    'a line template differs from JSON.stringify(packetToEcs())',
  );
}

function formatFlow(record: FlowRecord): number {
  const doc = flowToEcs(record, FUZZ_ECS_OPTIONS);
  const json = flowToEcsJson(record, FUZZ_ECS_OPTIONS);
  const text = JSON.stringify(doc);
  check(json === text, 'flowToEcsJson differs from JSON.stringify(flowToEcs())');
  if (++flowsFormatted % 16 === 0) checkFlowTemplate(record);
  return json.length + text.length;
}

let flowsFormatted = 0;

/** A flow of a burst after this one: other id, times, addresses, ports, translation, counters and timeout (the slots). */
function nextFlow(record: FlowRecord): FlowRecord {
  const r = structuredClone(record);
  r.timestampUs += 1001;
  r.receivedUs += 999;
  if (r.id !== undefined) r.id = (r.id + 1) >>> 0;
  if (r.timeout !== undefined) r.timeout++;
  if (r.startUs !== undefined) r.startUs += 3;
  if (r.stopUs !== undefined) r.stopUs += 5;
  if (r.originalBytes !== undefined) r.originalBytes++;
  if (r.replyPackets !== undefined) r.replyPackets++;
  for (const t of [r.original, r.reply]) {
    if (t === undefined) continue;
    t.dst = t.dst.includes(':') ? '2001:db8:5ca::7' : '198.51.100.7';
    if (t.srcPort !== undefined) t.srcPort = (t.srcPort + 1) & 0xffff;
    if (t.icmpId !== undefined) t.icmpId = (t.icmpId + 1) & 0xffff;
  }
  const nat = r.nat?.source;
  if (nat?.translatedPort !== undefined) nat.translatedPort = (nat.translatedPort + 1) & 0xffff;
  return r;
}

/** A line template made from this record (a run of its shape), then filled for the next flow of a burst. */
function checkFlowTemplate(record: FlowRecord): void {
  const lines = new EcsFlowLines(FUZZ_ECS_OPTIONS);
  for (let i = 0; i < 18; i++) lines.line(record);
  const next = nextFlow(record);
  check(
    lines.line(next) === JSON.stringify(flowToEcs(next, FUZZ_ECS_OPTIONS)),
    'a flow line template differs from JSON.stringify(flowToEcs())',
  );
}

const STARTS: StartLayer[] = ['ethernet', 'ipv4', 'ipv6', 'ip', 'arp'];

// ------------------------------------------------------------------ netlink

const header: MessageHeader = { length: 0, type: 0, flags: 0, seq: 0, pid: 0 };
const attributeTable = new AttributeTable(64);

function attributeCount(): number {
  let n = 0;
  for (let t = 0; t <= attributeTable.maxType; t++) if (attributeTable.has(t)) n++;
  return n;
}

const netlink: Target = {
  name: 'netlink',
  description: 'src/netlink/message.ts: readMessageHeader over a datagram, AttributeTable.parse over each body',
  layout: { kind: 'netlink', bodyHeader: 4, skip: 0 },
  seeds: () => [...S.recordedDatagrams().map((d) => d.bytes), ...S.builtNflogMessages().map((m) => Uint8Array.from(m))],
  run(bytes, length) {
    const view = viewOf(bytes);
    const errors: Array<string | undefined> = [];
    const shapes: unknown[] = [];
    let at = 0;
    let messages = 0;
    while (readMessageHeader(view, at, length, header)) {
      check(header.length >= NLMSG_HDRLEN && at + header.length <= length, 'message outside the datagram');
      const end = at + header.length;
      const fault = attributeTable.parse(view, at + NLMSG_HDRLEN + 4, end);
      errors.push(fault ?? undefined);
      for (let t = 0; t <= attributeTable.maxType; t++) {
        if (!attributeTable.has(t)) continue;
        const o = attributeTable.offsets[t];
        const n = attributeTable.lengths[t];
        check(o >= at + NLMSG_HDRLEN + 4 && n >= 0 && o + n <= end, `attribute ${t} outside its message`);
      }
      if (messages < 4) shapes.push({ type: header.type, error: fault ?? undefined, [`attributes${Math.min(8, attributeCount())}`]: true });
      messages++;
      at += (header.length + 3) & ~3;
    }
    check(messages <= length / NLMSG_HDRLEN, 'more messages than 16-byte headers fit');
    return { errors, outputSize: 0, records: messages, shapes };
  },
};

// ------------------------------------------------------------------ nflog

const nflogDecoders = [new NflogDecoder(false), new NflogDecoder(true)];

const nflog: Target = {
  name: 'nflog',
  description: 'src/nflog/decode.ts NflogDecoder.decode on one message (byte 0 bit 0: includePayload), ECS formatters on the record',
  layout: { kind: 'netlink', bodyHeader: 4, skip: 1 },
  seeds: () => {
    const recorded = S.recordedFrom(SOURCE_NFLOG).flatMap((d) => S.splitMessages(d));
    const built = S.builtNflogMessages().map((m) => Uint8Array.from(m));
    return [...recorded, ...built].map((m, i) => withParameter(i & 1, m));
  },
  run(bytes, length) {
    if (length < 1) return { errors: [], outputSize: 0, records: 0, shapes: [] };
    const view = viewOf(bytes);
    const record = nflogDecoders[bytes[0] & 1].decode(bytes, view, 1, length - 1, 1_700_000_000_000_000);
    const body = length - 1;
    check(record.prefix.length <= body, 'prefix longer than the message');
    check(record.payloadLength <= body, 'payload longer than the message');
    if (record.payload !== undefined) check(record.payload.length === record.payloadLength, 'payload copy differs from its length');
    const size = formatPacket(record) + JSON.stringify(record.packet).length;
    check(size <= outputBound(length), `output ${size} chars for ${length} bytes`);
    return { errors: [record.decodeError, record.ct?.decodeError], outputSize: size, records: 1, shapes: [record] };
  },
};

// ------------------------------------------------------------------ datagram

const SOURCES = [SOURCE_NFLOG, SOURCE_RTNL, SOURCE_CONNTRACK, SOURCE_CONNTRACK_DUMP];

/** Byte 0: bits 0-1 the ring source; bit 2 FLAG_TRUNCATED; bit 3 completed-flow mode; bit 4 zone filter 0; bit 7 FLAG_ENOBUFS. */
function datagramParameter(source: number, flags: number): number {
  return SOURCES.indexOf(source) | (flags & FLAG_TRUNCATED ? 4 : 0);
}

const datagram: Target = {
  name: 'datagram',
  description: 'src/datagram.ts DatagramDecoder.decode on one ring entry (any source), ECS formatters on every record',
  layout: { kind: 'netlink', bodyHeader: 4, skip: 1 },
  seeds: () => {
    const recorded = S.recordedDatagrams().map((d) => withParameter(datagramParameter(d.source, d.flags), d.bytes));
    const nflogBuilt = S.builtNflogMessages().map((m) => withParameter(0, m));
    const ctBuilt = S.builtConntrackMessages().map((m, i) => withParameter(2 | (i & 1) | (i & 2 ? 8 : 0), m));
    const links = S.builtLinkMessages().map((m) => withParameter(1, m));
    return [...recorded, ...nflogBuilt, ...ctBuilt, ...links];
  },
  run(bytes, length) {
    if (length < 1) return { errors: [], outputSize: 0, records: 0, shapes: [] };
    const p = bytes[0];
    const decoder = new DatagramDecoder({
      includePayload: (p & 0x20) !== 0,
      boundGroups: [41],
      completedFlows: p & 8 ? 64 : undefined,
      zone: p & 0x10 ? 0 : undefined,
      labels: new Map([[41, 'fuzz']]),
    });
    const flags = (p & 4 ? FLAG_TRUNCATED : 0) | (p & 0x80 && p & 0x40 ? FLAG_ENOBUFS : 0);
    const out: CollectorRecord[] = [];
    const n = decoder.decode(bytes, viewOf(bytes), 1, length - 1, SOURCES[p & 3], flags, 1_700_000_000_000_000, out);
    check(n === out.length, 'returned count differs from records appended');
    // Each message is at least 16 bytes and yields at most a record and a sequence gap; one more gap for the tail.
    check(out.length <= (length - 1) / 4 + 1, `${out.length} records from ${length - 1} bytes`);
    let size = 0;
    const errors: Array<string | undefined> = [];
    for (const r of out) {
      size += formatRecord(r);
      if (r.kind === 'gap') errors.push(`gap.${r.reason}`);
      else errors.push(r.decodeError);
    }
    check(size <= outputBound(length) * Math.max(1, out.length), `output ${size} chars for ${length} bytes`);
    return { errors, outputSize: size, records: out.length, shapes: out };
  },
};

// ------------------------------------------------------------------ packet

const packet: Target = {
  name: 'packet',
  description: 'src/packet/*: decodePacket from every start layer (byte 0 mod 5: ethernet, ipv4, ipv6, ip, arp)',
  layout: { kind: 'raw' },
  seeds: () => {
    const built = S.builtPackets().map((p) => withParameter(STARTS.indexOf(p.start), p.bytes));
    // The payloads the kernel logged, from the recorded NFLOG datagrams.
    const recorded: Uint8Array[] = [];
    for (const d of S.recordedFrom(SOURCE_NFLOG)) {
      for (const m of S.splitMessages(d)) {
        const payload = nflogPayload(m);
        if (payload) recorded.push(withParameter(m[16] === 10 ? 2 : 1, payload));
      }
    }
    return [...built, ...recorded];
  },
  run(bytes, length) {
    if (length < 1) return { errors: [], outputSize: 0, records: 0, shapes: [] };
    const decoded = decodePacket(bytes, 1, length - 1, STARTS[bytes[0] % STARTS.length]);
    const size = JSON.stringify(decoded).length;
    check(size <= outputBound(length), `output ${size} chars for ${length} bytes`);
    return { errors: [decoded.error], outputSize: size, records: 1, shapes: [decoded] };
  },
};

/** The NFULA_PAYLOAD of one NFLOG message, if any. */
function nflogPayload(message: Uint8Array): Uint8Array | undefined {
  const table = new AttributeTable(21);
  if (table.parse(viewOf(message), 20, message.length) !== null || !table.has(9)) return undefined;
  return message.slice(table.offsets[9], table.offsets[9] + table.lengths[9]);
}

// ------------------------------------------------------------------ conntrack

const conntrackDecoder = new ConntrackDecoder();

const conntrack: Target = {
  name: 'conntrack',
  description:
    'src/conntrack/decode.ts: ConntrackDecoder.decode (byte 0 bit 0: dump) and decodeConntrackAttributes over the body (bit 1), flow formatters',
  layout: { kind: 'netlink', bodyHeader: 4, skip: 1 },
  seeds: () => {
    const recorded = S.recordedFrom(SOURCE_CONNTRACK).flatMap((d) => S.splitMessages(d));
    const built = S.builtConntrackMessages().map((m) => Uint8Array.from(m));
    return [...recorded, ...built].map((m, i) => withParameter(i & 3, m));
  },
  run(bytes, length) {
    if (length < 1) return { errors: [], outputSize: 0, records: 0, shapes: [] };
    const view = viewOf(bytes);
    const p = bytes[0];
    const record =
      p & 2
        ? decodeConntrackAttributes(bytes, view, 1 + 20, length, p & 4 ? 10 : 2, 1_700_000_000_000_000)
        : conntrackDecoder.decode(bytes, view, 1, length - 1, 1_700_000_000_000_000, (p & 1) !== 0);
    const size = formatFlow(record);
    check(size <= outputBound(length), `output ${size} chars for ${length} bytes`);
    return { errors: [record.decodeError], outputSize: size, records: 1, shapes: [record] };
  },
};

// ------------------------------------------------------------------ rtnl

const rtnl: Target = {
  name: 'rtnl',
  description: 'src/rtnl/links.ts: LinkTable.apply on every message of a datagram',
  layout: { kind: 'netlink', bodyHeader: 16, skip: 0 },
  seeds: () => [...S.recordedFrom(SOURCE_RTNL), ...S.builtLinkMessages().map((m) => Uint8Array.from(m))],
  run(bytes, length) {
    const view = viewOf(bytes);
    const table = new LinkTable();
    const errors: Array<string | undefined> = [];
    let at = 0;
    let messages = 0;
    const shapes: unknown[] = [];
    while (readMessageHeader(view, at, length, header)) {
      const ok = table.apply(bytes, view, at, header.length, header.type);
      if (!ok) errors.push('rtnl.bad-link');
      if (messages < 4) shapes.push({ type: header.type, error: ok ? undefined : 'rtnl.bad-link', [`size${table.entries().size}`]: true });
      at += (header.length + 3) & ~3;
      messages++;
    }
    const entries = table.entries();
    check(entries.size <= messages, 'more links than messages');
    let size = 0;
    for (const name of entries.values()) {
      check(name.length <= length, 'interface name longer than the datagram');
      size += name.length;
    }
    return { errors, outputSize: size, records: entries.size, shapes };
  },
};

export const TARGETS: Target[] = [netlink, nflog, datagram, packet, conntrack, rtnl, pcapTarget()];

export function targetByName(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target '${name}' (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
