'use strict';
// Lets plain `node` require the project's TypeScript (src/, test/ builders,
// scripts/fuzz/*.ts) without a build step: each .ts file is transpiled on
// load with the compiler the project already depends on. Type errors are
// not reported here (that is `npm run typecheck`'s job). Transpiled output is
// cached in the system's temp directory by content hash, so workers start fast.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CACHE = path.join(os.tmpdir(), 'netfilter-collector-fuzz-ts');
let ts;

function transpile(source, filename) {
  ts ??= require('typescript');
  const compilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    inlineSourceMap: true,
  };
  return ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
}

function register() {
  if (require.extensions['.ts']) return;
  require.extensions['.ts'] = (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
    const cached = path.join(CACHE, `${key}.js`);
    let output;
    try {
      output = fs.readFileSync(cached, 'utf8');
    } catch {
      output = transpile(source, filename);
      try {
        fs.mkdirSync(CACHE, { recursive: true });
        const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
        fs.writeFileSync(tmp, output);
        fs.renameSync(tmp, cached);
      } catch {
        // No cache: still works, only slower.
      }
    }
    /** @type {any} */ (module)._compile(output, filename);
  };
}

module.exports = { register };
