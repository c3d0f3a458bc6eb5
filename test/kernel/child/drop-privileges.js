// Child of test/kernel/privileges.test.ts: creates a collector as root,
// drops to an unprivileged user, and keeps collecting. Driven line by line on
// stdin; answers one JSON line on stdout per command.
//   argv: NETNS GROUP USER[:GROUP]
//   collect PACKETS FLOWS  read until that many packets and NEW flows arrived (10 s at most)
//   stall                  stop reading (the parent then floods)
//   drain                  read until a dump-failed gap arrived (10 s at most)
//   reopen                 try a second collector now that privileges are gone
//   close                  close, report the counters and exit
const readline = require('node:readline');
const { createCollector } = require('../../../dist/collector.js');
const { dropPrivileges, parseUserSpec, taskCredentials } = require('../../../dist/privileges.js');

const [netns, group, userSpec] = process.argv.slice(2);
const collector = createCollector({
  nflog: [Number(group)],
  netns,
  qthreshold: 1,
  conntrack: { events: ['new'], resync: true },
  // Small buffers, so that a stalled reader overflows the conntrack socket quickly.
  ringSize: 1 << 20,
  socketBuffer: 1 << 16,
});
const dropped = dropPrivileges(parseUserSpec(userSpec));
const records = [];

function answer(value) {
  process.stdout.write(JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v)) + '\n');
}

async function readUntil(predicate, ms) {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) {
    const batch = await Promise.race([collector.nextBatch(), new Promise((r) => setTimeout(() => r([]), 100))]);
    if (batch === null) break;
    records.push(...batch);
  }
  return predicate();
}

const count = (test) => records.filter(test).length;
const packets = () => count((r) => r.kind === 'packet');
const newFlows = () => count((r) => r.kind === 'flow' && r.event === 'new');
const dumpFailures = () => records.filter((r) => r.kind === 'gap' && r.reason === 'dump-failed');

const commands = {
  async collect(p, f) {
    const done = await readUntil(() => packets() >= Number(p) && newFlows() >= Number(f), 10_000);
    answer({ done, packets: packets(), flows: newFlows(), tasks: taskCredentials() });
  },
  async stall() {
    answer({ stalled: true });
  },
  async drain() {
    const done = await readUntil(() => dumpFailures().length > 0, 10_000);
    answer({ done, dumpFailed: dumpFailures(), stats: collector.stats(), native: collector.nativeStats() });
  },
  async reopen() {
    try {
      createCollector({ nflog: [Number(group) + 1], netns }).close();
      answer({ error: null });
    } catch (err) {
      answer({ error: err.message, code: err.code });
    }
  },
  async close() {
    collector.close();
    await readUntil(() => false, 200);
    answer({ stats: collector.stats(), tasks: taskCredentials() });
    process.exit(0);
  },
};

answer({ dropped, uid: process.getuid(), tasks: taskCredentials() });
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  const [name, ...args] = line.trim().split(/\s+/);
  queue = queue.then(() => commands[name](...args)).catch((err) => answer({ failed: String(err?.stack) }));
});
lines.on('close', () => process.exit(0));
setTimeout(() => process.exit(3), 60_000).unref();
