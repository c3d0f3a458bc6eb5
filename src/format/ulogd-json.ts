// ulogd2-compatible JSON lines (ulogd 2.0.8 with its JSON output plugin):
// packets as the stack NFLOG → BASE → IFINDEX → IP2STR → HWHDR → JSON writes
// them, flows as NFCT → IP2STR → JSON does.
export { packetToUlogdJson } from './ulogd-packet';
export { flowToUlogdJson } from './ulogd-flow';
export type { UlogdJsonOptions } from './ulogd-writer';
