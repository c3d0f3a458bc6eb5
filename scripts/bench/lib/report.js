'use strict';
// Figures: medians, loss and cost columns, the Markdown table, the machine, the saved results.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, log, median, owned } = require('./common');

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

module.exports = { fmtInt, fmt, summarizeRuns, lossColumns, costColumns, ulogdReportText, markdownTable, machine, saveResults };
