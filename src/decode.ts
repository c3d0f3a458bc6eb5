// The decoders and formatters, usable offline without the native addon.
export { DatagramDecoder, type DecodeCounters, type DatagramDecoderOptions } from './datagram';
export { NflogDecoder } from './nflog/decode';
export { LinkTable } from './rtnl/links';
export { decodePacket, startForHwProtocol } from './packet/decode';
export { tcpFlagNames } from './packet/tcp';
export type * from './packet/types';
export {
  packetToEcs,
  type EcsOptions,
  type EcsDocument,
  type EcsObserver,
  type EcsAgent,
  type EcsInterface,
  type NetfilterFields,
} from './ecs/packet';
export { packetToEcsJson } from './ecs/packet-json';
export { gapToEcs, gapToEcsJson, type EcsGapDocument, type GapEcsOptions } from './ecs/gap';
export { flowToEcs, type EcsFlowDocument, type FlowEcsOptions, type EcsFlowEndpoint, type NetfilterFlowFields } from './ecs/flow';
export { flowToEcsJson } from './ecs/flow-json';
export { ConntrackDecoder, decodeConntrackAttributes } from './conntrack/decode';
export { natView } from './conntrack/nat';
export { communityId } from './ecs/community-id';
export {
  createActionMapper,
  type ActionResult,
  type ActionRule,
  type ActionMapperOptions,
  type ActionMapper,
  type ActionType,
  type ActionOutcome,
} from './verdict/action';
export { SOURCE_NFLOG, SOURCE_RTNL, FLAG_ENOBUFS, FLAG_TRUNCATED } from './ring/layout';
export {
  NflogPcapReader,
  readNflogPcap,
  readNflogPcapBatches,
  type NflogPcapReaderOptions,
  type NflogPcapCounters,
  type NflogPcapContents,
} from './pcap/reader';
export { NflogPcapWriter, type NflogPcapWriterOptions, type NflogPcapWriterCounters } from './pcap/writer';
export type { PcapFileHeader } from './pcap/format';
export { packetToLogLine, logLineOptionsFromFlags, type LogLineOptions } from './format/log-line';
export { packetToLogemuLine, type LogemuLineOptions } from './format/logemu';
export { packetToUlogdJson, flowToUlogdJson, type UlogdJsonOptions } from './format/ulogd-json';
export { readableLine, type ReadableOptions } from './format/readable';
export {
  LINE_FORMATS,
  LINE_FORMAT_NAMES,
  openLineFormat,
  type LineFormat,
  type LineFormatName,
  type LineFormatOptions,
  type LineFormatWriter,
} from './format/registry';
