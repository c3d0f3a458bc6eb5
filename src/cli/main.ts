#!/usr/bin/env node
// `netfilter-collector`: NFLOG groups to NDJSON.
import { HELP, type CliArgs } from './args';
import { parseCommandLine } from './config';
import { unsupportedNodeMessage } from '../node-version';
import { runCollection } from './run';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // The API says this as a process warning when imported; the command says it as one line of its own.
  const nodeNote = unsupportedNodeMessage(process.versions.node);
  if (nodeNote !== null && !argv.some((arg) => arg === '--help' || arg === '-h' || arg === '--version'))
    process.stderr.write(`netfilter-collector: ${nodeNote}\n`);
  if (argv[0] === 'demo') {
    try {
      // Loaded only for the demo: it brings the lab (namespaces, rulesets) the collector does not need.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runDemo } = require('./demo') as typeof import('./demo');
      process.exitCode = await runDemo(argv.slice(1));
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
