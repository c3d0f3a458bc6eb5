'use strict';
// What the burst benchmarks (nflog-burst.js, ct-burst.js) have in common:
// argument parsing, running processes, reading /proc, the throwaway network
// namespace and its cleanup, starting / watching / stopping a contender, and
// the Markdown report. Each harness keeps its own scenario: the ruleset, the
// traffic, what a contender delivered and the table's columns.
//
// Requiring this module changes nothing in the process: a harness calls
// configure() for its log tag and installSignalHandlers() from its main().

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const ULOGD = '/usr/sbin/ulogd';
const ULOGD_PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';
const GNU_TIME = '/usr/bin/time';
const NETLINK_NETFILTER = 12;

// ---------------------------------------------------------------- settings

const settings = {
  tag: 'bench', // log lines start with [tag]
  syncTimeoutMs: 60_000, // runSync's bound on one command
};

/** Sets the harness's log tag and runSync's time bound. */
function configure({ tag, syncTimeoutMs }) {
  if (tag) settings.tag = tag;
  if (syncTimeoutMs) settings.syncTimeoutMs = syncTimeoutMs;
}

// ---------------------------------------------------------------- arguments

function int(flag, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer in ${min}..${max}, got '${text}'`);
  return n;
}

/**
 * Parses argv into o (which holds the defaults). The options every harness
 * has are handled here (-h/--help, --contenders, --runs, --max-drain, --out,
 * --keep-tmp), and the integer options of ints (flag → [key, min, max]). Any
 * other goes to own(flag, value), where value() takes the option's value
 * (--flag=V or the next argument); own returns false for one it does not know.
 */
function parseOptions(argv, o, allContenders, ints, own) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--contenders': {
        const list = String(value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const c of list)
          if (!allContenders.includes(c)) throw new Error(`unknown contender '${c}' (known: ${allContenders.join(', ')})`);
        if (list.length === 0) throw new Error('--contenders needs a list');
        o.contenders = list;
        break;
      }
      case '--runs':
        o.runs = int(flag, value(), 1, 100);
        break;
      case '--max-drain':
        o.maxDrainS = int(flag, value(), 5, 3600);
        break;
      case '--out':
        o.out = value();
        if (!o.out) throw new Error('--out needs a file');
        break;
      case '--keep-tmp':
        o.keepTmp = true;
        break;
      default:
        if (ints[flag]) o[ints[flag][0]] = int(flag, value(), ints[flag][1], ints[flag][2]);
        else if (!own(flag, value)) throw new Error(`unknown option '${arg}' (see --help)`);
    }
  }
  return o;
}

/** The --help lines of --contenders and --runs. */
function usageOfContenders(allContenders) {
  return `  --contenders LIST    comma-separated, from ${allContenders.join(',')} (default: all)
  --runs K             runs per contender; the table shows medians (default 1)
`;
}

/** The --help text of scripts/bench/<program>.js: its options' lines, then --out, --keep-tmp and --help. */
function usage(program, optionLines) {
  return `Usage: node scripts/bench/${program}.js [options]

${optionLines}  --out FILE           raw results as JSON (default bench-results/${program}-<time>.json)
  --keep-tmp           keep the temporary directory (configs, logs, binaries)
  -h, --help           this help
`;
}

/** The options, or null when main should stop: --help (usage printed) or a bad argument (exit status 2). */
function readOptions(program, parseArgs, usage) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${program}: ${err.message}\n`);
    process.exitCode = 2;
    return null;
  }
  if (o.help) {
    process.stdout.write(usage);
    return null;
  }
  return o;
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg) => process.stderr.write(`[${settings.tag}] ${msg}\n`);

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function runSync(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: settings.syncTimeoutMs });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').trim()}`);
  return r.stdout;
}

/** Runs a command to completion (async, so signals stay responsive). */
function runAsync(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function lastJsonLine(text) {
  const lines = String(text).trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line);
    } catch {
      /* not JSON */
    }
  }
  return null;
}

// ---------------------------------------------------------------- /proc and GNU time

/** The pids of a process's children (Linux ≥ 3.5, /proc/PID/task/PID/children). */
function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** utime+stime (seconds) and VmHWM (KiB) of a live process, or null. */
function sampleProc(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ on Linux
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpu, hwmKiB: m ? Number(m[1]) : null };
  } catch {
    return null;
  }
}

/** Parses GNU time's `-f '%U %S %M %e'` output (its last such line). */
function parseTimeFile(file) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = /^([\d.]+) ([\d.]+) (\d+) ([\d.]+)$/.exec(lines[i].trim());
      if (m)
        return { user: Number(m[1]), sys: Number(m[2]), maxRssKiB: Number(m[3]), elapsed: Number(m[4]), note: lines.slice(0, i).join(' ') };
    }
  } catch {
    /* absent: the process never ran */
  }
  return null;
}

/** Whether GNU time is there to measure the contenders (else CPU comes from sampling /proc). */
function haveGnuTime() {
  const have = fs.existsSync(GNU_TIME);
  if (!have) log(`${GNU_TIME} not found (Debian package "time"): CPU from /proc sampling instead`);
  return have;
}

// ---------------------------------------------------------------- cleanup

const live = new Set(); // child processes we started and that may still run
const owned = { lab: null, tmpDir: null, keepTmp: false }; // what cleanup() deletes
let cleanedUp = false;

function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of live) {
    // Contenders run in their own process group (detached): end the group we created.
    try {
      if (child.detachedGroup) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
  if (owned.lab) {
    try {
      owned.lab.destroy();
    } catch (err) {
      log(`could not delete the namespace: ${err.message}`);
    }
  }
  if (owned.tmpDir && !owned.keepTmp) fs.rmSync(owned.tmpDir, { recursive: true, force: true });
}

/** On SIGINT/SIGTERM/SIGHUP and at exit: end our processes, delete the namespace and the temporary directory. */
function installSignalHandlers() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      log(`${sig}: stopping, deleting the namespace`);
      cleanup();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
  process.on('exit', cleanup);
}

/** Runs a harness's main(); errors go to stderr with exit status 1; cleans up either way. */
function runMain(program, main) {
  main()
    .catch((err) => {
      process.stderr.write(`${program}: ${err.stack || err.message}\n`);
      process.exitCode = 1;
    })
    .finally(cleanup);
}

/** A temporary directory (on /dev/shm when there is one), deleted by cleanup() unless keep. */
function makeTmpDir(prefix, keep) {
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  owned.keepTmp = keep;
  owned.tmpDir = fs.mkdtempSync(path.join(shm, prefix));
  return owned.tmpDir;
}

// ---------------------------------------------------------------- the lab

/**
 * A lab of namespaces named <prefix><pid>-<ns>, deleted by cleanup(). With
 * projectLab, the project's NetnsLab when built (dist/lab/netns.js); else the
 * same few methods here, which replace a left-over namespace of that name
 * (replaceExisting) or refuse it.
 */
function makeLab(prefix, { projectLab = false, replaceExisting = false } = {}) {
  if (projectLab) {
    try {
      const { NetnsLab } = require(path.join(ROOT, 'dist', 'lab', 'netns.js'));
      owned.lab = new NetnsLab(prefix);
      return owned.lab;
    } catch {
      /* not built: ours */
    }
  }
  const full = `${prefix}${process.pid}`;
  const namespaces = new Set();
  const api = {
    prefix: full,
    name: (ns) => `${full}-${ns}`,
    addNamespace(ns) {
      const name = api.name(ns);
      if (fs.existsSync(`/run/netns/${name}`)) {
        if (!replaceExisting) throw new Error(`namespace ${name} already exists (not ours)`);
        runSync('ip', ['netns', 'del', name]);
      }
      runSync('ip', ['netns', 'add', name]);
      namespaces.add(name);
      api.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
      return name;
    },
    exec: (ns, cmd, args, input) => runSync('ip', ['netns', 'exec', api.name(ns), cmd, ...args], input),
    nft: (ns, script) => api.exec(ns, 'nft', ['-f', '-'], script),
    destroy() {
      for (const name of namespaces) spawnSync('ip', ['netns', 'del', name]);
      namespaces.clear();
    },
  };
  owned.lab = api;
  return api;
}

/** Packets counted by the first counter of chain `out` in table inet <table>. */
function nftCounter(nsName, table) {
  const text = runSync('ip', ['netns', 'exec', nsName, 'nft', 'list', 'chain', 'inet', table, 'out']);
  const m = /counter packets (\d+) bytes (\d+)/.exec(text);
  if (!m) throw new Error(`no counter in the ${table} chain:\n${text}`);
  return Number(m[1]);
}

/**
 * A `sleep` parked in the namespace: /proc/<its pid>/net/ shows the
 * namespace's tables, so they can be read without spawning a process per look.
 * Resolves once it is inside the namespace (same net namespace inode), else
 * /proc/PID/net would be the host's.
 */
async function startAnchor(nsName) {
  const child = spawn('ip', ['netns', 'exec', nsName, 'sleep', '86400'], { stdio: 'ignore' });
  live.add(child);
  child.on('close', () => live.delete(child));
  const nsIno = fs.statSync(`/run/netns/${nsName}`).ino;
  for (let t = 0; ; t++) {
    let ino = null;
    try {
      ino = fs.statSync(`/proc/${child.pid}/ns/net`).ino;
    } catch {
      /* not yet */
    }
    if (ino === nsIno) return child;
    if (t > 100) throw new Error('the namespace anchor process did not enter the namespace');
    await sleep(50);
  }
}

function readNsFile(ctx, rel) {
  try {
    return fs.readFileSync(`/proc/${ctx.anchor.pid}/net/${rel}`, 'utf8');
  } catch {
    const r = spawnSync('ip', ['netns', 'exec', ctx.nsName, 'cat', `/proc/net/${rel}`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  }
}

/**
 * The NETLINK_NETFILTER sockets of the namespace (/proc/net/netlink: sk Eth
 * Pid Groups Rmem Wmem Dump Locks Drops Inode): port id, subscribed groups
 * (bit mask), receive-queue bytes and dropped datagrams.
 */
function netfilterSockets(ctx) {
  const out = [];
  for (const line of readNsFile(ctx, 'netlink').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9 || Number(f[1]) !== NETLINK_NETFILTER) continue;
    out.push({ portid: Number(f[2]), groups: parseInt(f[3], 16), rmem: Number(f[4]), drops: Number(f[8]) });
  }
  return out;
}

// ---------------------------------------------------------------- build

/**
 * Compiles scripts/bench/<flood>.c and scripts/bench/<floor>.c (linked with
 * lib<floorLib>, flags from pkg-config when it knows them) into dir.
 */
function buildTools(dir, { flood, floor, floorLib }) {
  const cc = which('cc') || which('gcc');
  if (!cc) throw new Error('no C compiler (cc): run scripts/setup-system.sh');
  const floodBin = path.join(dir, flood);
  const floorBin = path.join(dir, floor);
  runSync(cc, ['-O2', '-Wall', '-o', floodBin, path.join(__dirname, `${flood}.c`)]);
  let libFlags = [`-l${floorLib}`];
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', `lib${floorLib}`], { encoding: 'utf8' });
  if (pc.status === 0 && pc.stdout.trim()) libFlags = pc.stdout.trim().split(/\s+/);
  runSync(cc, ['-O2', '-Wall', '-o', floorBin, path.join(__dirname, `${floor}.c`), ...libFlags]);
  return { flood: floodBin, floor: floorBin };
}

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

// ---------------------------------------------------------------- report

const fmtInt = (n) => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmt = (n, digits) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');

/**
 * One row per contender: name, runs, ok (runs with a result), errors,
 * timedOut, then the harness's columns from columns({ ok, m, own }), where
 * m(key) is the median of a result field over the ok runs and own(key) that
 * of a field of their ownReport.
 */
function summarizeRuns(results, contenders, columns) {
  return contenders.map((name) => {
    const runs = results.filter((r) => r.contender === name);
    const ok = runs.filter((r) => !r.error && typeof r.delivered === 'number');
    const m = (key) => median(ok.map((r) => r[key]));
    const own = (key) => median(ok.map((r) => (r.ownReport ? r.ownReport[key] : undefined)));
    return {
      name,
      runs: runs.length,
      ok: ok.length,
      errors: runs.filter((r) => r.error).map((r) => r.error),
      timedOut: runs.some((r) => r.timedOut),
      ...columns({ ok, m, own }),
    };
  });
}

/**
 * The loss columns of a summary row: what was delivered and lost (lostPct:
 * of the result field `expectedKey`), and what the contender says it lost.
 */
function lossColumns({ ok, m, own }, expectedKey) {
  return {
    delivered: m('delivered'),
    lost: m('lost'),
    lostPct: median(ok.map((r) => (r[expectedKey] ? (100 * r.lost) / r[expectedKey] : null))),
    ownLost: own('lost'),
    gaps: own('gaps'),
    enobufs: own('enobufs'),
    ringFull: own('ringFull'),
    lossUncountedRuns: ok.filter((r) => r.ownReport?.lossUncounted).length,
    ulogdNotices: own('losingEventsNotices'),
    ulogdMax: own('maxBufferNotices'),
  };
}

/** The cost columns of a summary row: CPU, CPU per million delivered, peak RSS. */
function costColumns({ m }) {
  return { cpu: m('cpu'), cpuPerMillion: m('cpuPerMillion'), peakRssKiB: m('peakRssKiB') };
}

/** ulogd's own report: its loss notices (it counts nothing). */
function ulogdReportText(r) {
  if (r.ulogdNotices === null && r.ulogdMax === null) return '—';
  return `${fmtInt(r.ulogdNotices)} "losing events" + ${fmtInt(r.ulogdMax)} "max buffer" notices`;
}

/**
 * A Markdown table: head, then one line per row, cells(r, ratio) after the
 * contender's name, where ratio is its CPU per million relative to the
 * floor's; a row without a result shows failedText(its first error).
 */
function markdownTable(head, rows, cells, failedText) {
  const floor = rows.find((r) => r.name === 'floor');
  const floorCpm = floor?.cpuPerMillion ? floor.cpuPerMillion : null;
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    if (r.ok === 0) {
      lines.push(`| ${r.name} | ${[failedText(r.errors[0] || 'no result'), ...Array(head.length - 2).fill('')].join(' | ')} |`);
      continue;
    }
    const ratio = floorCpm && r.cpuPerMillion ? `${fmt(r.cpuPerMillion / floorCpm, 1)}×` : '—';
    lines.push(`| ${[`${r.name}${r.timedOut ? ' (timed out)' : ''}`, ...cells(r, ratio)].join(' | ')} |`);
  }
  return lines.join('\n');
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) || [])[1] || 'unknown';
  return {
    nproc: os.cpus().length,
    cpu: model.trim(),
    kernel: os.release(),
    node: process.version,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

/** Writes the raw results to o.out, else bench-results/<program>-<time>.json. */
function saveResults(program, o, data) {
  const outFile = o.out || path.join(ROOT, 'bench-results', `${program}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(data, null, 2) + '\n');
  log(`raw results: ${path.relative(process.cwd(), outFile)}`);
  if (o.keepTmp) log(`kept ${owned.tmpDir}`);
}

module.exports = {
  ROOT,
  sampleProc,
  ULOGD,
  ULOGD_PLUGINS,
  configure,
  int,
  parseOptions,
  usageOfContenders,
  usage,
  readOptions,
  sleep,
  log,
  median,
  which,
  runSync,
  runAsync,
  lastJsonLine,
  haveGnuTime,
  installSignalHandlers,
  runMain,
  makeTmpDir,
  makeLab,
  nftCounter,
  startAnchor,
  readNsFile,
  netfilterSockets,
  buildTools,
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
  fmtInt,
  fmt,
  summarizeRuns,
  lossColumns,
  costColumns,
  ulogdReportText,
  markdownTable,
  machine,
  saveResults,
};
