#!/usr/bin/env node
'use strict';
// Draws the side-by-side figures of benchmark runs as an SVG bar chart: one
// group of bars per scenario, one bar per contender, its length the median
// CPU-seconds per million events delivered, labelled with the ratio to the
// floor of the same run.
//
//   node scripts/bench/chart.js OUT.svg "TITLE" LABEL=RESULT.json [LABEL=RESULT.json ...]
//
// RESULT.json is what nflog-burst.js / ct-burst.js save in bench-results/.

const fs = require('node:fs');

const COLORS = {
  'collector-ecs': '#1f77b4',
  'collector-api': '#2ca02c',
  'collector-record': '#17becf',
  floor: '#7f7f7f',
  ulogd: '#d62728',
};
const NAMES = {
  'collector-ecs': 'collector, ECS NDJSON',
  'collector-api': 'collector, records (API)',
  'collector-record': 'collector, records (CLI)',
  floor: 'C floor',
  ulogd: 'ulogd2 JSON',
};

const escapeXml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function main(argv) {
  const [out, title, ...specs] = argv;
  if (!out || !title || specs.length === 0) throw new Error('usage: chart.js OUT.svg "TITLE" LABEL=RESULT.json ...');
  const groups = specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq < 1) throw new Error(`expected LABEL=RESULT.json, got '${spec}'`);
    const result = JSON.parse(fs.readFileSync(spec.slice(eq + 1), 'utf8'));
    const floor = result.rows.find((r) => r.name === 'floor')?.cpuPerMillion;
    const bars = result.rows
      .filter((r) => typeof r.cpuPerMillion === 'number')
      .map((r) => ({ name: r.name, value: r.cpuPerMillion, ratio: floor ? r.cpuPerMillion / floor : null }));
    return { label: spec.slice(0, eq), bars };
  });

  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const left = 190;
  const width = 820;
  const plot = width - left - 140;
  const barH = 16;
  let y = 48;
  const parts = [];
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(g.label)}</text>`);
    y += 20;
    for (const b of g.bars) {
      const w = Math.max(1, (b.value / max) * plot);
      const text = `${b.value.toFixed(2)}${b.ratio === null ? '' : ` (${b.ratio.toFixed(1)}×)`}`;
      parts.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${escapeXml(NAMES[b.name] ?? b.name)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.name] ?? '#999'}"/>`);
      parts.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 12}">${escapeXml(text)}</text>`);
      y += barH + 4;
    }
    y += 12;
  }
  const height = y + 24;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="38" fill="#555">CPU-seconds (user + system) per million events delivered, median of the runs; (×) the ratio to the C floor of the same run. Shorter is better.</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
  fs.writeFileSync(out, svg);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`chart: ${err.message}\n`);
    process.exit(2);
  }
}

module.exports = { main };
