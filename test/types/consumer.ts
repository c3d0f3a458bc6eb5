// A shipper's view of the types, checked by tsc (test/unit/types.test.ts runs
// it; `npm run typecheck` covers it too): the ECS documents are assignable to
// Elastic's own ECS types (@elastic/ecs, a dev dependency), and every type the
// README names is exported from the package's entry points.
import type { Ecs, EcsVersion } from '@elastic/ecs';
import type {
  AbortError,
  ActionResult,
  AllNetnsOptions,
  ActionRule,
  BatchOptions,
  Collector,
  CollectorEvents,
  CollectorOptions,
  CollectorRecord,
  CollectorState,
  CollectorStats,
  ConntrackOptions,
  EcsDocument,
  EcsFlowDocument,
  EcsGapDocument,
  FlowRecord,
  GapRecord,
  NamespaceChange,
  PacketRecord,
  RecordsFor,
  SequencedCollectorRecord,
  SequencedPacketRecord,
} from '../../src/index';
import { createCollector } from '../../src/index';
import type { gapToEcs, flowToEcs, packetToEcs } from '../../src/decode';

/**
 * Elastic's type pins ecs.version to the literal of its own release ("9.4.0", the newest on npm);
 * the documents say the release whose field reference they are checked against (ECS_VERSION, 9.5.0).
 * Every other field is Elastic's type unchanged.
 */
type EcsOfAnyVersion = Omit<Ecs, 'ecs'> & { ecs?: Omit<NonNullable<Ecs['ecs']>, 'version'> & { version: string } };

/** Compiles only when A is assignable to B. */
type Assignable<A, B> = [A] extends [B] ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

// The documents each converter returns, as Elastic's own types see them.
expectTrue<Assignable<ReturnType<typeof packetToEcs>, EcsOfAnyVersion>>();
expectTrue<Assignable<ReturnType<typeof flowToEcs>, EcsOfAnyVersion>>();
expectTrue<Assignable<ReturnType<typeof gapToEcs>, EcsOfAnyVersion>>();
expectTrue<Assignable<EcsDocument, EcsOfAnyVersion>>();
expectTrue<Assignable<EcsFlowDocument, EcsOfAnyVersion>>();
expectTrue<Assignable<EcsGapDocument, EcsOfAnyVersion>>();
// And the check has teeth: the packet document with source.port as text would not be.
expectTrue<Assignable<Assignable<Omit<EcsDocument, 'source'> & { source: { port: string } }, EcsOfAnyVersion>, false>>();
// The ECS version the documents say is the one these types describe.
expectTrue<Assignable<typeof EcsVersion, string>>();

// Records: a union a shipper narrows by kind; seq is a number once sequence numbers are on (the default).
function onRecord(record: CollectorRecord): number | undefined {
  switch (record.kind) {
    case 'packet': {
      const packet: PacketRecord = record;
      return packet.seq;
    }
    case 'flow': {
      const flow: FlowRecord = record;
      return flow.timestampUs;
    }
    case 'gap': {
      const gap: GapRecord = record;
      return gap.count ?? undefined;
    }
  }
}
void onRecord;
declare const sequenced: SequencedPacketRecord;
const seq: number = sequenced.seq;
void seq;

/** Compiles only when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// The collector's records follow its options: seq is a number, without a cast, unless sequence may be off.
async function records(): Promise<void> {
  const collector = createCollector({ nflog: [7] });
  expectTrue<Same<typeof collector, Collector<SequencedCollectorRecord>>>();
  for await (const record of collector) {
    if (record.kind === 'packet') {
      const n: number = record.seq;
      void n;
    }
  }
  for await (const batch of createCollector({ nflog: 7, sequence: true }).batches()) {
    for (const record of batch) if (record.kind === 'packet') expectTrue<Same<typeof record.seq, number>>();
  }
  // Off, or not known to be on: seq may be missing.
  expectTrue<Same<ReturnType<typeof createCollector<{ nflog: number; sequence: false }>>, Collector<CollectorRecord>>>();
  const off = createCollector({ nflog: 7, sequence: false });
  const batch = await off.nextBatch();
  for (const record of batch ?? []) if (record.kind === 'packet') expectTrue<Same<typeof record.seq, number | undefined>>();
  const fromConfig: CollectorOptions = { nflog: 7 };
  expectTrue<Same<ReturnType<typeof createCollector<typeof fromConfig>>, Collector<CollectorRecord>>>();
  expectTrue<Same<RecordsFor<{ sequence: boolean }>, CollectorRecord>>();
  expectTrue<Same<RecordsFor<{ conntrack: true }>, SequencedCollectorRecord>>();
}
void records;

// The collector's shape for shippers.
async function ship(collector: Collector): Promise<CollectorStats> {
  const options: BatchOptions = { maxRecords: 500, maxWaitMs: 1000 };
  for await (const batch of collector.batches(options)) void batch;
  collector.on('idle', () => {});
  collector.on('error', (err: Error) => void err);
  const state: CollectorState = collector.state;
  void state;
  await collector[Symbol.asyncDispose]();
  const closed: Promise<void> = collector.close();
  await closed;
  return collector.stats();
}
void ship;

// Every namespace of a container host: the options and the callback's argument have names of their own.
const tenants: AllNetnsOptions = { match: 'tenant-*', processes: true };
const onNamespace = (change: NamespaceChange): string => `${change.change} ${change.name} ${change.inode} ${change.reason ?? ''}`;
const everyTenant = (): Collector => createCollector({ nflog: [1], allNetns: tenants, onNamespace });
void everyTenant;

// Every name the README uses resolves.
type Named = [CollectorOptions, ConntrackOptions, ActionRule, ActionResult, AbortError, CollectorEvents];
const named: Named | undefined = undefined;
void named;
