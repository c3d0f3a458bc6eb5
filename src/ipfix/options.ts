// IPFIX export options (the CLI's --format ipfix): what users pass, defaults and
// validation with errors that name the option. src/options.ts re-exports them
// with the collector's options.

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`netfilter-collector: option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * What the IPFIX exporter sends: NAT events (RFC 8158), flow records (at DESTROY), flow start records (at
 * NEW), NAT events of untranslated flows too.
 */
export type IpfixRecordKind = 'nat-events' | 'flows' | 'flow-starts' | 'untranslated';

export const IPFIX_RECORD_KINDS: readonly IpfixRecordKind[] = ['nat-events', 'flows', 'flow-starts', 'untranslated'];

export interface IpfixOptions {
  /** Observation Domain ID in every message header (0 to 2^32-1). Default 1. */
  observationDomainId?: number;
  /** MTU of the path to the collector, bytes: messages are packed up to it less the IP and UDP headers. Default 1500. */
  mtu?: number;
  /** Over UDP, templates are sent again after this many seconds (RFC 7011 §8.4). Default 60. */
  templateRefreshSeconds?: number;
  /** What to export. Default ['nat-events', 'flows']. */
  records?: IpfixRecordKind[];
}

export interface ResolvedIpfixOptions {
  observationDomainId: number;
  mtu: number;
  templateRefreshMs: number;
  natEvents: boolean;
  flows: boolean;
  flowStarts: boolean;
  untranslated: boolean;
}

/** The MTU's smallest and largest values: IPv4's minimum datagram, and what one UDP datagram can carry. */
export const IPFIX_MTU_RANGE = [576, 65535] as const;

export function resolveIpfixOptions(options: IpfixOptions = {}): ResolvedIpfixOptions {
  const records = options.records ?? ['nat-events', 'flows'];
  if (!Array.isArray(records) || records.length === 0) {
    throw new RangeError(`netfilter-collector: option ipfix.records must list some of ${IPFIX_RECORD_KINDS.join(', ')}`);
  }
  for (const kind of records) {
    if (!IPFIX_RECORD_KINDS.includes(kind)) {
      throw new RangeError(`netfilter-collector: option ipfix.records: '${String(kind)}' is not one of ${IPFIX_RECORD_KINDS.join(', ')}`);
    }
  }
  if (records.includes('untranslated') && !records.includes('nat-events')) {
    throw new RangeError(
      'netfilter-collector: option ipfix.records: untranslated adds the NAT events of untranslated flows: list nat-events too',
    );
  }
  return {
    observationDomainId: integer('ipfix.observationDomainId', options.observationDomainId ?? 1, 0, 0xffffffff),
    mtu: integer('ipfix.mtu', options.mtu ?? 1500, IPFIX_MTU_RANGE[0], IPFIX_MTU_RANGE[1]),
    templateRefreshMs: integer('ipfix.templateRefreshSeconds', options.templateRefreshSeconds ?? 60, 1, 86_400) * 1000,
    natEvents: records.includes('nat-events'),
    flows: records.includes('flows'),
    flowStarts: records.includes('flow-starts'),
    untranslated: records.includes('untranslated'),
  };
}
