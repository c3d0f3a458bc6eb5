#!/usr/bin/env node
// `netfilter-collector`: NFLOG groups to NDJSON.
import { HELP, OUTPUT_FORMATS, type CliArgs } from './args';
import { parseCommandLine } from './config';
import { runDemo, type DemoFormatter } from './demo';
import { gapMessage, lineFormatter } from './formats';
import { runCollection } from './run';

/** The CLI's formats for the demo (which has its own readable one). */
function demoFormatters(): Record<string, DemoFormatter> {
  const formatters: Record<string, DemoFormatter> = {};
  const onGap = (gap: Parameters<typeof gapMessage>[0]): void => void process.stderr.write(`${gapMessage(gap)}\n`);
  for (const format of OUTPUT_FORMATS) formatters[format] = lineFormatter({ format, labels: new Map(), logFlags: [] }, onGap);
  return formatters;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'demo') {
    try {
      process.exitCode = await runDemo(argv.slice(1), { formatters: demoFormatters() });
    } catch (err) {
      process.stderr.write(`netfilter-collector demo: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
    return;
  }
  let args: CliArgs;
  try {
    args = parseCommandLine(argv);
  } catch (err) {
    process.stderr.write(`netfilter-collector: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args.version) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    process.stdout.write(`${(require('../../package.json') as { version: string }).version}\n`);
    return;
  }
  try {
    process.exitCode = await runCollection(args);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    process.stderr.write(message.startsWith('netfilter-collector') ? `${message}\n` : `netfilter-collector: ${message}\n`);
    process.exitCode = 1;
  }
}

void main();
