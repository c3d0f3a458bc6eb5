'use strict';
// The throwaway network namespace a run sends its traffic in, its counters and sockets, and the C tools built for it.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { BENCH_DIR, NETLINK_NETFILTER, ROOT, live, owned, runSync, sleep, which } = require('./common');

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
  runSync(cc, ['-O2', '-Wall', '-o', floodBin, path.join(BENCH_DIR, `${flood}.c`)]);
  let libFlags = [`-l${floorLib}`];
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', `lib${floorLib}`], { encoding: 'utf8' });
  if (pc.status === 0 && pc.stdout.trim()) libFlags = pc.stdout.trim().split(/\s+/);
  runSync(cc, ['-O2', '-Wall', '-o', floorBin, path.join(BENCH_DIR, `${floor}.c`), ...libFlags]);
  return { flood: floodBin, floor: floorBin };
}

module.exports = { makeLab, nftCounter, startAnchor, readNsFile, netfilterSockets, buildTools };
