// The ECS packet document as one JSON line: packet.ts's definition written
// through a JsonWriter, straight into bytes (doc-writer.ts). The line is
// JSON.stringify(packetToEcs(record, options)), byte for byte.
import type { PacketRecord } from '../records';
import type { LineTarget } from '../format/line-target';
import { JsonWriter } from './doc-writer';
import { ecsIdentity, type EcsIdentity } from './identity';
import { type EcsOptions, writePacketDocument } from './packet';

/** ECS lines of packet records for one set of options. */
export class EcsPacketLines {
  private readonly json = new JsonWriter();
  private readonly identity: EcsIdentity;

  constructor(private readonly options?: EcsOptions) {
    this.identity = ecsIdentity(options);
  }

  /** JSON.stringify(packetToEcs(record, options)). */
  line(record: PacketRecord): string {
    const end = this.write(record);
    return this.json.bytes().toString('utf8', 0, end);
  }

  /** The same line, UTF-8, copied into the target's buffer (no string made). */
  writeLine(record: PacketRecord, to: LineTarget): void {
    const end = this.write(record);
    const buffer = to.reserve(end);
    const at = to.offset;
    this.json.bytes().copy(buffer, at, 0, end);
    to.commit(at + end);
  }

  private write(record: PacketRecord): number {
    const w = this.json;
    w.begin();
    writePacketDocument(w, record, this.options, this.identity);
    return w.end();
  }
}

// One writer per options object (the identity is resolved once per options object too).
const LINES = new WeakMap<EcsOptions, EcsPacketLines>();
let noOptionsLines: EcsPacketLines | undefined;

/**
 * JSON.stringify(packetToEcs(record, options)), faster. Pass the same options
 * object each time: what it implies (observer and agent identity) is resolved
 * once per options object.
 */
export function packetToEcsJson(record: PacketRecord, options?: EcsOptions): string {
  if (options === undefined) return (noOptionsLines ??= new EcsPacketLines()).line(record);
  let lines = LINES.get(options);
  if (lines === undefined) LINES.set(options, (lines = new EcsPacketLines(options)));
  return lines.line(record);
}
