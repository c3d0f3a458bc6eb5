#!/usr/bin/env node
'use strict';
// NFLOG burst benchmark: the same burst of logged UDP packets, read by each
// contender in turn, inside a throwaway network namespace.
//
//   node scripts/bench/nflog-burst.js [--packets N] [--contenders LIST] [--runs K] [options]
//
// Contenders (comma-separated; default: all four):
//   collector-ecs     node dist/cli/main.js --format ecs   (ECS documents to /dev/null)
//   collector-record  node dist/cli/main.js --format record
//   floor             scripts/bench/nflog-floor.c: libnetfilter_log, count in the callback, nothing else
//   ulogd             ulogd2 (Debian's /usr/sbin/ulogd) NFLOG→BASE→IFINDEX→IP2STR→HWHDR→JSON to a file
//
// For each contender and run: start it, wait until group 51 is bound in the
// namespace (/proc/net/netfilter/nfnetlink_log) plus 1 s, send N datagrams to
// 127.0.0.1:9000 from inside the namespace (scripts/bench/udp-flood.c),
// take "sent" from the nft rule's counter (what the kernel logged), then wait
// for the contender to go idle (2 s without events) and record what it
// delivered, its CPU (user+sys, whole process lifetime, from GNU time's
// rusage) and its peak RSS. Prints a Markdown table of medians; raw results go
// to bench-results/ (git-ignored).
//
// Needs root, iproute2, nft, cc and libnetfilter-log-dev (scripts/setup-system.sh);
// ulogd2 + ulogd2-json for the ulogd contender; `npm run build` for the collector.
// It only ever touches the namespace it creates (nfc-bench<pid>-a), which it
// deletes at the end, on error and on SIGINT/SIGTERM.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const GROUP = 51;
const PORT = 9000;
const ALL_CONTENDERS = ['collector-ecs', 'collector-record', 'floor', 'ulogd'];
const ULOGD = '/usr/sbin/ulogd';
const ULOGD_PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';
const GNU_TIME = '/usr/bin/time';

const USAGE = `Usage: node scripts/bench/nflog-burst.js [options]

  --packets N          datagrams per burst (default 1000000)
  --contenders LIST    comma-separated, from ${ALL_CONTENDERS.join(',')} (default: all)
  --runs K             runs per contender; the table shows medians (default 1)
  --size BYTES         UDP payload bytes per datagram (default 64)
  --rate PPS           send at a steady rate instead of as fast as possible (default 0: flat out)
  --idle-ms MS         a contender is done after MS without events (default 2000)
  --qthreshold N       NFLOG qthreshold given to every contender (default 64)
  --flush-timeout MS   NFLOG flush timeout, a multiple of 10 ms (default 10)
  --socket-buffer B    netlink receive buffer, SO_RCVBUFFORCE (default 67108864)
  --max-drain S        longest wait for a contender after the burst, seconds (default 180)
  --sentinel           after the burst, once the contender's socket is empty, log one more
                       packet: it reveals (by NFULA_SEQ) entries dropped at the burst's end
  --out FILE           raw results as JSON (default bench-results/nflog-burst-<time>.json)
  --keep-tmp           keep the temporary directory (configs, logs, binaries)
  -h, --help           this help
`;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    packets: 1_000_000,
    contenders: ALL_CONTENDERS.slice(),
    runs: 1,
    size: 64,
    rate: 0,
    idleMs: 2000,
    qthreshold: 64,
    flushTimeoutMs: 10,
    socketBuffer: 64 * 1024 * 1024,
    maxDrainS: 180,
    sentinel: false,
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
      case '--packets':
        o.packets = int(flag, value(), 1, 100_000_000);
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
      case '--size':
        o.size = int(flag, value(), 0, 65507);
        break;
      case '--rate':
        o.rate = int(flag, value(), 0, 100_000_000);
        break;
      case '--idle-ms':
        o.idleMs = int(flag, value(), 100, 600_000);
        break;
      case '--qthreshold':
        o.qthreshold = int(flag, value(), 1, 1_000_000);
        break;
      case '--flush-timeout': {
        o.flushTimeoutMs = int(flag, value(), 0, 1_000_000);
        if (o.flushTimeoutMs % 10 !== 0) throw new Error('--flush-timeout must be a multiple of 10 ms (NFLOG counts in 10 ms units)');
        break;
      }
      case '--socket-buffer':
        o.socketBuffer = int(flag, value(), 4096, 1 << 30);
        break;
      case '--max-drain':
        o.maxDrainS = int(flag, value(), 5, 3600);
        break;
      case '--out':
        o.out = value();
        if (!o.out) throw new Error('--out needs a file');
        break;
      case '--sentinel':
        o.sentinel = true;
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
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

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
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000 });
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
    const ticks = 100; // USER_HZ on Linux
    const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpu, hwmKiB: m ? Number(m[1]) : null };
  } catch {
    return null;
  }
}

/** Counts '\n' in a file without loading it whole. */
async function countLines(file) {
  let lines = 0;
  let bytes = 0;
  const stream = fs.createReadStream(file, { highWaterMark: 4 << 20 });
  for await (const chunk of stream) {
    bytes += chunk.length;
    let at = chunk.indexOf(10);
    while (at !== -1) {
      lines++;
      at = chunk.indexOf(10, at + 1);
    }
  }
  return { lines, bytes };
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
      if (child.spawnargs && child.detachedGroup) process.kill(-child.pid, 'SIGKILL');
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

/** The project's NetnsLab when built (dist/lab/netns.js), else the same few methods here. */
function makeLab(prefix) {
  try {
    const { NetnsLab } = require(path.join(ROOT, 'dist', 'lab', 'netns.js'));
    return new NetnsLab(prefix);
  } catch {
    const full = `${prefix}${process.pid}`;
    const namespaces = new Set();
    const api = {
      prefix: full,
      name: (ns) => `${full}-${ns}`,
      addNamespace(ns) {
        const name = api.name(ns);
        if (fs.existsSync(`/run/netns/${name}`)) runSync('ip', ['netns', 'del', name]);
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
}

const RULESET = `table inet bench {
  chain out {
    type filter hook output priority 0;
    udp dport ${PORT} counter log group ${GROUP}
  }
  chain in {
    type filter hook input priority 0;
    udp dport ${PORT} drop
  }
}
`;

function nftCounter(nsName) {
  const text = runSync('ip', ['netns', 'exec', nsName, 'nft', 'list', 'chain', 'inet', 'bench', 'out']);
  const m = /counter packets (\d+) bytes (\d+)/.exec(text);
  if (!m) throw new Error(`no counter in the bench chain:\n${text}`);
  return Number(m[1]);
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

/** Port ids bound to our group in the namespace (/proc/net/netfilter/nfnetlink_log is per namespace). */
function groupBinders(ctx) {
  return readNsFile(ctx, 'netfilter/nfnetlink_log')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && Number(f[0]) === GROUP)
    .map((f) => Number(f[1]));
}

/** Receive-queue bytes and dropped datagrams of the netlink socket with this port id (/proc/net/netlink). */
function netlinkSocket(ctx, portid) {
  // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
  for (const line of readNsFile(ctx, 'netlink').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 9 && Number(f[1]) === 12 && Number(f[2]) === portid) return { rmem: Number(f[4]), drops: Number(f[8]) };
  }
  return null;
}

// ---------------------------------------------------------------- build

function buildTools(dir) {
  const cc = which('cc') || which('gcc');
  if (!cc) throw new Error('no C compiler (cc): run scripts/setup-system.sh');
  const flood = path.join(dir, 'udp-flood');
  const floor = path.join(dir, 'nflog-floor');
  runSync(cc, ['-O2', '-Wall', '-o', flood, path.join(__dirname, 'udp-flood.c')]);
  let nflogFlags = ['-lnetfilter_log'];
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libnetfilter_log'], { encoding: 'utf8' });
  if (pc.status === 0 && pc.stdout.trim()) nflogFlags = pc.stdout.trim().split(/\s+/);
  runSync(cc, ['-O2', '-Wall', '-o', floor, path.join(__dirname, 'nflog-floor.c'), ...nflogFlags]);
  return { flood, floor };
}

// ---------------------------------------------------------------- contenders

function ulogdConfig(dir, o) {
  // Option names as in Debian's shipped /etc/ulogd.conf and the plugins' own
  // keys (ulogd 2.0.8). ulogd only applies netlink_socket_buffer_size when it
  // is strictly below netlink_socket_buffer_maxsize, hence maxsize = 2 × size.
  const plugins = ['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IFINDEX', 'filter_IP2STR', 'filter_HWHDR', 'output_JSON'];
  return [
    '[global]',
    `logfile="${path.join(dir, 'ulogd.log')}"`,
    'loglevel=5',
    ...plugins.map((p) => `plugin="${ULOGD_PLUGINS}/ulogd_${p}.so"`),
    'stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON',
    '',
    '[log1]',
    `group=${GROUP}`,
    `netlink_socket_buffer_size=${o.socketBuffer}`,
    `netlink_socket_buffer_maxsize=${o.socketBuffer * 2}`,
    `netlink_qthreshold=${o.qthreshold}`,
    `netlink_qtimeout=${Math.max(1, o.flushTimeoutMs / 10)}`,
    'seq_local=1',
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
  if (name.startsWith('collector-')) {
    const format = name.slice('collector-'.length);
    // The CLI enters the namespace itself (--netns); it runs from the host side.
    const argv = [process.execPath, path.join(ROOT, 'dist', 'cli', 'main.js'), '--nflog', String(GROUP), '--netns', nsName,
      '--format', format, '--output', '/dev/null', '--idle-exit', String(o.idleMs), '--stats',
      '--qthreshold', String(o.qthreshold), '--flush-timeout', String(o.flushTimeoutMs), '--socket-buffer', String(o.socketBuffer)];
    cmd = timed(argv);
  } else if (name === 'floor') {
    const maxS = Math.min(3600, Math.ceil(o.maxDrainS + ctx.floodMaxS + 60));
    cmd = ['ip', 'netns', 'exec', nsName, ...timed([tools.floor, String(GROUP), String(o.qthreshold),
      String(o.flushTimeoutMs / 10), String(o.idleMs), String(maxS), String(o.socketBuffer)])];
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
  child.stdout.on('data', (d) => (h.stdout += d));
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
  // The measured process: with GNU time it is time's only child; without, the spawned pid itself.
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

async function waitExit(h, ms) {
  const r = await Promise.race([h.done.then(() => true), sleep(ms).then(() => false)]);
  return r;
}

// ---------------------------------------------------------------- one run of one contender

async function runOne(name, run, ctx) {
  const { o, nsName, tools } = ctx;
  const runDir = path.join(tmpDir, `${name}-${run}`);
  fs.mkdirSync(runDir, { recursive: true });
  const result = { contender: name, run, packets: o.packets, size: o.size };

  // The group must be free (the previous contender has let go of it).
  for (let t = 0; groupBinders(ctx).length > 0; t++) {
    if (t > 100) throw new Error(`group ${GROUP} is still bound in ${nsName} by port ${groupBinders(ctx).join(',')}`);
    await sleep(100);
  }

  const h = startContender(name, ctx, runDir);
  try {
    // Bound = the group shows up in the namespace's nfnetlink_log table.
    const bindDeadline = Date.now() + 20_000;
    let portid;
    while ((portid = groupBinders(ctx)[0]) === undefined) {
      if (h.exited || Date.now() > bindDeadline) {
        await stopContender(h, 2000);
        result.error = `did not bind group ${GROUP}: exit ${h.code ?? h.signal ?? 'none'}; ${h.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        return result;
      }
      await sleep(50);
    }
    await sleep(1000);
    if (h.exited) {
      result.error = `exited before the burst: ${h.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      return result;
    }

    const sock0 = netlinkSocket(ctx, portid);
    const before = nftCounter(nsName);
    const floodArgs = [tools.flood, '127.0.0.1', String(PORT), String(o.packets), String(o.size), String(ctx.floodMaxS), String(o.rate)];
    const flood = await runAsync('ip', ['netns', 'exec', nsName, ...floodArgs], (ctx.floodMaxS + 30) * 1000);
    const floodEnd = Date.now();
    const afterFlood = nftCounter(nsName);
    const floodReport = lastJsonLine(flood.stdout);
    if (!floodReport) throw new Error(`udp-flood failed (${flood.code}): ${flood.stderr.trim()}`);
    result.senderSent = floodReport.sent;
    result.senderErrors = floodReport.errors;
    result.burstSeconds = floodReport.seconds;
    result.sendRate = (afterFlood - before) / floodReport.seconds;
    const deadline = floodEnd + o.maxDrainS * 1000;

    // Drops on the contender's socket, as the kernel counts them (datagrams, not entries).
    let sock = sock0;
    const sampleSocket = () => {
      const now = netlinkSocket(ctx, portid);
      if (now) sock = now;
      return now;
    };

    if (o.sentinel) {
      // One more logged packet once the contender has emptied its socket: entries
      // dropped at the end of the burst leave a hole in NFULA_SEQ that only a
      // later entry reveals, so this gives sequence-based loss counting its chance.
      while (Date.now() < deadline && !h.exited) {
        const now = sampleSocket();
        if (!now || now.rmem === 0) break;
        await sleep(50);
      }
      if (!h.exited) {
        const one = await runAsync('ip', ['netns', 'exec', nsName, tools.flood, '127.0.0.1', String(PORT), '1', String(o.size), '5'], 30_000);
        if (one.code !== 0) throw new Error(`sentinel send failed: ${one.stderr.trim()}`);
        result.sentinelAfterS = (Date.now() - floodEnd) / 1000;
      }
    }
    result.sent = nftCounter(nsName) - before;

    // Wait for the contender to go idle.
    let lastActivity = floodEnd;
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
      lastActivity = Date.now() - o.idleMs; // idle-exit fires idleMs after the last event
    }
    await h.done;
    if (sock0 && sock) result.socketDrops = sock.drops - sock0.drops;
    result.drainSeconds = Math.max(0, (lastActivity - floodEnd) / 1000);
    result.exit = h.code ?? h.signal;
  } finally {
    clearInterval(h.sampler);
    if (!h.exited) await stopContender(h, 2000);
  }

  // What the contender delivered and what it says it lost.
  if (name.startsWith('collector-')) {
    const stats = lastJsonLine(h.stderr);
    if (!stats) {
      result.error = `no --stats line on stderr (exit ${result.exit}): ${h.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    } else {
      result.delivered = stats.delivered;
      result.ownReport = {
        lost: stats.lost,
        gaps: stats.gaps,
        enobufs: stats.enobufs,
        ringFull: stats.ringFull,
        truncated: stats.truncated,
        decodeErrors: stats.decodeErrors,
        lossUncounted: stats.lossUncounted === true ? 1 : 0, // "lost" is only a lower bound
      };
      result.ownLost = stats.lost;
      result.stats = stats;
    }
  } else if (name === 'floor') {
    const r = lastJsonLine(h.stdout);
    if (!r) result.error = `no result line (exit ${result.exit}): ${h.stderr.trim()}`;
    else {
      result.delivered = r.delivered;
      result.ownReport = { lost: r.lost_seq, enobufs: r.enobufs };
      result.ownLost = r.lost_seq;
      result.floor = r;
    }
  } else if (name === 'ulogd') {
    const out = path.join(runDir, 'ulogd.json');
    const counted = fs.existsSync(out) ? await countLines(out) : { lines: 0, bytes: 0 };
    result.delivered = counted.lines;
    result.outputBytes = counted.bytes;
    const logText = fs.existsSync(path.join(runDir, 'ulogd.log')) ? fs.readFileSync(path.join(runDir, 'ulogd.log'), 'utf8') : '';
    const losing = (logText.match(/We are losing events/g) || []).length;
    const maxReached = (logText.match(/Maximum buffer size/g) || []).length;
    // ulogd warns on ENOBUFS (growing its buffer) until its maximum is reached, then stays silent.
    result.ownReport = { losingEventsNotices: losing, maxBufferNotices: maxReached };
    result.ownLost = null;
    if (fs.existsSync(out)) fs.rmSync(out); // can be gigabytes
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
    result.lost = result.sent - result.delivered;
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
      sent: m('sent'),
      delivered: m('delivered'),
      lost: m('lost'),
      lostPct: median(ok.map((r) => (r.sent ? (100 * r.lost) / r.sent : null))),
      ownLost: own('lost'),
      gaps: own('gaps'),
      enobufs: own('enobufs'),
      ringFull: own('ringFull'),
      lossUncountedRuns: ok.filter((r) => r.ownReport && r.ownReport.lossUncounted).length,
      ulogdNotices: own('losingEventsNotices'),
      ulogdMax: own('maxBufferNotices'),
      cpu: m('cpu'),
      cpuPerMillion: m('cpuPerMillion'),
      peakRssKiB: m('peakRssKiB'),
      burstSeconds: m('burstSeconds'),
      sendRate: m('sendRate'),
      drainSeconds: m('drainSeconds'),
      socketDrops: m('socketDrops'),
    });
  }
  return rows;
}

function ownReportText(r) {
  if (r.name === 'ulogd') {
    if (r.ulogdNotices === null && r.ulogdMax === null) return '—';
    return `${fmtInt(r.ulogdNotices)} "losing events" + ${fmtInt(r.ulogdMax)} "max buffer" notices`;
  }
  const parts = [`lost ${fmtInt(r.ownLost)}`];
  if (r.name.startsWith('collector-')) parts.push(`gaps ${fmtInt(r.gaps)}`);
  parts.push(`enobufs ${fmtInt(r.enobufs)}`);
  if (r.name.startsWith('collector-')) parts.push(`ringFull ${fmtInt(r.ringFull)}`);
  if (r.lossUncountedRuns > 0) parts.push(`lossUncounted in ${r.lossUncountedRuns}/${r.ok} runs`);
  return r.ownLost === null ? '—' : parts.join(', ');
}

function markdownTable(rows) {
  const floor = rows.find((r) => r.name === 'floor');
  const floorCpm = floor && floor.cpuPerMillion ? floor.cpuPerMillion : null;
  const head = ['contender', 'sent (kernel)', 'delivered', 'lost', 'lost (own report)', 'socket drops', 'CPU s (user+sys)', 'CPU s / M delivered', '× floor', 'peak RSS MiB', 'burst s', 'send kpps', 'drain s'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    if (r.ok === 0) {
      lines.push(`| ${r.name} | ${['failed: ' + (r.errors[0] || 'no result').replace(/\|/g, '/').slice(0, 160), ...Array(head.length - 2).fill('')].join(' | ')} |`);
      continue;
    }
    const ratio = floorCpm && r.cpuPerMillion ? `${fmt(r.cpuPerMillion / floorCpm, 1)}×` : '—';
    lines.push(
      `| ${r.name}${r.timedOut ? ' (timed out)' : ''} | ${fmtInt(r.sent)} | ${fmtInt(r.delivered)} | ${fmtInt(r.lost)} (${fmt(r.lostPct, 2)} %) | ${ownReportText(r)} | ${fmtInt(r.socketDrops)} | ${fmt(r.cpu, 2)} | ${fmt(r.cpuPerMillion, 2)} | ${ratio} | ${fmt(r.peakRssKiB / 1024, 1)} | ${fmt(r.burstSeconds, 2)} | ${fmt(r.sendRate / 1000, 0)} | ${fmt(r.drainSeconds, 1)} |`,
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
    process.stderr.write(`nflog-burst: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  keepTmp = o.keepTmp;
  if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespaces, nft, NFLOG)');
  for (const tool of ['ip', 'nft']) if (!which(tool)) throw new Error(`${tool} is not installed: run scripts/setup-system.sh`);

  const contenders = o.contenders.slice();
  const skipped = {};
  if (contenders.includes('ulogd')) {
    if (!fs.existsSync(ULOGD) || !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_output_JSON.so`)) {
      skipped.ulogd = `ulogd2/ulogd2-json not installed (${ULOGD}, ${ULOGD_PLUGINS})`;
    } else {
      // Debian's service runs in the host namespace: it cannot hold group 51 in
      // ours, but it would compete for CPU. Report it; never stop what isn't ours.
      const running = spawnSync('pgrep', ['-a', 'ulogd'], { encoding: 'utf8' }).stdout.trim();
      if (running) log(`warning: ulogd is already running on this machine (not ours): ${running.replace(/\n/g, '; ')}`);
    }
  }
  if (contenders.some((c) => c.startsWith('collector-')) && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    for (const c of contenders) if (c.startsWith('collector-')) skipped[c] = 'dist/cli/main.js missing: run `npm run build`';
  }
  for (const [c, why] of Object.entries(skipped)) log(`skipping ${c}: ${why}`);

  const haveTime = fs.existsSync(GNU_TIME);
  if (!haveTime) log(`${GNU_TIME} not found (Debian package "time"): CPU from /proc sampling instead`);

  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  tmpDir = fs.mkdtempSync(path.join(shm, 'nfc-bench-'));
  const tools = buildTools(tmpDir);
  log(`built udp-flood and nflog-floor in ${tmpDir}`);

  lab = makeLab('nfc-bench');
  lab.addNamespace('a');
  const nsName = lab.name('a');
  lab.nft('a', RULESET);
  log(`namespace ${nsName}: output rule "udp dport ${PORT} counter log group ${GROUP}", input drop of the same`);

  // Flat out, ~400k/s here; the bound is generous and the sender stops at it regardless.
  const floodMaxS = Math.min(3600, Math.max(30, Math.ceil(o.rate > 0 ? (o.packets / o.rate) * 2 + 10 : o.packets / 50_000)));
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
      log(`run ${run}/${o.runs}: ${name}, ${o.packets.toLocaleString('en-US')} packets of ${o.size} bytes`);
      let r;
      try {
        r = await runOne(name, run, ctx);
      } catch (err) {
        r = { contender: name, run, error: err.message };
      }
      results.push(r);
      if (r.error) log(`  ${name}: FAILED: ${r.error}`);
      else
        log(`  ${name}: sent ${r.sent} delivered ${r.delivered} lost ${r.lost} cpu ${fmt(r.cpu, 2)} s (${fmt(r.cpuPerMillion, 2)} s/M) rss ${fmt(r.peakRssKiB / 1024, 1)} MiB burst ${fmt(r.burstSeconds, 2)} s drain ${fmt(r.drainSeconds, 1)} s${r.timedOut ? ' TIMED OUT' : ''}`);
    }
  }
  for (const [c, why] of Object.entries(skipped)) results.push({ contender: c, error: `skipped: ${why}` });

  const rows = summarize(results, contenders);
  const m = machine();
  const header = [
    `NFLOG burst: ${o.packets.toLocaleString('en-US')} UDP datagrams of ${o.size} bytes to 127.0.0.1:${PORT} in a namespace, ` +
      `${o.rate ? `${o.rate} pps` : 'flat out'}, nft "log group ${GROUP}" (no queue-threshold), qthreshold ${o.qthreshold}, ` +
      `flush ${o.flushTimeoutMs} ms, socket buffer ${o.socketBuffer} B, idle ${o.idleMs} ms; ${o.runs} run(s), medians` +
      `${o.sentinel ? '; sentinel packet after the drain' : ''}.`,
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}.`,
  ];
  process.stdout.write(`${header.join('\n')}\n\n${markdownTable(rows)}\n`);

  const outFile = o.out || path.join(ROOT, 'bench-results', `nflog-burst-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify({ options: o, machine: m, namespace: nsName, rows, results }, null, 2) + '\n');
  log(`raw results: ${path.relative(process.cwd(), outFile)}`);
  if (o.keepTmp) log(`kept ${tmpDir}`);
}

if (require.main === module) {
  main()
    .catch((err) => {
      process.stderr.write(`nflog-burst: ${err.stack || err.message}\n`);
      process.exitCode = 1;
    })
    .finally(cleanup);
}

module.exports = { main, parseArgs, median, markdownTable, summarize };
