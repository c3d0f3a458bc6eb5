'use strict';
// Reading /proc (CPU, memory of a process tree) and GNU time's output.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

const fs = require('node:fs');
const { GNU_TIME, log } = require('./common');

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

module.exports = { childrenOf, sampleProc, parseTimeFile, haveGnuTime };
