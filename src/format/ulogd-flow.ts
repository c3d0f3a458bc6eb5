// A flow record as ulogd2 2.0.8 writes it with the stack NFCT → IP2STR → JSON:
// NFCT's keys in its order, then IP2STR's address strings. NFCT sets the
// counters, mark and id always (0 when the kernel sent none); flow.start /
// flow.end come from the kernel's conntrack timestamps, else from ulogd's clock.
import type { FlowRecord, FlowTuple } from '../records';
import { UlogdLine, type UlogdJsonOptions } from './ulogd-writer';

/** libnetfilter_conntrack's message types, NFCT's "ct.event". */
const NFCT_T_NEW = 1;
const NFCT_T_UPDATE = 2;
const NFCT_T_DESTROY = 4;

/** Protocols whose tuples NFCT reads ports from: TCP, UDP, UDP-Lite, SCTP, DCCP. */
function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 136 || protocol === 132 || protocol === 33;
}

function eventType(event: FlowRecord['event']): number {
  if (event === 'new') return NFCT_T_NEW;
  if (event === 'destroy') return NFCT_T_DESTROY;
  // ulogd logs updates only when polling or dumping, as NFCT_T_UPDATE.
  return NFCT_T_UPDATE;
}

function tupleKeys(line: UlogdLine, prefix: 'orig' | 'reply', tuple: FlowTuple | undefined, packets: number, bytes: number): void {
  const protocol = tuple?.protocol ?? 0;
  line.int(prefix + '.ip.protocol', protocol);
  if (hasPorts(protocol)) {
    line.int(prefix + '.l4.sport', tuple?.srcPort ?? 0);
    line.int(prefix + '.l4.dport', tuple?.dstPort ?? 0);
  }
  line.int(prefix + '.raw.pktlen', bytes);
  line.int(prefix + '.raw.pktcount', packets);
}

function timeKeys(line: UlogdLine, name: 'flow.start' | 'flow.end', us: number): void {
  const seconds = Math.floor(us / 1e6);
  // ulogd leaves a time with a zero second out.
  if (seconds === 0) return;
  line.int(name + '.sec', seconds);
  line.int(name + '.usec', Math.round(us - seconds * 1e6));
}

/**
 * One ulogd2 JSON line (no newline) for a conntrack flow record, as NFCT logs
 * it in event mode with its hash table off (hash_enable=0), the setting for
 * kernels with conntrack timestamps. The "timestamp" is ulogd's clock when it
 * logged the event (option nowUs, default the record's receivedUs), in seconds.
 */
export function flowToUlogdJson(record: FlowRecord, options: UlogdJsonOptions = {}): string {
  const nowUs = options.nowUs ?? record.receivedUs;
  const line = new UlogdLine();
  line.head(options, Math.floor(nowUs / 1e6), undefined);

  tupleKeys(line, 'orig', record.original, record.originalPackets ?? 0, record.originalBytes ?? 0);
  tupleKeys(line, 'reply', record.reply, record.replyPackets ?? 0, record.replyBytes ?? 0);
  // ICMP type and code (code first); ulogd 2.0.8 has no keys for ICMPv6 flows.
  const original = record.original;
  if (original?.protocol === 1) {
    line.int('icmp.code', original.icmpCode ?? 0);
    line.int('icmp.type', original.icmpType ?? 0);
  }
  line.int('ct.mark', record.mark ?? 0);
  line.int('ct.id', record.id ?? 0);
  const type = eventType(record.event);
  line.int('ct.event', type);

  // Kernel times only: completed-flow times the collector made up are not the kernel's.
  const kernelTimes = !record.timesFromCollector;
  const startUs = kernelTimes ? record.startUs : undefined;
  const stopUs = kernelTimes ? record.stopUs : undefined;
  if (type === NFCT_T_DESTROY) {
    if (startUs !== undefined) timeKeys(line, 'flow.start', startUs);
    timeKeys(line, 'flow.end', stopUs ?? nowUs);
  } else {
    timeKeys(line, 'flow.start', startUs ?? nowUs);
  }
  line.int('oob.family', record.family);
  // NFCT sets oob.protocol to 0 ("FIXME" in its source).
  line.int('oob.protocol', 0);

  // IP2STR converts IPv4 and IPv6 only.
  if ((record.family === 2 || record.family === 10) && original !== undefined) {
    line.str('src_ip', original.src);
    line.str('dest_ip', original.dst);
    if (record.reply !== undefined) {
      line.str('reply.ip.saddr.str', record.reply.src);
      line.str('reply.ip.daddr.str', record.reply.dst);
    }
  }
  return line.done();
}
