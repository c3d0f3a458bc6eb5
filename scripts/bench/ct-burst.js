#!/usr/bin/env node
'use strict';
// Conntrack burst benchmark: the same burst of new UDP flows, then a flush of
// the table, read by each contender in turn as conntrack NEW and DESTROY
// events, inside a throwaway network namespace.
//
//   node scripts/bench/ct-burst.js [--flows N] [--runs K] [--contenders LIST] [--socket-buffer B] [options]
//
// Contenders (comma-separated; default: all three):
//   collector-ecs   node dist/cli/main.js --conntrack new,destroy --format ecs (ECS documents to /dev/null)
//   floor           scripts/bench/ct-floor.c: libnetfilter_conntrack, count in the callback, nothing else
//   ulogd           ulogd2 (Debian's /usr/sbin/ulogd) NFCT→IP2STR→JSON to a file on /dev/shm
//
// For each contender and run: make sure the namespace's conntrack table is
// empty, start the contender, wait until its ctnetlink socket has joined the
// NEW and DESTROY groups in the namespace (/proc/net/netlink) plus 1 s, create
// N distinct UDP flows from inside the namespace (scripts/bench/ct-flood.c),
// take "NEW (kernel)" from the nft rule "ct state new counter", take the table
// count (conntrack -C), flush the table (conntrack -F: one DESTROY event per
// entry, timed), check it is empty, then wait for the contender to go idle and
// record the NEW and DESTROY events it delivered, its CPU (user+sys, whole
// process lifetime, GNU time's rusage) and its peak RSS. Prints a Markdown table
// of medians; raw results go to bench-results/ (git-ignored).
//
// Needs root, iproute2, nft, conntrack (conntrack-tools), cc and
// libnetfilter-conntrack-dev; ulogd2 + ulogd2-json for the ulogd contender;
// `npm run build` for the collector. It only ever touches the namespace it
// creates (nfc-ctb<pid>-a), which it deletes at the end, on error and on
// SIGINT/SIGTERM.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const ALL_CONTENDERS = ['collector-ecs', 'floor', 'ulogd'];
const ULOGD = '/usr/sbin/ulogd';
const ULOGD_PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';
const GNU_TIME = '/usr/bin/time';
const NETLINK_NETFILTER = 12;
// NFNLGRP_CONNTRACK_NEW = 1, NFNLGRP_CONNTRACK_DESTROY = 3: bits 0 and 2 of /proc/net/netlink's Groups.
const CT_GROUPS = 0x1 | 0x4;
const PORTS_PER_ADDRESS = 65536 - 1024; // ct-flood walks ports 1024..65535 per destination address

const USAGE = `Usage: node scripts/bench/ct-burst.js [options]

  --flows N            distinct UDP flows per burst (default 100000; the table holds
                       net.netfilter.nf_conntrack_max entries, 262144 here)
  --contenders LIST    comma-separated, from ${ALL_CONTENDERS.join(',')} (default: all)
  --runs K             runs per contender; the table shows medians (default 1)
  --socket-buffer B    netlink receive buffer, SO_RCVBUFFORCE, given to the floor and
                       ulogd (default 268435456, the collector's own default); passed
                       to the collector as --socket-buffer only when given
  --idle-ms MS         a contender is done after MS without events (default 3000)
  --batch N            datagrams per sendmmsg call in ct-flood (default 256)
  --max-drain S        longest wait for a contender after the flush, seconds (default 180)
  --out FILE           raw results as JSON (default bench-results/ct-burst-<time>.json)
  --keep-tmp           keep the temporary directory (configs, logs, binaries)
  -h, --help           this help
`;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    flows: 100_000,
    contenders: ALL_CONTENDERS.slice(),
    runs: 1,
    socketBuffer: 256 * 1024 * 1024,
    socketBufferGiven: false,
    idleMs: 3000,
    batch: 256,
    maxDrainS: 180,
    out: null,
    keepTmp: false,
    help: false,
  };
  const int = (flag, text, min, max) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer in ${min}..${max}, got '${text}'`);
    return n;
  };
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
      case '--flows':
        o.flows = int(flag, value(), 1, 16_000_000);
        break;
      case '--contenders': {
        const list = String(value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const c of list) if (!ALL_CONTENDERS.includes(c)) throw new Error(`unknown contender '${c}' (known: ${ALL_CONTENDERS.join(', ')})`);
        if (list.length === 0) throw new Error('--contenders needs a list');
        o.contenders = list;
        break;
      }
      case '--runs':
        o.runs = int(flag, value(), 1, 100);
        break;
      case '--socket-buffer':
        o.socketBuffer = int(flag, value(), 4096, 1 << 30);
        o.socketBufferGiven = true;
        break;
      case '--idle-ms':
        o.idleMs = int(flag, value(), 500, 600_000);
        break;
      case '--batch':
        o.batch = int(flag, value(), 1, 1024);
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
        throw new Error(`unknown option '${arg}' (see --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg) => process.stderr.write(`[ct-bench] ${msg}\n`);

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
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 120_000 });
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
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpu, hwmKiB: m ? Number(m[1]) : null };
  } catch {
    return null;
  }
}

/**
 * Lines of ulogd's JSON output, and how many carry "ct.event": 1 (NEW) or 4
 * (DESTROY), read as a stream (the file can be hundreds of MiB).
 */
async function countUlogdLines(file) {
  const out = { lines: 0, bytes: 0, newLines: 0, destroyLines: 0, otherLines: 0 };
  let carry = '';
  const tally = (line) => {
    if (!line) return;
    out.lines++;
    const m = /"ct\.event": (\d+)/.exec(line);
    const type = m ? Number(m[1]) : 0;
    if (type === 1) out.newLines++;
    else if (type === 4) out.destroyLines++;
    else out.otherLines++;
  };
  const stream = fs.createReadStream(file, { highWaterMark: 4 << 20, encoding: 'utf8' });
  for await (const chunk of stream) {
    out.bytes += Buffer.byteLength(chunk);
    const text = carry + chunk;
    let from = 0;
    let at = text.indexOf('\n');
    while (at !== -1) {
      tally(text.slice(from, at));
      from = at + 1;
      at = text.indexOf('\n', from);
    }
    carry = text.slice(from);
  }
  tally(carry);
  return out;
}

/** Parses GNU time's `-f '%U %S %M %e'` output (its last such line). */
function parseTimeFile(file) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = /^([\d.]+) ([\d.]+) (\d+) ([\d.]+)$/.exec(lines[i].trim());
      if (m) return { user: Number(m[1]), sys: Number(m[2]), maxRssKiB: Number(m[3]), elapsed: Number(m[4]), note: lines.slice(0, i).join(' ') };
    }
  } catch {
    /* absent: the process never ran */
  }
  return null;
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

/**
 * NEW and DESTROY counts from the collector's --stats object, under whichever
 * name it uses (flat, e.g. flowsNew / new_flows, or nested, e.g.
 * flows: { new, destroy }): the first numeric field whose key path has the
 * word "new" (or "destroy"/"destroyed") and no word of loss; null when absent.
 */
function statsByType(stats, type) {
  const wanted = type === 'new' ? ['new'] : ['destroy', 'destroyed', 'destroys'];
  const words = (key) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  let found = null;
  const visit = (obj, prefix, depth) => {
    for (const [k, v] of Object.entries(obj)) {
      if (found) return;
      const key = prefix ? `${prefix}.${k}` : k;
      const w = words(key);
      if (typeof v === 'number' && w.some((x) => wanted.includes(x)) && !w.some((x) => ['lost', 'drop', 'drops', 'dropped', 'gap', 'gaps', 'error', 'errors'].includes(x))) {
        found = { key, value: v };
      } else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) visit(v, key, depth + 1);
    }
  };
  visit(stats, '', 0);
  return found;
}

// ---------------------------------------------------------------- cleanup

const live = new Set(); // child processes we started and that may still run
let lab = null;
let tmpDir = null;
let keepTmp = false;
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
  if (lab) {
    try {
      lab.destroy();
    } catch (err) {
      log(`could not delete the namespace: ${err.message}`);
    }
  }
  if (tmpDir && !keepTmp) fs.rmSync(tmpDir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping, deleting the namespace`);
    cleanup();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}
process.on('exit', cleanup);

// ---------------------------------------------------------------- the lab

/** The few namespace operations this benchmark needs, under its own prefix (nfc-ctb<pid>). */
function makeLab(prefix) {
  const full = `${prefix}${process.pid}`;
  const namespaces = new Set();
  const api = {
    prefix: full,
    name: (ns) => `${full}-${ns}`,
    addNamespace(ns) {
      const name = api.name(ns);
      if (fs.existsSync(`/run/netns/${name}`)) throw new Error(`namespace ${name} already exists (not ours)`);
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
  return api;
}

// The output rule counts new flows (what the kernel created: one NEW event
// each); the input drop spares the kernel an ICMP port-unreachable (and its
// RELATED lookup) per datagram. conntrack has already confirmed the entry in
// the output path (loopback: postrouting), so the drop does not undo it.
const RULESET = `table inet ctbench {
  chain out {
    type filter hook output priority 0;
    meta l4proto udp ct state new counter
  }
  chain in {
    type filter hook input priority 0;
    udp dport 1024-65535 drop
  }
}
`;

function nftCounter(nsName) {
  const text = runSync('ip', ['netns', 'exec', nsName, 'nft', 'list', 'chain', 'inet', 'ctbench', 'out']);
  const m = /counter packets (\d+) bytes (\d+)/.exec(text);
  if (!m) throw new Error(`no counter in the ctbench chain:\n${text}`);
  return Number(m[1]);
}

/** Entries in the namespace's conntrack table (conntrack -C). */
function ctCount(nsName) {
  const n = Number(runSync('ip', ['netns', 'exec', nsName, 'conntrack', '-C']).trim());
  if (!Number.isInteger(n)) throw new Error('conntrack -C did not print a number');
  return n;
}

/**
 * A `sleep` parked in the namespace: /proc/<its pid>/net/ shows the
 * namespace's tables, so they can be read without spawning a process per look.
 */
function startAnchor(nsName) {
  const child = spawn('ip', ['netns', 'exec', nsName, 'sleep', '86400'], { stdio: 'ignore' });
  live.add(child);
  child.on('close', () => live.delete(child));
  return child;
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
 * ctnetlink sockets in the namespace subscribed to both NEW and DESTROY
 * (/proc/net/netlink: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode),
 * with their receive-queue bytes and dropped datagrams (one event each).
 */
function ctListeners(ctx) {
  const out = [];
  for (const line of readNsFile(ctx, 'netlink').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9 || Number(f[1]) !== NETLINK_NETFILTER) continue;
    const groups = parseInt(f[3], 16);
    if ((groups & CT_GROUPS) === CT_GROUPS) out.push({ portid: Number(f[2]), rmem: Number(f[4]), drops: Number(f[8]) });
  }
  return out;
}

// ---------------------------------------------------------------- build

function buildTools(dir) {
  const cc = which('cc') || which('gcc');
  if (!cc) throw new Error('no C compiler (cc): run scripts/setup-system.sh');
  const flood = path.join(dir, 'ct-flood');
  const floor = path.join(dir, 'ct-floor');
  runSync(cc, ['-O2', '-Wall', '-o', flood, path.join(__dirname, 'ct-flood.c')]);
  let ctFlags = ['-lnetfilter_conntrack'];
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libnetfilter_conntrack'], { encoding: 'utf8' });
  if (pc.status === 0 && pc.stdout.trim()) ctFlags = pc.stdout.trim().split(/\s+/);
  runSync(cc, ['-O2', '-Wall', '-o', floor, path.join(__dirname, 'ct-floor.c'), ...ctFlags]);
  return { flood, floor };
}

// ---------------------------------------------------------------- contenders

function ulogdConfig(dir, o) {
  // Option names as in Debian's shipped /etc/ulogd.conf ([ct1]/[ct2]) and the
  // NFCT plugin's own keys (ulogd 2.0.8). hash_enable=0: one line per event
  // (NEW and DESTROY, "ct.event" 1 and 4); with the default hash_enable=1 the
  // plugin keeps NEW in a table (32,768 entries at most) and writes one line
  // per flow at DESTROY. event_mask=5 is NEW|DESTROY (the default, explicit).
  // ulogd only applies netlink_socket_buffer_size when it is strictly below
  // netlink_socket_buffer_maxsize, hence maxsize = 2 × size.
  const plugins = ['inpflow_NFCT', 'filter_IP2STR', 'output_JSON'];
  return [
    '[global]',
    `logfile="${path.join(dir, 'ulogd.log')}"`,
    'loglevel=5',
    ...plugins.map((p) => `plugin="${ULOGD_PLUGINS}/ulogd_${p}.so"`),
    'stack=ct1:NFCT,ip2str1:IP2STR,json1:JSON',
    '',
    '[ct1]',
    'hash_enable=0',
    'event_mask=5',
    `netlink_socket_buffer_size=${o.socketBuffer}`,
    `netlink_socket_buffer_maxsize=${o.socketBuffer * 2}`,
    '',
    '[json1]',
    `file="${path.join(dir, 'ulogd.json')}"`,
    'sync=0',
    '',
  ].join('\n');
}

/** Starts a contender (wrapped in GNU time) in its own process group. */
function startContender(name, ctx, runDir) {
  const { o, nsName, tools } = ctx;
  const timeFile = path.join(runDir, 'time.txt');
  const timed = (argv) => (ctx.haveTime ? [GNU_TIME, '-f', '%U %S %M %e', '-o', timeFile, ...argv] : argv);
  let cmd;
  if (name === 'collector-ecs') {
    // The CLI enters the namespace itself (--netns); it runs from the host side.
    const argv = [process.execPath, path.join(ROOT, 'dist', 'cli', 'main.js'), '--conntrack', 'new,destroy', '--netns', nsName,
      '--format', 'ecs', '--output', '/dev/null', '--idle-exit', String(o.idleMs), '--stats'];
    if (o.socketBufferGiven) argv.push('--socket-buffer', String(o.socketBuffer));
    cmd = timed(argv);
  } else if (name === 'floor') {
    const maxS = Math.min(3600, Math.ceil(o.maxDrainS + ctx.floodMaxS + 120));
    cmd = ['ip', 'netns', 'exec', nsName, ...timed([tools.floor, String(o.idleMs), String(maxS), String(o.socketBuffer)])];
  } else if (name === 'ulogd') {
    const conf = path.join(runDir, 'ulogd.conf');
    fs.writeFileSync(conf, ulogdConfig(runDir, o));
    cmd = ['ip', 'netns', 'exec', nsName, ...timed([ULOGD, '-c', conf])];
  } else {
    throw new Error(`unknown contender ${name}`);
  }
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: runDir });
  child.detachedGroup = true;
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

// ---------------------------------------------------------------- one run of one contender

/** Empties the namespace's table (left-overs of a failed run) and waits until it is. */
async function emptyTable(ctx) {
  for (let t = 0; ctCount(ctx.nsName) > 0; t++) {
    if (t > 50) throw new Error(`the conntrack table of ${ctx.nsName} does not empty`);
    runSync('ip', ['netns', 'exec', ctx.nsName, 'conntrack', '-F']);
    await sleep(100);
  }
}

async function runOne(name, run, ctx) {
  const { o, nsName, tools } = ctx;
  const runDir = path.join(tmpDir, `${name}-${run}`);
  fs.mkdirSync(runDir, { recursive: true });
  const result = { contender: name, run, flows: o.flows };

  // No other listener (the previous contender has let go), an empty table.
  for (let t = 0; ctListeners(ctx).length > 0; t++) {
    if (t > 100) throw new Error(`a ctnetlink listener is still subscribed in ${nsName}: port ${ctListeners(ctx).map((l) => l.portid).join(',')}`);
    await sleep(100);
  }
  await emptyTable(ctx);

  const h = startContender(name, ctx, runDir);
  try {
    // Subscribed = a NETLINK_NETFILTER socket in the namespace with the NEW and DESTROY groups.
    const subDeadline = Date.now() + 20_000;
    let listener;
    while ((listener = ctListeners(ctx)[0]) === undefined) {
      if (h.exited || Date.now() > subDeadline) {
        await stopContender(h, 2000);
        result.error = `did not subscribe to conntrack events: exit ${h.code ?? h.signal ?? 'none'}; ${h.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        return result;
      }
      await sleep(50);
    }
    const portid = listener.portid;
    await sleep(1000);
    if (h.exited) {
      result.error = `exited before the burst: ${h.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      return result;
    }

    let sock = listener;
    const sock0 = listener;
    const sampleSocket = () => {
      const now = ctListeners(ctx).find((l) => l.portid === portid);
      if (now) sock = now;
      return now;
    };

    // 1. The flows.
    const before = nftCounter(nsName);
    const flood = await runAsync('ip', ['netns', 'exec', nsName, tools.flood, String(o.flows), String(ctx.floodMaxS), String(o.batch)], (ctx.floodMaxS + 30) * 1000);
    const floodReport = lastJsonLine(flood.stdout);
    if (!floodReport) throw new Error(`ct-flood failed (${flood.code}): ${flood.stderr.trim()}`);
    result.newKernel = nftCounter(nsName) - before;
    result.floodSent = floodReport.sent;
    result.floodErrors = floodReport.errors;
    result.floodSeconds = floodReport.seconds;
    result.flowRate = result.newKernel / floodReport.seconds;
    sampleSocket();

    // 2. The flush: one DESTROY per entry, generated in conntrack's own syscall.
    result.tableBefore = ctCount(nsName);
    const flushStart = process.hrtime.bigint();
    const flush = await runAsync('ip', ['netns', 'exec', nsName, 'conntrack', '-F'], 120_000);
    const flushEnd = Date.now();
    result.flushSeconds = Number(process.hrtime.bigint() - flushStart) / 1e9;
    if (flush.code !== 0) throw new Error(`conntrack -F failed (${flush.code}): ${flush.stderr.trim()}`);
    result.tableAfter = ctCount(nsName);
    // Every entry the flush removed sends one DESTROY (entries that expired on
    // their own before it would have sent theirs too: none do, the UDP timeout is 30 s).
    result.destroyExpected = result.tableBefore - result.tableAfter;
    result.expected = result.newKernel + result.destroyExpected;
    const deadline = flushEnd + o.maxDrainS * 1000;

    // 3. Wait for the contender to go idle.
    let lastActivity = flushEnd;
    if (name === 'ulogd') {
      const out = path.join(runDir, 'ulogd.json');
      let size = -1;
      while (Date.now() < deadline && !h.exited) {
        sampleSocket();
        const now = fs.existsSync(out) ? fs.statSync(out).size : 0;
        if (now !== size) {
          size = now;
          lastActivity = Date.now();
        } else if (Date.now() - lastActivity >= o.idleMs) {
          break;
        }
        await sleep(100);
      }
      if (Date.now() >= deadline) result.timedOut = true;
      await stopContender(h);
    } else {
      while (!h.exited && Date.now() < deadline) {
        sampleSocket();
        await waitExit(h, 100);
      }
      if (!h.exited) {
        result.timedOut = true;
        await stopContender(h);
      }
      lastActivity = Date.now() - o.idleMs; // both exit idleMs after their last event
    }
    await h.done;
    result.socketDrops = sock.drops - sock0.drops;
    result.drainSeconds = Math.max(0, (lastActivity - flushEnd) / 1000);
    result.exit = h.code ?? h.signal;
  } finally {
    clearInterval(h.sampler);
    if (!h.exited) await stopContender(h, 2000);
  }

  // What the contender delivered and what it says it lost.
  if (name === 'collector-ecs') {
    const stats = lastJsonLine(h.stderr);
    if (!stats) {
      result.error = `no --stats line on stderr (exit ${result.exit}): ${h.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    } else {
      result.stats = stats;
      // Flow events are in "flows" (packets and flows together in "delivered").
      result.delivered = typeof stats.flows === 'number' ? stats.flows : stats.delivered;
      const n = statsByType(stats, 'new');
      const d = statsByType(stats, 'destroy');
      if (n) {
        result.newDelivered = n.value;
        result.newKey = n.key;
      }
      if (d) {
        result.destroyDelivered = d.value;
        result.destroyKey = d.key;
      }
      result.ownReport = { lost: stats.lost, gaps: stats.gaps, enobufs: stats.enobufs, ringFull: stats.ringFull, lossUncounted: stats.lossUncounted === true ? 1 : 0 };
    }
  } else if (name === 'floor') {
    const r = lastJsonLine(h.stdout);
    if (!r) result.error = `no result line (exit ${result.exit}): ${h.stderr.trim()}`;
    else {
      result.newDelivered = r.new;
      result.destroyDelivered = r.destroy;
      result.delivered = r.new + r.destroy + r.other;
      result.ownReport = { enobufs: r.enobufs };
      result.floor = r;
    }
  } else if (name === 'ulogd') {
    const out = path.join(runDir, 'ulogd.json');
    const counted = fs.existsSync(out) ? await countUlogdLines(out) : { lines: 0, bytes: 0, newLines: 0, destroyLines: 0, otherLines: 0 };
    result.delivered = counted.lines;
    result.newDelivered = counted.newLines;
    result.destroyDelivered = counted.destroyLines;
    result.otherLines = counted.otherLines;
    result.outputBytes = counted.bytes;
    const logText = fs.existsSync(path.join(runDir, 'ulogd.log')) ? fs.readFileSync(path.join(runDir, 'ulogd.log'), 'utf8') : '';
    result.ulogdBufferLine = (/NFCT netlink buffer size has been set to (\d+)/.exec(logText) || [])[1] || null;
    // ulogd warns on ENOBUFS (growing its buffer) until its maximum is reached, then stays silent.
    result.ownReport = {
      losingEventsNotices: (logText.match(/We are losing events/g) || []).length,
      maxBufferNotices: (logText.match(/Maximum buffer size/g) || []).length,
    };
    if (fs.existsSync(out)) fs.rmSync(out); // can be hundreds of MiB
  }

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
  if (typeof result.delivered === 'number') {
    result.lost = result.expected - result.delivered;
    if (typeof result.newDelivered === 'number') result.lostNew = result.newKernel - result.newDelivered;
    if (typeof result.destroyDelivered === 'number') result.lostDestroy = result.destroyExpected - result.destroyDelivered;
    if (typeof result.cpu === 'number' && result.delivered > 0) result.cpuPerMillion = result.cpu / (result.delivered / 1e6);
  }
  return result;
}

// ---------------------------------------------------------------- report

const fmtInt = (n) => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmt = (n, digits) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');

function summarize(results, contenders) {
  const rows = [];
  for (const name of contenders) {
    const runs = results.filter((r) => r.contender === name);
    const ok = runs.filter((r) => !r.error && typeof r.delivered === 'number');
    const m = (key) => median(ok.map((r) => r[key]));
    const own = (key) => median(ok.map((r) => (r.ownReport ? r.ownReport[key] : undefined)));
    rows.push({
      name,
      runs: runs.length,
      ok: ok.length,
      errors: runs.filter((r) => r.error).map((r) => r.error),
      timedOut: runs.some((r) => r.timedOut),
      newKernel: m('newKernel'),
      destroyExpected: m('destroyExpected'),
      newDelivered: m('newDelivered'),
      destroyDelivered: m('destroyDelivered'),
      delivered: m('delivered'),
      lost: m('lost'),
      lostPct: median(ok.map((r) => (r.expected ? (100 * r.lost) / r.expected : null))),
      ownLost: own('lost'),
      gaps: own('gaps'),
      enobufs: own('enobufs'),
      ringFull: own('ringFull'),
      lossUncountedRuns: ok.filter((r) => r.ownReport && r.ownReport.lossUncounted).length,
      ulogdNotices: own('losingEventsNotices'),
      ulogdMax: own('maxBufferNotices'),
      socketDrops: m('socketDrops'),
      cpu: m('cpu'),
      cpuPerMillion: m('cpuPerMillion'),
      peakRssKiB: m('peakRssKiB'),
      floodSeconds: m('floodSeconds'),
      flowRate: m('flowRate'),
      flushSeconds: m('flushSeconds'),
      drainSeconds: m('drainSeconds'),
    });
  }
  return rows;
}

function ownReportText(r) {
  if (r.name === 'ulogd') {
    if (r.ulogdNotices === null && r.ulogdMax === null) return '—';
    return `${fmtInt(r.ulogdNotices)} "losing events" + ${fmtInt(r.ulogdMax)} "max buffer" notices`;
  }
  if (r.name === 'floor') return `enobufs ${fmtInt(r.enobufs)}`;
  const parts = [`lost ${fmtInt(r.ownLost)}`, `gaps ${fmtInt(r.gaps)}`, `enobufs ${fmtInt(r.enobufs)}`];
  if (r.ringFull !== null) parts.push(`ringFull ${fmtInt(r.ringFull)}`);
  if (r.lossUncountedRuns > 0) parts.push(`lossUncounted in ${r.lossUncountedRuns}/${r.ok} runs`);
  return parts.join(', ');
}

function markdownTable(rows) {
  const floor = rows.find((r) => r.name === 'floor');
  const floorCpm = floor && floor.cpuPerMillion ? floor.cpuPerMillion : null;
  const head = ['contender', 'NEW (kernel)', 'DESTROY (flushed)', 'NEW delivered', 'DESTROY delivered', 'lost', 'lost (own report)', 'socket drops',
    'CPU s (user+sys)', 'CPU s / M events', '× floor', 'peak RSS MiB', 'flood s', 'k flows/s', 'flush s', 'drain s'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    if (r.ok === 0) {
      lines.push(`| ${r.name} | ${['failed: ' + (r.errors[0] || 'no result').replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200), ...Array(head.length - 2).fill('')].join(' | ')} |`);
      continue;
    }
    const ratio = floorCpm && r.cpuPerMillion ? `${fmt(r.cpuPerMillion / floorCpm, 1)}×` : '—';
    lines.push(
      `| ${r.name}${r.timedOut ? ' (timed out)' : ''} | ${fmtInt(r.newKernel)} | ${fmtInt(r.destroyExpected)} | ${fmtInt(r.newDelivered)} | ${fmtInt(r.destroyDelivered)} | ` +
        `${fmtInt(r.lost)} (${fmt(r.lostPct, 2)} %) | ${ownReportText(r)} | ${fmtInt(r.socketDrops)} | ${fmt(r.cpu, 2)} | ${fmt(r.cpuPerMillion, 2)} | ${ratio} | ` +
        `${fmt(r.peakRssKiB / 1024, 1)} | ${fmt(r.floodSeconds, 2)} | ${fmt(r.flowRate / 1000, 0)} | ${fmt(r.flushSeconds, 2)} | ${fmt(r.drainSeconds, 1)} |`,
    );
  }
  return lines.join('\n');
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) || [])[1] || 'unknown';
  return { nproc: os.cpus().length, cpu: model.trim(), kernel: os.release(), node: process.version, memGiB: Math.round(os.totalmem() / 2 ** 30) };
}

// ---------------------------------------------------------------- main

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`ct-burst: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  keepTmp = o.keepTmp;
  if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespaces, nft, ctnetlink)');
  for (const tool of ['ip', 'nft', 'conntrack']) if (!which(tool)) throw new Error(`${tool} is not installed: run scripts/setup-system.sh`);

  const contenders = o.contenders.slice();
  const skipped = {};
  if (contenders.includes('ulogd')) {
    if (!fs.existsSync(ULOGD) || !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_output_JSON.so`) || !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_inpflow_NFCT.so`)) {
      skipped.ulogd = `ulogd2/ulogd2-json not installed (${ULOGD}, ${ULOGD_PLUGINS})`;
    } else {
      // A ulogd of the host runs in the host namespace: it cannot see our table,
      // but it would compete for CPU. Report it; never stop what isn't ours.
      const running = spawnSync('pgrep', ['-a', 'ulogd'], { encoding: 'utf8' }).stdout.trim();
      if (running) log(`warning: a ulogd is already running on this machine (not ours): ${running.replace(/\n/g, '; ')}`);
    }
  }
  if (contenders.includes('collector-ecs') && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    skipped['collector-ecs'] = 'dist/cli/main.js missing: run `npm run build`';
  }
  for (const [c, why] of Object.entries(skipped)) log(`skipping ${c}: ${why}`);

  const haveTime = fs.existsSync(GNU_TIME);
  if (!haveTime) log(`${GNU_TIME} not found (Debian package "time"): CPU from /proc sampling instead`);

  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  tmpDir = fs.mkdtempSync(path.join(shm, 'nfc-ctb-'));
  const tools = buildTools(tmpDir);
  log(`built ct-flood and ct-floor in ${tmpDir}`);

  lab = makeLab('nfc-ctb');
  lab.addNamespace('a');
  const nsName = lab.name('a');
  lab.nft('a', RULESET);
  const ctMax = Number(lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_max']).trim());
  const ctEvents = lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_events']).trim();
  const udpTimeout = lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_udp_timeout']).trim();
  log(`namespace ${nsName}: output rule "meta l4proto udp ct state new counter", input drop of udp dport 1024-65535; ` +
    `nf_conntrack_max ${ctMax}, nf_conntrack_events ${ctEvents}, udp timeout ${udpTimeout} s`);
  if (o.flows > ctMax) throw new Error(`--flows ${o.flows} exceeds net.netfilter.nf_conntrack_max (${ctMax}), which a namespace cannot raise`);
  if (Math.ceil(o.flows / PORTS_PER_ADDRESS) > 254) throw new Error('--flows: more than 254 destination addresses');

  // Flat out, ~200-300k flows/s here; the bound is generous and the sender stops at it regardless.
  const floodMaxS = Math.min(3600, Math.max(30, Math.ceil(o.flows / 20_000)));
  const ctx = { o, nsName, tools, haveTime, floodMaxS, anchor: startAnchor(nsName) };
  // Wait until the anchor is inside the namespace (same net namespace inode), else /proc/PID/net is the host's.
  const nsIno = fs.statSync(`/run/netns/${nsName}`).ino;
  for (let t = 0; ; t++) {
    let ino = null;
    try {
      ino = fs.statSync(`/proc/${ctx.anchor.pid}/ns/net`).ino;
    } catch {
      /* not yet */
    }
    if (ino === nsIno) break;
    if (t > 100) throw new Error('the namespace anchor process did not enter the namespace');
    await sleep(50);
  }

  const results = [];
  const active = contenders.filter((c) => !skipped[c]);
  for (let run = 1; run <= o.runs; run++) {
    for (const name of active) {
      log(`run ${run}/${o.runs}: ${name}, ${o.flows.toLocaleString('en-US')} flows`);
      let r;
      try {
        r = await runOne(name, run, ctx);
      } catch (err) {
        r = { contender: name, run, error: err.message };
      }
      results.push(r);
      if (r.error) log(`  ${name}: FAILED: ${r.error}`);
      else
        log(`  ${name}: NEW ${r.newKernel} → ${r.newDelivered ?? '?'}, DESTROY ${r.destroyExpected} → ${r.destroyDelivered ?? '?'}, delivered ${r.delivered} lost ${r.lost} ` +
          `drops ${r.socketDrops} cpu ${fmt(r.cpu, 2)} s (${fmt(r.cpuPerMillion, 2)} s/M) rss ${fmt(r.peakRssKiB / 1024, 1)} MiB flood ${fmt(r.floodSeconds, 2)} s ` +
          `flush ${fmt(r.flushSeconds, 2)} s drain ${fmt(r.drainSeconds, 1)} s${r.timedOut ? ' TIMED OUT' : ''}`);
    }
  }
  for (const [c, why] of Object.entries(skipped)) results.push({ contender: c, error: `skipped: ${why}` });

  const rows = summarize(results, contenders);
  const m = machine();
  const header = [
    `Conntrack burst: ${o.flows.toLocaleString('en-US')} new UDP flows (one datagram each, 127.0.0.1 → 127.0.0.x:1024-65535) in a namespace, flat out, ` +
      `then conntrack -F (one DESTROY each); events NEW+DESTROY; socket buffer ${o.socketBuffer} B` +
      `${o.socketBufferGiven ? '' : ' (floor, ulogd; collector: its default)'}, idle ${o.idleMs} ms; ${o.runs} run(s), medians.`,
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}.`,
  ];
  process.stdout.write(`${header.join('\n')}\n\n${markdownTable(rows)}\n`);

  const outFile = o.out || path.join(ROOT, 'bench-results', `ct-burst-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify({ options: o, machine: m, namespace: nsName, sysctls: { nf_conntrack_max: ctMax, nf_conntrack_events: ctEvents, nf_conntrack_udp_timeout: udpTimeout }, rows, results }, null, 2) + '\n');
  log(`raw results: ${path.relative(process.cwd(), outFile)}`);
  if (o.keepTmp) log(`kept ${tmpDir}`);
}

if (require.main === module) {
  main()
    .catch((err) => {
      process.stderr.write(`ct-burst: ${err.stack || err.message}\n`);
      process.exitCode = 1;
    })
    .finally(cleanup);
}

module.exports = { main, parseArgs, median, markdownTable, summarize, statsByType };
