// PacketRecord → the ECS document as one JSON line, written directly.
//
// JSON.stringify(packetToEcs(record)) spends most of its time in
// JSON.stringify (about 4 µs a document on Node 20). This writes the same
// text — byte for byte, same keys in the same order, tested against it — from
// the record, without building the object. packet.ts stays the reference for
// what each field means; change both together.
//
// The line is written with slots for the per-packet numbers
// (packet-template.ts) and kept per packet shape (packet-shape.ts): the next
// packets of a flow only fill in their numbers.
import type { PacketRecord } from '../records';
import { ECS_VERSION, type EcsOptions } from './packet';
import { packetFacts } from './packet-facts';
import { ecsObserverJsonOpen } from './observer';
import {
  familyName,
  hookDirection,
  hookName,
  ianaNumber,
  ipv4FlagNames,
  transportName,
} from './names';
// Imported from its module, not re-exported through names.ts: a re-export leaves the exports object
// in V8's slow dictionary mode, and every call through it pays a generic lookup.
import { tcpFlagNames } from '../packet/tcp';
import { jsonString as q, jsonStrings } from './json-string';
import { fillTemplate, parseTemplate, SLOT, slotValues, templateBytes, writeTemplate, type PacketTemplate, type SlotTexts } from './packet-template';
import type { LineTarget } from '../format/line-target';
import { PacketShape, packetShapeHash, shapeCacheable } from './packet-shape';


function numbers(list: number[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ',') + list[i];
  return out + ']';
}

// Flag lists repeat: their JSON text, by flag bits, made once.
const TCP_FLAGS_JSON: string[] = [];
const IPV4_FLAGS_JSON: string[] = [];

function tcpFlagsJson(flags: number): string {
  const bits = flags & 0x1ff;
  return (TCP_FLAGS_JSON[bits] ??= jsonStrings(tcpFlagNames(bits)));
}

function ipv4FlagsJson(reserved: boolean, dontFragment: boolean, moreFragments: boolean): string {
  const bits = (reserved ? 4 : 0) | (dontFragment ? 2 : 0) | (moreFragments ? 1 : 0);
  return (IPV4_FLAGS_JSON[bits] ??= jsonStrings(ipv4FlagNames(reserved, dontFragment, moreFragments)));
}

// Prefixes repeat: keep the last one's escaped forms.
let lastPrefix = '';
let lastPrefixJson = '""';
let lastRuleJson = '';

function prefixJson(prefix: string): void {
  if (prefix === lastPrefix) return;
  lastPrefix = prefix;
  lastPrefixJson = q(prefix);
  const rule = prefix.trim();
  lastRuleJson = rule.length > 0 ? q(rule) : '';
}

function iface(name: string | undefined, index: number | undefined): string {
  let inner = '';
  if (name !== undefined) inner = '"name":' + q(name);
  if (index !== undefined) inner += (inner ? ',' : '') + '"id":"' + index + '"';
  return '{"interface":{' + inner + '}}';
}

function phys(name: string | undefined, index: number | undefined): string {
  let inner = '';
  if (name !== undefined) inner = '"name":' + q(name);
  if (index !== undefined) inner += (inner ? ',' : '') + '"ifindex":' + index;
  return '{' + inner + '}';
}

/** The line, with `slot`'s texts where the per-packet numbers go: SLOT's markers for a template, or slotValues(record). */
function lineText(record: PacketRecord, options: EcsOptions | undefined, slot: SlotTexts): string {
  const pkt = record.packet;
  const net = pkt.network;
  const tr = pkt.transport;

  const facts = packetFacts(record, options);
  const verdict = facts.verdict;
  const label = facts.label;
  const isIp = facts.isIp;

  let event =
    '"event":{"kind":"event","category":["network"],"type":[' +
    (isIp ? '"connection",' : '') +
    q(verdict?.type ?? 'info') +
    '],"module":"netfilter","dataset":"netfilter.log","created":"' +
    slot.created +
    '"';
  if (verdict !== undefined) {
    event += ',"action":' + q(verdict.action);
    if (verdict.outcome !== undefined) event += ',"outcome":' + q(verdict.outcome);
  }
  if (record.seq !== undefined) event += ',"sequence":' + slot.seq;
  event += '}';

  let observer = ecsObserverJsonOpen(options);
  if (record.inInterface !== undefined || record.inIfindex !== undefined)
    observer += ',"ingress":' + iface(record.inInterface, record.inIfindex);
  if (record.outInterface !== undefined || record.outIfindex !== undefined)
    observer += ',"egress":' + iface(record.outInterface, record.outIfindex);
  observer += '}';

  prefixJson(record.prefix);
  const family = familyName(record.family) ?? String(record.family);
  let nf =
    '"netfilter":{"group":' +
    record.group +
    ',"family":' +
    q(family) +
    ',"family_number":' +
    record.family +
    ',"hook_number":' +
    record.hook +
    ',"prefix":' +
    lastPrefixJson +
    ',"kernel_timestamp":' +
    record.kernelTimestamp +
    ',"payload_length":' +
    slot.payloadLength +
    ',"hw_protocol":' +
    record.hwProtocol;
  if (label !== undefined) nf += ',"group_label":' + q(label);
  const hook = hookName(record.family, record.hook);
  if (hook !== undefined) nf += ',"hook":"' + hook + '"';
  if (record.mark !== undefined) nf += ',"mark":' + record.mark;
  if (record.uid !== undefined) nf += ',"uid":' + record.uid;
  if (record.gid !== undefined) nf += ',"gid":' + record.gid;
  if (record.seq !== undefined) nf += ',"seq":' + slot.seq;
  if (record.seqGlobal !== undefined) nf += ',"seq_global":' + slot.seqGlobal;
  if (record.ctInfo !== undefined) nf += ',"ct_info":' + record.ctInfo;
  if (record.physInInterface !== undefined || record.physInIfindex !== undefined)
    nf += ',"physin":' + phys(record.physInInterface, record.physInIfindex);
  if (record.physOutInterface !== undefined || record.physOutIfindex !== undefined)
    nf += ',"physout":' + phys(record.physOutInterface, record.physOutIfindex);
  const decodeError = record.decodeError ?? pkt.error;
  if (decodeError !== undefined) nf += ',"decode_error":' + q(decodeError);

  let network = '';
  const { srcIp, dstIp, outerVlan, innerVlan } = facts;

  if (net !== undefined) {
    if (net.kind === 'ipv4') {
      network = '"type":"ipv4"';
      nf +=
        ',"ip":{"ttl":' +
        net.ttl +
        ',"id":' +
        slot.ipv4Id +
        ',"tos":' +
        net.tos +
        ',"flags":' +
        ipv4FlagsJson(net.flagReserved, net.dontFragment, net.moreFragments) +
        ',"fragment_offset":' +
        net.fragmentOffset +
        (net.options.length > 0 ? ',"options":' + q(net.options) : '') +
        '}';
    } else if (net.kind === 'ipv6') {
      network = '"type":"ipv6"';
      nf += ',"ip":{"hop_limit":' + net.hopLimit + ',"flow_label":' + net.flowLabel + ',"traffic_class":' + net.trafficClass;
      if (net.extensionHeaders.length > 0) nf += ',"extension_headers":' + numbers(net.extensionHeaders);
      const frag = net.fragment;
      if (frag !== undefined) {
        nf += ',"fragment":{"offset":' + frag.offset + ',"more_fragments":' + frag.moreFragments + ',"id":' + frag.id + '}';
      }
      nf += '}';
    } else {
      network = '"type":"arp"';
      nf += ',"arp":{"operation":' + net.operation;
      if (net.senderMac !== undefined) nf += ',"sender_mac":' + q(net.senderMac);
      if (net.targetMac !== undefined) nf += ',"target_mac":' + q(net.targetMac);
      nf += '}';
    }
  }

  if (tr !== undefined) {
    switch (tr.kind) {
      case 'tcp':
        nf +=
          ',"tcp":{"flags":' +
          tcpFlagsJson(tr.flags) +
          ',"window":' +
          slot.tcpWindow +
          ',"seq":' +
          slot.tcpSeq +
          ',"ack":' +
          slot.tcpAck +
          (tr.urgentPointer !== 0 ? ',"urgent_pointer":' + tr.urgentPointer : '') +
          (tr.mss !== undefined ? ',"mss":' + tr.mss : '') +
          (tr.options.length > 0 ? ',"options":' + slot.tcpOptions : '') +
          '}';
        break;
      case 'udp':
      case 'udplite':
        nf += ',"udp":{"length":' + slot.udpLength + '}';
        break;
      case 'sctp':
        nf +=
          ',"sctp":{"verification_tag":' +
          tr.verificationTag +
          (tr.firstChunkType === undefined ? '' : ',"chunk_type":' + tr.firstChunkType) +
          '}';
        break;
      case 'icmp':
      case 'icmpv6': {
        nf += ',"icmp":{"type":' + tr.type + ',"code":' + tr.code;
        if (tr.id !== undefined) nf += ',"id":' + tr.id;
        if (tr.sequence !== undefined) nf += ',"sequence":' + slot.icmpSequence;
        if (tr.mtu !== undefined) nf += ',"mtu":' + tr.mtu;
        if (tr.pointer !== undefined) nf += ',"pointer":' + tr.pointer;
        if (tr.kind === 'icmp') {
          if (tr.gateway !== undefined) nf += ',"gateway":' + q(tr.gateway);
        } else if (tr.target !== undefined) {
          nf += ',"target":' + q(tr.target);
        }
        const emb = tr.embedded;
        if (emb !== undefined && (emb.network !== undefined || emb.transport !== undefined)) {
          let original = '';
          if (emb.network !== undefined) {
            original = '"src_ip":' + q(emb.network.src) + ',"dst_ip":' + q(emb.network.dst) + ',"protocol":' + emb.network.protocol;
          }
          const et = emb.transport;
          if (et !== undefined && (et.kind === 'tcp' || et.kind === 'udp' || et.kind === 'udplite' || et.kind === 'sctp')) {
            original += (original ? ',' : '') + '"src_port":' + et.srcPort + ',"dst_port":' + et.dstPort;
          }
          nf += ',"original":{' + original + '}';
        }
        nf += '}';
        break;
      }
      case 'gre':
        nf += ',"gre":{"version":' + tr.version + ',"protocol":' + tr.protocol;
        if (tr.key !== undefined) nf += ',"key":' + tr.key;
        if (tr.sequence !== undefined) nf += ',"sequence":' + tr.sequence;
        if (tr.callId !== undefined) nf += ',"call_id":' + tr.callId;
        nf += '}';
        break;
      case 'esp':
        nf += ',"esp":{"spi":' + tr.spi + ',"sequence":' + tr.sequence + '}';
        break;
      case 'ah':
        nf += ',"ah":{"spi":' + tr.spi + ',"sequence":' + tr.sequence + ',"next_header":' + tr.nextHeader + '}';
        break;
      case 'other':
        break;
    }
  }

  if (facts.protocol >= 0 && isIp) {
    network += (network ? ',' : '') + '"transport":' + q(transportName(facts.protocol)) + ',"iana_number":"' + ianaNumber(facts.protocol) + '"';
    if (facts.communityId !== undefined) network += ',"community_id":"' + facts.communityId + '"';
  }
  const direction = hookDirection(record.family, record.hook);
  if (direction !== undefined) network += (network ? ',' : '') + '"direction":"' + direction + '"';
  if (outerVlan !== undefined) {
    network += (network ? ',' : '') + '"vlan":{"id":"' + outerVlan + '"}';
    if (innerVlan !== undefined) network += ',"inner":{"vlan":{"id":"' + innerVlan + '"}}';
    nf += ',"vlan":{"id":' + outerVlan + (innerVlan === undefined ? '' : ',"inner_id":' + innerVlan) + '}';
  }

  const { srcPort, dstPort, srcMac, dstMac, bytes } = facts;

  let out = '{"@timestamp":"' + slot.timestamp + '","ecs":{"version":"' + ECS_VERSION + '"},' + event;
  if (srcIp !== undefined || srcPort !== undefined || srcMac !== undefined || bytes !== undefined) {
    let source = '';
    if (srcIp !== undefined) source = '"ip":' + q(srcIp);
    if (srcPort !== undefined) source += (source ? ',' : '') + '"port":' + srcPort;
    if (srcMac !== undefined) source += (source ? ',' : '') + '"mac":"' + srcMac + '"';
    if (bytes !== undefined) source += (source ? ',' : '') + '"bytes":' + slot.bytes + ',"packets":1';
    out += ',"source":{' + source + '}';
  }
  if (dstIp !== undefined || dstPort !== undefined || dstMac !== undefined) {
    let destination = '';
    if (dstIp !== undefined) destination = '"ip":' + q(dstIp);
    if (dstPort !== undefined) destination += (destination ? ',' : '') + '"port":' + dstPort;
    if (dstMac !== undefined) destination += (destination ? ',' : '') + '"mac":"' + dstMac + '"';
    out += ',"destination":{' + destination + '}';
  }
  out += ',"network":{' + network + '},' + observer;
  if (lastRuleJson) out += ',"rule":{"name":' + lastRuleJson + '}';
  if (srcIp !== undefined || dstIp !== undefined) {
    let ips = '';
    if (srcIp !== undefined) ips = q(srcIp);
    if (dstIp !== undefined && dstIp !== srcIp) ips += (ips ? ',' : '') + q(dstIp);
    out += ',"related":{"ip":[' + ips + ']}';
  }
  return out + ',' + nf + '}}';
}

/**
 * ECS lines of packet records for one set of options, with the templates of
 * recent packet shapes kept in a direct-mapped table of `size` entries (a
 * power of two). packetToEcsJson keeps one per options object.
 */
export class EcsPacketLines {
  private readonly shapes: Array<PacketShape | undefined>;
  private readonly templates: Array<PacketTemplate | undefined>;
  private readonly mask: number;

  constructor(
    private readonly options?: EcsOptions,
    size = 256,
  ) {
    if (!Number.isInteger(Math.log2(size))) throw new RangeError(`template table size must be a power of two, got ${size}`);
    this.shapes = new Array(size);
    this.templates = new Array(size);
    this.mask = size - 1;
  }

  /**
   * JSON.stringify(packetToEcs(record, options)). A shape's first packet is
   * written in full; its second makes the template the next ones fill (so
   * traffic where no packet shares the shape of the one before it costs no
   * more than writing every line in full).
   */
  line(record: PacketRecord): string {
    const found = this.template(record);
    return typeof found === 'string' ? found : fillTemplate(found, record);
  }

  /** The same line, UTF-8 encoded straight into the target's buffer (no string for the next packets of a shape). */
  writeLine(record: PacketRecord, to: LineTarget): void {
    const found = this.template(record);
    if (typeof found === 'string') return to.line(found);
    const buffer = to.reserve(templateBytes(found, record));
    to.commit(writeTemplate(found, record, buffer, to.offset));
  }

  /** The record's template, or its line in full when it has none (yet). */
  private template(record: PacketRecord): PacketTemplate | string {
    if (!shapeCacheable(record)) return lineText(record, this.options, slotValues(record));
    const entry = packetShapeHash(record) & this.mask;
    let shape = this.shapes[entry];
    if (shape !== undefined && shape.matches(record)) {
      return (this.templates[entry] ??= parseTemplate(lineText(record, this.options, SLOT)));
    }
    if (shape === undefined) shape = this.shapes[entry] = new PacketShape();
    shape.set(record);
    this.templates[entry] = undefined;
    return lineText(record, this.options, slotValues(record));
  }
}

// The verdict, labels, observer and Community ID depend on the options: lines per options object.
const LINES = new WeakMap<EcsOptions, EcsPacketLines>();
const NO_OPTIONS_LINES = new EcsPacketLines();

/**
 * JSON.stringify(packetToEcs(record, options)), faster. Lines are kept per
 * packet shape and options object: pass the same options object each time (a
 * new one starts an empty table), and an actionMapper must give the same
 * verdict for the same prefix every time (createActionMapper's do).
 */
export function packetToEcsJson(record: PacketRecord, options?: EcsOptions): string {
  if (options === undefined) return NO_OPTIONS_LINES.line(record);
  let lines = LINES.get(options);
  if (lines === undefined) LINES.set(options, (lines = new EcsPacketLines(options)));
  return lines.line(record);
}
