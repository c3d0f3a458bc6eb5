'use strict';
// Command-line options every harness shares, and its usage text.
// Part of the benchmark library: scripts/bench/lib.js re-exports it all.

// ---------------------------------------------------------------- arguments

function int(flag, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer in ${min}..${max}, got '${text}'`);
  return n;
}

/**
 * Parses argv into o (which holds the defaults). The options every harness
 * has are handled here (-h/--help, --contenders, --runs, --max-drain, --out,
 * --keep-tmp), and the integer options of ints (flag → [key, min, max]). Any
 * other goes to own(flag, value), where value() takes the option's value
 * (--flag=V or the next argument); own returns false for one it does not know.
 */
function parseOptions(argv, o, allContenders, ints, own) {
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
      case '--contenders': {
        const list = String(value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const c of list)
          if (!allContenders.includes(c)) throw new Error(`unknown contender '${c}' (known: ${allContenders.join(', ')})`);
        if (list.length === 0) throw new Error('--contenders needs a list');
        o.contenders = list;
        break;
      }
      case '--runs':
        o.runs = int(flag, value(), 1, 100);
        break;
      case '--max-drain':
        o.maxDrainS = int(flag, value(), 5, 3600);
        break;
      case '--out':
        o.out = value();
        if (!o.out) throw new Error('--out needs a file');
        break;
      case '--keep-tmp':
        o.keepTmp = true;
        break;
      default:
        if (ints[flag]) o[ints[flag][0]] = int(flag, value(), ints[flag][1], ints[flag][2]);
        else if (!own(flag, value)) throw new Error(`unknown option '${arg}' (see --help)`);
    }
  }
  return o;
}

/** The --help lines of --contenders and --runs. */
function usageOfContenders(allContenders) {
  return `  --contenders LIST    comma-separated, from ${allContenders.join(',')} (default: all)
  --runs K             runs per contender; the table shows medians (default 1)
`;
}

/** The --help text of scripts/bench/<program>.js: its options' lines, then --out, --keep-tmp and --help. */
function usage(program, optionLines) {
  return `Usage: node scripts/bench/${program}.js [options]

${optionLines}  --out FILE           raw results as JSON (default bench-results/${program}-<time>.json)
  --keep-tmp           keep the temporary directory (configs, logs, binaries)
  -h, --help           this help
`;
}

/** The options, or null when main should stop: --help (usage printed) or a bad argument (exit status 2). */
function readOptions(program, parseArgs, usage) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${program}: ${err.message}\n`);
    process.exitCode = 2;
    return null;
  }
  if (o.help) {
    process.stdout.write(usage);
    return null;
  }
  return o;
}

module.exports = { int, parseOptions, usageOfContenders, usage, readOptions };
