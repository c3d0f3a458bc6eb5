'use strict';
// Starting, watching and stopping a contender (the collector, ulogd2, the C floor) and running them in turn.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { GNU_TIME, ULOGD, ULOGD_PLUGINS, live, log, sleep } = require('./common');
const { childrenOf, parseTimeFile, sampleProc } = require('./proc');

// ---------------------------------------------------------------- contenders

/**
 * ulogd's configuration in runDir: the plugins (ulogd_<name>.so), the stack
 * (or a list of stacks), the input plugins' sections, JSON output json1 to
 * runDir/ulogd.json, then extraSections (e.g. a second JSON output); its log
 * goes to runDir/ulogd.log. Returns the command that runs it.
 */
function ulogdCommand(runDir, plugins, stack, inputSection, extraSections = []) {
  const conf = path.join(runDir, 'ulogd.conf');
  const stacks = Array.isArray(stack) ? stack : [stack];
  const text = [
    '[global]',
    `logfile="${path.join(runDir, 'ulogd.log')}"`,
    'loglevel=5',
    ...plugins.map((p) => `plugin="${ULOGD_PLUGINS}/ulogd_${p}.so"`),
    ...stacks.map((s) => `stack=${s}`),
    '',
    ...inputSection,
    '',
    '[json1]',
    `file="${path.join(runDir, 'ulogd.json')}"`,
    'sync=0',
    '',
    ...extraSections,
  ].join('\n');
  fs.writeFileSync(conf, text);
  return [ULOGD, '-c', conf];
}

/**
 * ulogd's netlink buffer lines for an input section: it only applies
 * netlink_socket_buffer_size when it is strictly below
 * netlink_socket_buffer_maxsize, hence maxsize = 2 × size.
 */
function ulogdBufferLines(bytes) {
  return [`netlink_socket_buffer_size=${bytes}`, `netlink_socket_buffer_maxsize=${bytes * 2}`];
}

/**
 * Starts a contender (argv) under GNU time, when there is one, in its own
 * process group, and returns its handle: stdout/stderr tails, exit, `done` (a
 * promise), the measured pid (target()) and VmHWM/CPU samples every 200 ms.
 * A collector enters the namespace itself (--netns) and runs from the host
 * side; the others run inside the namespace (ip netns exec).
 */
function startContender(name, argv, runDir, ctx) {
  const timeFile = path.join(runDir, 'time.txt');
  const timed = ctx.haveTime ? [GNU_TIME, '-f', '%U %S %M %e', '-o', timeFile, ...argv] : argv;
  const cmd = name.startsWith('collector-') ? timed : ['ip', 'netns', 'exec', ctx.nsName, ...timed];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: runDir });
  /** @type {any} */ (child).detachedGroup = true;
  live.add(child);
  const h = { name, child, cmd, timeFile, stdout: '', stderr: '', exited: false, code: null, signal: null, samples: null, maxHwmKiB: 0 };
  child.stdout.on('data', (d) => (h.stdout += d.toString().slice(-20000)));
  child.stderr.on('data', (d) => (h.stderr += d.toString().slice(-20000)));
  h.done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      h.exited = true;
      h.code = code;
      h.signal = signal;
      live.delete(child);
      resolve();
    });
    child.on('error', (err) => {
      h.exited = true;
      h.stderr += `\nspawn failed: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });
  // The measured process: `ip netns exec` execs in place, so GNU time is the
  // spawned process and the contender its only child; without GNU time, the spawned pid.
  h.target = () => (ctx.haveTime ? childrenOf(child.pid)[0] : child.pid);
  // Sample VmHWM and CPU while it runs (a fallback when GNU time is absent, and a cross-check).
  h.sampler = setInterval(() => {
    const pid = h.target();
    const s = pid ? sampleProc(pid) : null;
    if (s) {
      h.samples = s;
      if (s.hwmKiB) h.maxHwmKiB = Math.max(h.maxHwmKiB, s.hwmKiB);
    }
  }, 200);
  return h;
}

async function stopContender(h, graceMs = 10_000) {
  if (h.exited) return;
  const pid = h.target();
  try {
    if (pid) process.kill(pid, 'SIGTERM');
    else process.kill(-h.child.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  const timer = sleep(graceMs).then(() => 'late');
  if ((await Promise.race([h.done.then(() => 'ok'), timer])) === 'late') {
    try {
      process.kill(-h.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await h.done;
  }
}

const waitExit = (h, ms) => Promise.race([h.done.then(() => true), sleep(ms).then(() => false)]);

/** The last lines of a contender's stderr, on one line. */
const stderrTail = (h) => h.stderr.trim().split('\n').slice(-3).join(' | ');

/** Polls until cond() is false (every ms, at most tries + 1 times), else throws what failure() says. */
async function waitWhile(cond, tries, ms, failure) {
  for (let t = 0; cond(); t++) {
    if (t > tries) throw new Error(failure());
    await sleep(ms);
  }
}

/**
 * Waits up to 20 s for find() to return something (the contender's socket
 * bound or subscribed in the namespace), then 1 s more, and returns it. When
 * the contender did not get there (then stopped) or exited meanwhile, sets
 * result.error and returns undefined.
 */
async function waitReady(h, find, failure, result) {
  const deadline = Date.now() + 20_000;
  let found;
  while ((found = find()) === undefined) {
    if (h.exited || Date.now() > deadline) {
      await stopContender(h, 2000);
      result.error = `${failure}: exit ${h.code ?? h.signal ?? 'none'}; ${stderrTail(h)}`;
      return undefined;
    }
    await sleep(50);
  }
  await sleep(1000);
  if (!h.exited) return found;
  result.error = `exited before the burst: ${stderrTail(h)}`;
  return undefined;
}

/**
 * Waits for the contender to go idle, calling sample() every ~100 ms. With
 * outFile (ulogd, which never exits on its own; a file or a list of files): until they have not grown
 * for idleMs, then stops it. Otherwise until it exits (its idle exit fires
 * idleMs after its last event). Either way stops it at the deadline. Returns
 * when it has exited: { lastActivity (ms), timedOut }.
 */
async function waitIdle(h, { outFile, since, deadline, idleMs, sample }) {
  let lastActivity = since;
  let timedOut = false;
  if (outFile) {
    const files = Array.isArray(outFile) ? outFile : [outFile];
    let size = -1;
    while (Date.now() < deadline && !h.exited) {
      sample();
      let now = 0;
      for (const file of files) now += fs.existsSync(file) ? fs.statSync(file).size : 0;
      if (now !== size) {
        size = now;
        lastActivity = Date.now();
      } else if (Date.now() - lastActivity >= idleMs) {
        break;
      }
      await sleep(100);
    }
    timedOut = Date.now() >= deadline;
    await stopContender(h);
  } else {
    while (!h.exited && Date.now() < deadline) {
      sample();
      await waitExit(h, 100);
    }
    if (!h.exited) {
      timedOut = true;
      await stopContender(h);
    }
    lastActivity = Date.now() - idleMs;
  }
  await h.done;
  return { lastActivity, timedOut };
}

/** The "We are losing events" and "Maximum buffer size" notices in ulogd's log, and the log itself. */
function ulogdNotices(runDir) {
  const file = path.join(runDir, 'ulogd.log');
  const logText = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  // ulogd warns on ENOBUFS (growing its buffer) until its maximum is reached, then stays silent.
  return {
    logText,
    losingEventsNotices: (logText.match(/We are losing events/g) || []).length,
    maxBufferNotices: (logText.match(/Maximum buffer size/g) || []).length,
  };
}

/** CPU (user+sys) and peak RSS of the contender: GNU time's rusage, else the last /proc sample. */
function addUsage(result, h) {
  const t = parseTimeFile(h.timeFile);
  if (t) {
    result.cpuUser = t.user;
    result.cpuSys = t.sys;
    result.cpu = t.user + t.sys;
    result.peakRssKiB = t.maxRssKiB;
    result.cpuSource = 'GNU time (rusage of the whole process)';
  } else if (h.samples) {
    result.cpu = h.samples.cpu;
    result.peakRssKiB = h.maxHwmKiB || null;
    result.cpuSource = '/proc/PID/stat sampled every 200 ms (last sample)';
  }
  result.vmHwmKiB = h.maxHwmKiB || null;
}

/**
 * Runs every contender of ctx.o.contenders but the skipped ones ctx.o.runs
 * times (runOne(name, run, ctx)), logging each start (`${name}${what}`) and
 * outcome (describe(result)); a run that throws is a result with an error, a
 * skipped contender one with `skipped: why`.
 */
async function runContenders(ctx, skipped, { what, runOne, describe }) {
  const { runs, contenders } = ctx.o;
  const results = [];
  const active = contenders.filter((c) => !skipped[c]);
  for (let run = 1; run <= runs; run++) {
    for (const name of active) {
      log(`run ${run}/${runs}: ${name}${what}`);
      let r;
      try {
        r = await runOne(name, run, ctx);
      } catch (err) {
        r = { contender: name, run, error: err.message };
      }
      results.push(r);
      if (r.error) log(`  ${name}: FAILED: ${r.error}`);
      else log(`  ${name}: ${describe(r)}${r.timedOut ? ' TIMED OUT' : ''}`);
    }
  }
  for (const [c, why] of Object.entries(skipped)) results.push({ contender: c, error: `skipped: ${why}` });
  return results;
}

module.exports = {
  ulogdCommand,
  ulogdBufferLines,
  startContender,
  stopContender,
  stderrTail,
  waitWhile,
  waitReady,
  waitIdle,
  ulogdNotices,
  addUsage,
  runContenders,
};
