// The conntrack filters, checked again on arrival. The kernel-side (BPF)
// filter drops most unwanted events before they cross into user space, but the
// system's libnetfilter_conntrack can only over-approximate some lists (see
// native/conntrack_socket.cc), and table dumps are filtered by mark only: this
// makes what the user asked for exact.
import { type IpNetwork, parseIpInto } from '../packet/ip-text';
import type { FlowRecord } from '../records';

export interface FlowFilterOptions {
  protocols: number[];
  /** Networks as options.ts parsed them (parseIpNetwork). */
  sources: IpNetwork[];
  destinations: IpNetwork[];
  mark?: { value: number; mask: number };
}

function inNetwork(address: Uint8Array, length: number, net: IpNetwork): boolean {
  if (length !== net.bytes.length) return false;
  const whole = net.prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== net.bytes[i]) return false;
  const rest = net.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole] & mask) === (net.bytes[whole] & mask);
}

export class FlowFilter {
  private readonly protocols: Set<number> | null;
  private readonly sources: IpNetwork[];
  private readonly destinations: IpNetwork[];
  private readonly mark: { value: number; mask: number } | undefined;
  private readonly scratch = new Uint8Array(16);

  constructor(options: FlowFilterOptions) {
    this.protocols = options.protocols.length > 0 ? new Set(options.protocols) : null;
    this.sources = options.sources;
    this.destinations = options.destinations;
    this.mark = options.mark;
  }

  /** Is there anything to check? */
  get active(): boolean {
    return this.protocols !== null || this.sources.length > 0 || this.destinations.length > 0 || this.mark !== undefined;
  }

  matches(record: FlowRecord): boolean {
    const tuple = record.original;
    if (this.protocols !== null && (tuple === undefined || !this.protocols.has(tuple.protocol))) return false;
    if (this.sources.length > 0 && (tuple === undefined || !this.anyContains(this.sources, tuple.src))) return false;
    if (this.destinations.length > 0 && (tuple === undefined || !this.anyContains(this.destinations, tuple.dst))) return false;
    if (this.mark !== undefined && ((record.mark ?? 0) & this.mark.mask) >>> 0 !== (this.mark.value & this.mark.mask) >>> 0) return false;
    return true;
  }

  private anyContains(networks: IpNetwork[], address: string): boolean {
    const length = parseIpInto(address, this.scratch);
    for (const net of networks) if (inNetwork(this.scratch, length, net)) return true;
    return false;
  }
}
