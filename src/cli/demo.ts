// `netfilter-collector demo`: builds a throwaway gateway lab, installs
// rulesets in the styles operators use, sends a little traffic of every kind
// through it, prints what the collector sees in the router, and removes the
// lab — when done, on Ctrl-C / SIGTERM, and on any error. A lab left by a
// killed run is removed at the next start.
import { createCollector, type Collector } from '../collector';
import { LINE_FORMAT_NAMES, openLineFormat } from '../format/registry';
import { DemoLab, DEMO_RULESETS, DEMO_STEPS, missingDemoTools, removeStaleDemoLabs } from '../lab/demo-lab';
import { installHint } from '../lab/netns';
import { GATEWAY } from '../lab/gateway';
import { NetnsLab } from '../lab/netns';
import type { CollectorRecord } from '../records';
import { gapMessage } from './formats';

/** A record as one output line; null leaves the record out. */
export type DemoFormatter = (record: CollectorRecord) => string | null;

export interface DemoOptions {
  /** Extra formats for --format (the CLI's own); they win over the demo's built-in ones. */
  formatters?: Record<string, DemoFormatter>;
}

export const DEMO_HELP = `Usage: netfilter-collector demo [options]

Builds a throwaway lab of three network namespaces (client — router — server;
the router masquerades and forwards tcp/8080 to the client), installs firewall
rules in the router the way operators write them (iptables DROP_LOGGING and
LOG_AND_ACCEPT/DROP/REJECT chains, a default-deny INPUT logging tcp.in.dropped,
an nftables "ct state new log" rule), sends a little traffic of every kind,
and prints what the collector sees in the router: NFLOG packets and conntrack
flows with their NAT. The lab is removed at the end, on Ctrl-C, and on errors.
Needs root.

Options:
  --format NAME     readable (default), ecs, record, log, logemu or ulogd
  --rounds N        rounds of traffic (default 1, about 6 s each)
  --duration S      stop the traffic after S seconds at the latest (default 30)
  --keep-running    keep the lab and the collector until Ctrl-C after the traffic
  --utc             readable times in UTC rather than local time
  -h, --help        this help
`;

interface DemoArgs {
  help: boolean;
  format: string;
  rounds: number;
  durationS: number;
  keepRunning: boolean;
  utc: boolean;
}

function parseDemoArgs(argv: string[]): DemoArgs {
  const args: DemoArgs = { help: false, format: 'readable', rounds: 1, durationS: 30, keepRunning: false, utc: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    const positive = (max: number): number => {
      const text = value();
      const n = Number(text);
      if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${flag} must be a number from 1 to ${max}, got '${text}'`);
      return n;
    };
    switch (flag) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--format':
        args.format = value();
        break;
      case '--rounds':
        args.rounds = Math.floor(positive(1000));
        if (args.rounds < 1) throw new Error('--rounds must be at least 1');
        break;
      case '--duration':
        args.durationS = positive(3600);
        break;
      case '--keep-running':
        args.keepRunning = true;
        break;
      case '--utc':
        args.utc = true;
        break;
      default:
        throw new Error(`unknown option '${arg}' (see netfilter-collector demo --help)`);
    }
  }
  return args;
}

/** Every line format of the registry; a gap a format has no line for is said on stderr. */
function builtInFormatters(utc: boolean): Record<string, DemoFormatter> {
  const formatters: Record<string, DemoFormatter> = {};
  for (const name of LINE_FORMAT_NAMES) {
    const writer = openLineFormat(name, { utc });
    formatters[name] = (record) => {
      const line = writer.line(record);
      if (line === null && record.kind === 'gap') process.stderr.write(`${gapMessage(record)}\n`);
      return line;
    };
  }
  return formatters;
}

/** Counts of what arrived, for the summary and the check that every ruleset logged. */
class Tally {
  readonly byPrefix = new Map<string, number>();
  packets = 0;
  flowsNew = 0;
  flowsDestroy = 0;
  snat = 0;
  dnat = 0;
  gaps = 0;

  add(record: CollectorRecord): void {
    if (record.kind === 'packet') {
      this.packets++;
      const key = `${record.group}\u0000${record.prefix}`;
      this.byPrefix.set(key, (this.byPrefix.get(key) ?? 0) + 1);
    } else if (record.kind === 'flow') {
      if (record.event === 'new') {
        this.flowsNew++;
        if (record.nat?.source) this.snat++;
        if (record.nat?.destination) this.dnat++;
      } else if (record.event === 'destroy') this.flowsDestroy++;
    } else this.gaps++;
  }

  count(group: number, prefix: string): number {
    return this.byPrefix.get(`${group}\u0000${prefix}`) ?? 0;
  }
}

function header(lab: DemoLab): string[] {
  const g = GATEWAY;
  const name = (ns: string): string => lab.lab.name(ns);
  return [
    'netfilter-collector demo: a throwaway lab of three network namespaces (removed at the end)',
    `  ${name('client')}  client  ${g.client4}  ${g.client6}`,
    `  ${name('router')}  router  r0 ${g.routerIn4} ${g.routerIn6}, r1 ${g.routerOut4} ${g.routerOut6}; masquerade out of r1, DNAT r1 tcp/${g.forwardedPort} → client tcp/80`,
    `  ${name('server')}  server  ${g.server4}  ${g.server6}`,
    'Rulesets in the router, collected there (NFLOG groups and conntrack NEW/DESTROY):',
    ...DEMO_RULESETS.map((r) => `  group ${r.group} (${r.label}): ${r.description}`),
    '  conntrack: NAT flow records of the router (its table is flushed at the end, so every flow ends with counters)',
    'Columns: time, verdict or flow event, prefix, interfaces, protocol, endpoints, details, (group label)',
    '',
  ];
}

function summary(
  tally: Tally,
  collector: Collector | undefined,
  elapsedS: number,
  flushed: boolean,
): { lines: string[]; missing: string[] } {
  const stats = collector?.stats();
  const lost =
    stats === undefined ? '?' : `${stats.lost}${stats.lossUncounted ? ' (at least: the kernel dropped entries not yet counted)' : ''}`;
  const lines = [
    '',
    `Summary: ${tally.packets} packets and ${tally.flowsNew + tally.flowsDestroy} flow records in ${elapsedS.toFixed(1)} s; lost ${lost}, gap records ${tally.gaps}`,
  ];
  const missing: string[] = [];
  const known = new Set<string>();
  for (const ruleset of DEMO_RULESETS) {
    for (const prefix of ruleset.prefixes) {
      known.add(`${ruleset.group}\u0000${prefix}`);
      const n = tally.count(ruleset.group, prefix);
      if (n === 0) missing.push(`group ${ruleset.group} "${prefix.trim()}"`);
      lines.push(`  group ${ruleset.group} ${ruleset.label.padEnd(13)} ${JSON.stringify(prefix).padEnd(20)} ${String(n).padStart(4)}`);
    }
  }
  for (const [key, n] of tally.byPrefix) {
    if (known.has(key)) continue;
    const [group, prefix] = key.split('\u0000');
    lines.push(`  group ${group} ${'(other)'.padEnd(13)} ${JSON.stringify(prefix).padEnd(20)} ${String(n).padStart(4)}`);
  }
  lines.push(`  conntrack new ${tally.flowsNew} (masqueraded ${tally.snat}, port-forwarded ${tally.dnat}), destroy ${tally.flowsDestroy}`);
  if (tally.flowsNew === 0) missing.push('conntrack new');
  if (tally.snat === 0) missing.push('a masqueraded flow');
  if (tally.dnat === 0) missing.push('a port-forwarded flow');
  if (flushed && tally.flowsDestroy === 0) missing.push('conntrack destroy');
  return { lines, missing };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs the demo; resolves with the exit code. Parses its own argv (what follows `demo`). */
export async function runDemo(argv: string[], options?: DemoOptions): Promise<number> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(argv);
  } catch (err) {
    process.stderr.write(`netfilter-collector demo: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const formatters = { ...builtInFormatters(args.utc), ...options?.formatters };
  const format = formatters[args.format];
  if (format === undefined) {
    process.stderr.write(`netfilter-collector demo: unknown format '${args.format}' (one of: ${Object.keys(formatters).join(', ')})\n`);
    return 2;
  }
  const unavailable = NetnsLab.unavailable();
  if (unavailable !== null) {
    process.stderr.write(
      `netfilter-collector demo: needs root, iproute2 and nftables to build its lab of network namespaces: ${unavailable}\n`,
    );
    return 1;
  }
  const missing = missingDemoTools();
  if (missing.length > 0) {
    process.stderr.write(`netfilter-collector demo: missing ${missing.join(', ')} (${installHint(missing)})\n`);
    return 1;
  }

  // Ctrl-C and SIGTERM end the run through the same path as its natural end: the lab always goes.
  const interrupt = new AbortController();
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled ??= signal;
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // A reader that goes away (`| head`) ends the demo like Ctrl-C, not with an EPIPE crash.
  let outputFailed = false;
  const onOutputError = (): void => {
    outputFailed = true;
    interrupt.abort();
  };
  // Left attached: an EPIPE can be reported after the last write.
  process.stdout.on('error', onOutputError);
  const print = (lines: string[]): void => {
    if (!outputFailed && lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
  };
  // Notes (header, steps, summary) share stdout with the readable lines; other formats keep stdout to their lines.
  const readable = args.format === 'readable';
  const note = (lines: string[]): void => {
    if (readable) print(lines);
    else process.stderr.write(lines.map((l) => l + '\n').join(''));
  };

  const started = Date.now();
  const tally = new Tally();
  const demo = new DemoLab();
  // Last resort: whatever ends the process (an uncaught error elsewhere, process.exit) still removes the lab.
  const removeLab = (): void => demo.destroy();
  process.once('exit', removeLab);
  let collector: Collector | undefined;
  let consuming: Promise<void> | undefined;
  let code = 0;
  let trafficDone = false;
  let flushed = false;
  try {
    const stale = removeStaleDemoLabs();
    if (stale.length > 0) note([`removed a lab left by an earlier run: ${stale.join(', ')}`]);
    demo.build();
    if (!interrupt.signal.aborted) await demo.startServers();
    if (!interrupt.signal.aborted) {
      collector = createCollector({
        netns: demo.router,
        // One entry per datagram: each packet prints as it happens, in order with the flows.
        nflog: DEMO_RULESETS.map((r) => ({ group: r.group, label: r.label, qthreshold: 1 })),
        conntrack: { events: ['new', 'destroy'], enableSysctls: true },
        signal: interrupt.signal,
      });
      const c = collector;
      consuming = (async () => {
        for await (const batch of c.batches()) {
          const lines: string[] = [];
          for (const record of batch) {
            tally.add(record);
            const line = format(record);
            if (line !== null) lines.push(line);
          }
          print(lines);
        }
      })();
      // A formatter that throws ends the demo (and the lab) at once.
      consuming.catch(() => interrupt.abort());
      note(header(demo));

      // The traffic stops at --duration, or at once on a signal.
      const traffic = new AbortController();
      const stopTraffic = (): void => traffic.abort();
      interrupt.signal.addEventListener('abort', stopTraffic, { once: true });
      const deadline = setTimeout(stopTraffic, args.durationS * 1000);
      try {
        for (let round = 1; round <= args.rounds && !traffic.signal.aborted; round++) {
          if (args.rounds > 1) note([`── round ${round} of ${args.rounds}`]);
          for (const step of DEMO_STEPS) {
            if (traffic.signal.aborted) break;
            note([`── ${step.description}`]);
            await step.run(demo, traffic.signal);
            // Let the step's events print before the next step's heading.
            await sleep(150, traffic.signal);
          }
        }
        trafficDone = !traffic.signal.aborted;
      } finally {
        clearTimeout(deadline);
        interrupt.signal.removeEventListener('abort', stopTraffic);
      }
      if (!trafficDone && !interrupt.signal.aborted) note([`── --duration ${args.durationS} s reached: traffic stopped`]);
      if (!interrupt.signal.aborted) {
        note(["── flushing the router's conntrack table: every flow ends, its DESTROY record carries the counters"]);
        flushed = demo.flushConntrack();
        if (!flushed) note(['   (conntrack -F failed: is the conntrack tool installed? flows end on their own timeouts)']);
        await sleep(500, interrupt.signal);
      }
      if (args.keepRunning && !interrupt.signal.aborted) {
        note([`── the lab stays up until Ctrl-C; try: ip netns exec ${demo.lab.name('client')} ping -c 1 ${GATEWAY.server4}`]);
        await new Promise<void>((resolve) => interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
    }
  } catch (err) {
    process.stderr.write(`netfilter-collector demo: ${(err as Error).message ?? String(err)}\n`);
    code = 1;
  } finally {
    collector?.close();
    // What the kernel already handed over is still printed before the lab goes.
    await consuming?.catch((err: unknown) => {
      // Ctrl-C aborts the collector through its signal: that AbortError is the expected end, not a failure.
      if ((err as Error).name === 'AbortError' && interrupt.signal.aborted) return;
      process.stderr.write(`netfilter-collector demo: ${(err as Error).message ?? String(err)}\n`);
      code = 1;
    });
    demo.destroy();
    process.off('exit', removeLab);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const elapsedS = (Date.now() - started) / 1000;
  if (collector !== undefined) {
    const result = summary(tally, collector, elapsedS, flushed);
    note(result.lines);
    // Only a complete run can say a ruleset stayed silent.
    if (trafficDone && code === 0 && result.missing.length > 0) {
      note([`Expected events did not arrive: ${result.missing.join(', ')}`]);
      code = 1;
    }
  }
  note([`The lab is removed (${demo.lab.name('*')}).`]);
  if (code !== 0) return code;
  if (outputFailed) return 1;
  if (signalled !== null && !args.keepRunning) return signalled === 'SIGINT' ? 130 : 143;
  return 0;
}
