// The ECS flow document as one JSON line: flow.ts's definition written through
// a JsonWriter, straight into bytes (doc-writer.ts). The line is
// JSON.stringify(flowToEcs(record, options)), byte for byte.
import type { FlowRecord } from '../records';
import type { LineTarget } from '../format/line-target';
import { JsonWriter } from './doc-writer';
import { type FlowEcsOptions, writeFlowDocument } from './flow';
import { ecsIdentity, type EcsIdentity } from './identity';

/** ECS lines of flow records for one set of options. */
export class EcsFlowLines {
  private readonly json = new JsonWriter();
  private readonly identity: EcsIdentity;

  constructor(private readonly options?: FlowEcsOptions) {
    this.identity = ecsIdentity(options);
  }

  /** JSON.stringify(flowToEcs(record, options)). */
  line(record: FlowRecord): string {
    const end = this.write(record);
    return this.json.bytes().toString('utf8', 0, end);
  }

  /** The same line, UTF-8, copied into the target's buffer (no string made). */
  writeLine(record: FlowRecord, to: LineTarget): void {
    const end = this.write(record);
    const buffer = to.reserve(end);
    const at = to.offset;
    this.json.bytes().copy(buffer, at, 0, end);
    to.commit(at + end);
  }

  private write(record: FlowRecord): number {
    const w = this.json;
    w.begin();
    writeFlowDocument(w, record, this.options, this.identity);
    return w.end();
  }
}

const LINES = new WeakMap<FlowEcsOptions, EcsFlowLines>();
let noOptionsLines: EcsFlowLines | undefined;

/** JSON.stringify(flowToEcs(record, options)), faster. Pass the same options object each time. */
export function flowToEcsJson(record: FlowRecord, options?: FlowEcsOptions): string {
  if (options === undefined) return (noOptionsLines ??= new EcsFlowLines()).line(record);
  let lines = LINES.get(options);
  if (lines === undefined) LINES.set(options, (lines = new EcsFlowLines(options)));
  return lines.line(record);
}
