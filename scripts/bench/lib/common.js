'use strict';
// Constants, the harness's settings (log tag, command time bound) and small helpers: logging, medians, running commands.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** scripts/bench/: the C tools' sources. */
const BENCH_DIR = path.resolve(__dirname, '..');
const ULOGD = '/usr/sbin/ulogd';
const ULOGD_PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';
const GNU_TIME = '/usr/bin/time';
const NETLINK_NETFILTER = 12;

// What a run owns, for cleanup.js to remove: the child processes we started and that may still run,
// and the lab and temporary directory.
const live = new Set();
const owned = { lab: null, tmpDir: null, keepTmp: false };

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

module.exports = {
  live,
  BENCH_DIR,
  owned,
  ROOT,
  ULOGD,
  ULOGD_PLUGINS,
  GNU_TIME,
  NETLINK_NETFILTER,
  configure,
  sleep,
  log,
  median,
  which,
  runSync,
  runAsync,
  lastJsonLine,
};
