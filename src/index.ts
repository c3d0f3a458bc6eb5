// Public API of netfilter-collector.
export { createCollector, Collector, type CollectorStats } from './collector';
export type { CollectorOptions, NflogGroupOptions, CopyMode } from './options';
export type { CollectorRecord, PacketRecord, GapRecord, GapReason } from './records';
export * from './decode';
