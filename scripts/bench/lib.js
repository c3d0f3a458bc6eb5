'use strict';
// What the burst benchmarks (nflog-burst.js, ct-burst.js) have in common:
// argument parsing, running processes, reading /proc, the throwaway network
// namespace and its cleanup, starting / watching / stopping a contender, and
// the Markdown report. Each harness keeps its own scenario: the ruleset, the
// traffic, what a contender delivered and the table's columns.
//
// Requiring this module changes nothing in the process: a harness calls
// configure() for its log tag and installSignalHandlers() from its main().
// The parts live in scripts/bench/lib/, one concern a file.

const common = require('./lib/common');
const options = require('./lib/options');
const proc = require('./lib/proc');
const cleanup = require('./lib/cleanup');
const lab = require('./lib/lab');
const contenders = require('./lib/contenders');
const report = require('./lib/report');

module.exports = { ...common, ...options, ...proc, ...cleanup, ...lab, ...contenders, ...report };
