// A small IPFIX (RFC 7011) decoder for the tests: it reads templates from the
// messages themselves and names fields from its own table of IANA numbers
// (typed here from the registry, not taken from src/ipfix/elements.ts), so a
// wrong number or order in the exporter shows up as a wrong name or value.

const IANA: Record<number, string> = {
  1: 'octetDeltaCount',
  2: 'packetDeltaCount',
  4: 'protocolIdentifier',
  7: 'sourceTransportPort',
  8: 'sourceIPv4Address',
  11: 'destinationTransportPort',
  12: 'destinationIPv4Address',
  27: 'sourceIPv6Address',
  28: 'destinationIPv6Address',
  32: 'icmpTypeCodeIPv4',
  136: 'flowEndReason',
  137: 'commonPropertiesId',
  139: 'icmpTypeCodeIPv6',
  152: 'flowStartMilliseconds',
  153: 'flowEndMilliseconds',
  225: 'postNATSourceIPv4Address',
  226: 'postNATDestinationIPv4Address',
  227: 'postNAPTSourceTransportPort',
  228: 'postNAPTDestinationTransportPort',
  230: 'natEvent',
  233: 'firewallEvent',
  234: 'ingressVRFID',
  281: 'postNATSourceIPv6Address',
  282: 'postNATDestinationIPv6Address',
  323: 'observationTimeMilliseconds',
};
// RFC 5103: enterprise 29305 carries the reverse direction of the same element.
const REVERSE_PEN = 29305;

export interface DecodedField {
  id: number;
  length: number;
  enterprise?: number;
  name: string;
}

export type DecodedValue = number | string;

export interface DecodedMessage {
  version: number;
  length: number;
  exportTime: number;
  sequence: number;
  domain: number;
  templateIds: number[];
  withdrawn: number[];
  records: Array<{ template: number; values: Record<string, DecodedValue> }>;
}

function fieldName(id: number, enterprise: number | undefined): string {
  const base = IANA[id] ?? `ie${id}`;
  if (enterprise === undefined) return base;
  if (enterprise === REVERSE_PEN) return `reverse${base[0].toUpperCase()}${base.slice(1)}`;
  return `${enterprise}.${id}`;
}

function ipv6(bytes: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(at + i).toString(16));
  // Compress the longest run of zero groups (RFC 5952), enough for the tests' addresses.
  const text = groups.join(':');
  const runs = [...text.matchAll(/(?:^|:)0(?::0)+(?::|$)/g)].sort((a, b) => b[0].length - a[0].length);
  if (runs.length === 0) return text;
  const r = runs[0];
  return `${text.slice(0, r.index)}::${text.slice((r.index ?? 0) + r[0].length)}`;
}

function value(name: string, bytes: Buffer, at: number, length: number): DecodedValue {
  if (name.endsWith('IPv4Address')) return [...bytes.subarray(at, at + 4)].join('.');
  if (name.endsWith('IPv6Address')) return ipv6(bytes, at);
  let n = 0;
  for (let i = 0; i < length; i++) n = n * 256 + bytes[at + i];
  return n;
}

/** Templates persist across messages of one stream, as in a collector. */
export class IpfixTestDecoder {
  readonly templates = new Map<number, DecodedField[]>();

  decode(bytes: Buffer): DecodedMessage {
    const message: DecodedMessage = {
      version: bytes.readUInt16BE(0),
      length: bytes.readUInt16BE(2),
      exportTime: bytes.readUInt32BE(4),
      sequence: bytes.readUInt32BE(8),
      domain: bytes.readUInt32BE(12),
      templateIds: [],
      withdrawn: [],
      records: [],
    };
    if (message.version !== 10) throw new Error(`version ${message.version}`);
    if (message.length !== bytes.length) throw new Error(`header length ${message.length}, message ${bytes.length}`);
    let at = 16;
    while (at < bytes.length) {
      const setId = bytes.readUInt16BE(at);
      const setLength = bytes.readUInt16BE(at + 2);
      if (setLength < 4 || at + setLength > bytes.length) throw new Error(`set ${setId} at ${at}: length ${setLength}`);
      const end = at + setLength;
      let p = at + 4;
      if (setId === 2) {
        while (p + 4 <= end) {
          const id = bytes.readUInt16BE(p);
          const count = bytes.readUInt16BE(p + 2);
          p += 4;
          if (count === 0) {
            message.withdrawn.push(id);
            if (id === 2) this.templates.clear();
            else this.templates.delete(id);
            continue;
          }
          const fields: DecodedField[] = [];
          for (let i = 0; i < count; i++) {
            const raw = bytes.readUInt16BE(p);
            const length = bytes.readUInt16BE(p + 2);
            p += 4;
            let enterprise: number | undefined;
            if (raw & 0x8000) {
              enterprise = bytes.readUInt32BE(p);
              p += 4;
            }
            const fid = raw & 0x7fff;
            fields.push({ id: fid, length, enterprise, name: fieldName(fid, enterprise) });
          }
          this.templates.set(id, fields);
          message.templateIds.push(id);
        }
      } else if (setId >= 256) {
        const fields = this.templates.get(setId);
        if (!fields) throw new Error(`data set ${setId} without its template`);
        const size = fields.reduce((n, f) => n + f.length, 0);
        while (p + size <= end) {
          const values: Record<string, DecodedValue> = {};
          for (const f of fields) {
            values[f.name] = value(f.name, bytes, p, f.length);
            p += f.length;
          }
          message.records.push({ template: setId, values });
        }
        if (p !== end) throw new Error(`data set ${setId}: ${end - p} bytes left over`);
      } else {
        throw new Error(`unexpected set ID ${setId}`);
      }
      at = end;
    }
    return message;
  }
}
