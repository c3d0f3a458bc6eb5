#!/usr/bin/env node
// @ts-check
// Removes what tsc left in dist/ from sources that no longer exist (tsc never
// deletes): a module moved or removed would otherwise stay in the package that
// `npm pack` makes from a working tree. Only files without a source go, so a
// test using dist/ meanwhile is not disturbed.
//
//   node scripts/clean-dist.js [SRC DIST]      (default: src dist)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const [src, dist] = process.argv.length > 3 ? process.argv.slice(2, 4) : [path.join(root, 'src'), path.join(root, 'dist')];

/** The source a file of dist/ was compiled from: x.js, x.d.ts and x.js.map all come from x.ts. */
function sourceOf(/** @type {string} */ relative) {
  const match = /^(.*)(?:\.d\.ts|\.js\.map|\.js)$/.exec(relative);
  return match ? path.join(src, `${match[1]}.ts`) : null;
}

let removed = 0;
/** @param {string} dir */
function clean(dir) {
  for (const entry of fs.readdirSync(path.join(dist, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      clean(relative);
      if (fs.readdirSync(path.join(dist, relative)).length === 0) fs.rmdirSync(path.join(dist, relative));
      continue;
    }
    const source = sourceOf(relative);
    if (source !== null && !fs.existsSync(source)) {
      fs.rmSync(path.join(dist, relative));
      removed++;
    }
  }
}

if (fs.existsSync(dist)) clean('');
if (removed > 0) process.stderr.write(`clean-dist: removed ${removed} file(s) of sources that are gone\n`);
