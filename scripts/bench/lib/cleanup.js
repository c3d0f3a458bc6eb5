'use strict';
// What a run owns (child processes, the lab, the temporary directory) and its removal on exit and on signals.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { live, log, owned } = require('./common');

// ---------------------------------------------------------------- cleanup

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

module.exports = { cleanup, installSignalHandlers, runMain, makeTmpDir };
