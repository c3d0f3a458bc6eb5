// Public API of netfilter-collector. Importing it loads the native reader and
// throws one clear error when it cannot (not Linux, not built, a system library
// missing); the decoders alone are in 'netfilter-collector/decode'. On a Node.js
// line it is not tested on, it says so once as a process warning and goes on.
import { loadNative } from './native';
import { warnIfUnsupportedNode } from './node-version';

warnIfUnsupportedNode();
loadNative();

export {
  createCollector,
  Collector,
  AbortError,
  type CollectorStats,
  type CollectorState,
  type CollectorEvents,
  type BatchOptions,
  type NamespaceStats,
} from './collector';
export type {
  CollectorOptions,
  NflogGroupOptions,
  CopyMode,
  ConntrackOptions,
  ConntrackEvent,
  AllNetnsOptions,
  NamespaceChange,
} from './options';
export type {
  CollectorRecord,
  PacketRecord,
  SequencedPacketRecord,
  SequencedCollectorRecord,
  RecordsFor,
  GapRecord,
  GapReason,
  FlowRecord,
  FlowTuple,
  FlowNat,
} from './records';
export * from './decode';
export { dropPrivileges, parseUserSpec, type DropPrivilegesOptions, type DroppedPrivileges } from './privileges';
