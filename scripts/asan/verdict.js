'use strict';
// Judges an ASan run (scripts/asan/run.sh): reads the driver's output and the
// sanitizer logs in LOGS, prints what it found and PASS or FAIL.
//
//   node scripts/asan/verdict.js LOGS DRIVER_EXIT_STATUS
const fs = require('node:fs');
const path = require('node:path');

// A leak is the addon's when one of its frames is in the addon or a library only the addon uses.
const OURS = /netfilter_collector\.node|libnetfilter_log|libnetfilter_conntrack|libnfnetlink|libmnl|\/native\/\w+\.(cc|h)/;
const FD_SLACK = 2;
const RSS_SLACK_KB = 32 * 1024;

function main() {
  const [logs, statusText] = process.argv.slice(2);
  const failures = [];
  const notes = [];

  const driveOut = fs.readFileSync(path.join(logs, 'drive.out'), 'utf8');
  const line = driveOut.split('\n').find((l) => l.startsWith('ASAN-DRIVE '));
  if (Number(statusText) !== 0) failures.push(`the driver exited with status ${statusText}`);
  if (!line) failures.push('the driver printed no result');

  const files = fs.readdirSync(logs).filter((f) => /^(asan|ubsan)\.\d+/.test(f));
  let ownLeaks = 0;
  let otherLeaks = 0;
  for (const f of files) {
    const text = fs.readFileSync(path.join(logs, f), 'utf8');
    const errors = text.match(/^==\d+==ERROR: AddressSanitizer: .*$/gm) ?? [];
    for (const e of errors) failures.push(`${f}: ${e.replace(/^==\d+==/, '')}`);
    const ub = text.match(/^.*runtime error: .*$/gm) ?? [];
    for (const e of ub) failures.push(`${f}: UBSan ${e}`);
    // LeakSanitizer: blocks start with "Direct leak" / "Indirect leak" and end at a blank line.
    for (const block of text.split(/\n\s*\n/)) {
      const head = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object/m.exec(block);
      if (!head) continue;
      if (OURS.test(block)) {
        ownLeaks++;
        failures.push(`${f}: addon leak: ${head[0]}\n${block.split('\n').slice(1, 12).join('\n')}`);
      } else otherLeaks++;
    }
  }
  notes.push(`sanitizer logs: ${files.length ? files.join(', ') : 'none (no reports)'}`);
  notes.push(`leaks at exit: ${ownLeaks} from the addon, ${otherLeaks} from node/V8 itself (not judged)`);

  if (line) {
    const r = JSON.parse(line.slice('ASAN-DRIVE '.length));
    const load = r.load;
    notes.push(
      `load test: sent ${r.options.packets} logged datagrams + ${r.options.flows} flows in ${load.sendSeconds} s; received ${load.packet} packet, ${load.flow} flow, ${load.gap} gap records, ${load.decodeErrors} decode errors`,
    );
    if (load.packet === 0) failures.push('the load test received no packet records');
    if (load.flow === 0) failures.push('the load test received no flow records');
    const ov = r.overflow;
    notes.push(
      `overflow test: received ${ov.packet} packet, ${ov.flow} flow, ${ov.gap} gap records; reader: ${ov.native.enobufs} ENOBUFS, ${ov.native.ringFull} ring-full waits, ${ov.native.conntrackEnobufs} conntrack ENOBUFS, ${ov.native.conntrackDumps} conntrack dumps`,
    );
    if (ov.packet === 0) failures.push('the overflow test received no packet records');
    if (ov.native.enobufs + ov.native.ringFull + ov.native.conntrackEnobufs === 0)
      notes.push('note: the overflow test overflowed nothing (its paths were not exercised)');
    const c = r.cycles;
    const fdGrowth = c.after.fds - c.before.fds;
    const rssGrowth = c.after.rssKb - c.before.rssKb;
    notes.push(
      `cycles: ${c.cycles} in ${c.seconds} s (and ${c.refused} refused starts); open fds ${c.before.fds} -> ${c.after.fds}; RSS ${c.before.rssKb} -> ${c.after.rssKb} kB (${rssGrowth >= 0 ? '+' : ''}${rssGrowth} kB)`,
    );
    if (c.refused === 0) failures.push('no refused start was exercised');
    if (fdGrowth > FD_SLACK) failures.push(`open fds grew by ${fdGrowth} over ${c.cycles} cycles`);
    if (rssGrowth > RSS_SLACK_KB) failures.push(`RSS grew by ${rssGrowth} kB over ${c.cycles} cycles (limit ${RSS_SLACK_KB} kB)`);
  }

  for (const n of notes) console.log(`[asan] ${n}`);
  for (const f of failures) console.log(`[asan] FAIL: ${f}`);
  console.log(
    failures.length
      ? '[asan] verdict: FAIL'
      : '[asan] verdict: PASS (no ASan/UBSan report, no addon leak, fds and RSS back after the cycles)',
  );
  process.exitCode = failures.length ? 1 : 0;
}

main();
