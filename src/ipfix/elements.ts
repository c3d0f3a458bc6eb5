// The IPFIX Information Elements the exporter sends, and its templates.
// Numbers from IANA's "IP Flow Information Export (IPFIX) Entities" registry
// (RFC 7012 and RFC 8158 for the NAT elements); reverse counters are RFC 5103's
// (enterprise 29305). The README's table of exported elements is this file.

export interface FieldSpec {
  /** IANA name (or RFC 5103 reverse name). */
  name: string;
  /** Information Element identifier (without the enterprise bit). */
  id: number;
  /** Bytes on the wire (reduced-size encoding where smaller than the type, RFC 7011 §6.2). */
  length: number;
  /** Private Enterprise Number, for elements outside IANA's space. */
  enterprise?: number;
}

/** RFC 5103 bidirectional flow export: reverse elements carry this PEN. */
export const REVERSE_PEN = 29305;

const f = (name: string, id: number, length: number, enterprise?: number): FieldSpec =>
  enterprise === undefined ? { name, id, length } : { name, id, length, enterprise };

export const IE = {
  octetDeltaCount: f('octetDeltaCount', 1, 8),
  packetDeltaCount: f('packetDeltaCount', 2, 8),
  protocolIdentifier: f('protocolIdentifier', 4, 1),
  sourceTransportPort: f('sourceTransportPort', 7, 2),
  sourceIPv4Address: f('sourceIPv4Address', 8, 4),
  destinationTransportPort: f('destinationTransportPort', 11, 2),
  destinationIPv4Address: f('destinationIPv4Address', 12, 4),
  sourceIPv6Address: f('sourceIPv6Address', 27, 16),
  destinationIPv6Address: f('destinationIPv6Address', 28, 16),
  icmpTypeCodeIPv4: f('icmpTypeCodeIPv4', 32, 2),
  flowEndReason: f('flowEndReason', 136, 1),
  // ipt-netflow exports the conntrack mark in this element too; unsigned64 sent in 4 bytes.
  commonPropertiesId: f('commonPropertiesId', 137, 4),
  icmpTypeCodeIPv6: f('icmpTypeCodeIPv6', 139, 2),
  flowStartMilliseconds: f('flowStartMilliseconds', 152, 8),
  flowEndMilliseconds: f('flowEndMilliseconds', 153, 8),
  postNATSourceIPv4Address: f('postNATSourceIPv4Address', 225, 4),
  postNATDestinationIPv4Address: f('postNATDestinationIPv4Address', 226, 4),
  postNAPTSourceTransportPort: f('postNAPTSourceTransportPort', 227, 2),
  postNAPTDestinationTransportPort: f('postNAPTDestinationTransportPort', 228, 2),
  natEvent: f('natEvent', 230, 1),
  firewallEvent: f('firewallEvent', 233, 1),
  // RFC 8158's templates carry the VRF here; a conntrack zone is Linux's way of keeping address spaces apart.
  ingressVRFID: f('ingressVRFID', 234, 4),
  postNATSourceIPv6Address: f('postNATSourceIPv6Address', 281, 16),
  postNATDestinationIPv6Address: f('postNATDestinationIPv6Address', 282, 16),
  observationTimeMilliseconds: f('observationTimeMilliseconds', 323, 8),
  reverseOctetDeltaCount: f('reverseOctetDeltaCount', 1, 8, REVERSE_PEN),
  reversePacketDeltaCount: f('reversePacketDeltaCount', 2, 8, REVERSE_PEN),
} as const;

/** natEvent values (IANA "natEvent Values", RFC 8158 §4). */
export const NAT_EVENT = {
  nat44SessionCreate: 4,
  nat44SessionDelete: 5,
  nat64SessionCreate: 6,
  nat64SessionDelete: 7,
} as const;

/** firewallEvent values (IANA "firewallEvent"): a flow record at NEW says the flow was created. */
export const FIREWALL_EVENT = {
  flowCreated: 1,
} as const;

/** flowEndReason values (RFC 7012 / IANA). */
export const FLOW_END_REASON = {
  idleTimeout: 1,
  endOfFlowDetected: 3,
} as const;

export interface TemplateSpec {
  id: number;
  fields: readonly FieldSpec[];
}

// Both ends before and after translation: every template carries them in this order.
const translatedTuple = (v6: boolean): FieldSpec[] => [
  v6 ? IE.sourceIPv6Address : IE.sourceIPv4Address,
  IE.sourceTransportPort,
  v6 ? IE.postNATSourceIPv6Address : IE.postNATSourceIPv4Address,
  IE.postNAPTSourceTransportPort,
  v6 ? IE.destinationIPv6Address : IE.destinationIPv4Address,
  IE.destinationTransportPort,
  v6 ? IE.postNATDestinationIPv6Address : IE.postNATDestinationIPv4Address,
  IE.postNAPTDestinationTransportPort,
];

const natFields = (v6: boolean): FieldSpec[] => [
  IE.observationTimeMilliseconds,
  IE.natEvent,
  IE.protocolIdentifier,
  ...translatedTuple(v6),
  IE.ingressVRFID,
];

const flowFields = (v6: boolean): FieldSpec[] => [
  IE.flowStartMilliseconds,
  IE.flowEndMilliseconds,
  IE.octetDeltaCount,
  IE.packetDeltaCount,
  IE.reverseOctetDeltaCount,
  IE.reversePacketDeltaCount,
  IE.protocolIdentifier,
  IE.flowEndReason,
  ...translatedTuple(v6),
  v6 ? IE.icmpTypeCodeIPv6 : IE.icmpTypeCodeIPv4,
  IE.commonPropertiesId,
  IE.ingressVRFID,
];

// A flow's start (at NEW, when asked): what is known then. No counters: deltas at NEW and again at
// DESTROY would count the first packets twice; the DESTROY record carries the whole flow's.
const flowStartFields = (v6: boolean): FieldSpec[] => [
  IE.flowStartMilliseconds,
  IE.protocolIdentifier,
  IE.firewallEvent,
  ...translatedTuple(v6),
  v6 ? IE.icmpTypeCodeIPv6 : IE.icmpTypeCodeIPv4,
  IE.commonPropertiesId,
  IE.ingressVRFID,
];

/**
 * The templates: NAT events, flows (at DESTROY) and flow starts (at NEW, sent only when asked), each for
 * IPv4 and IPv6. The encoder writes fields in this order.
 */
export const TEMPLATES = {
  natEvent4: { id: 256, fields: natFields(false) },
  natEvent6: { id: 257, fields: natFields(true) },
  flow4: { id: 258, fields: flowFields(false) },
  flow6: { id: 259, fields: flowFields(true) },
  flowStart4: { id: 260, fields: flowStartFields(false) },
  flowStart6: { id: 261, fields: flowStartFields(true) },
} as const satisfies Record<string, TemplateSpec>;

export function recordLength(template: TemplateSpec): number {
  let n = 0;
  for (const field of template.fields) n += field.length;
  return n;
}
