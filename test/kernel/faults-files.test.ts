// Output files under faults: a collector killed (SIGKILL) in the middle of a
// burst leaves whole lines (a partial last one is cut off when the next run
// opens the file), and the next run appends after them; a file system that
// fills up is said, its lines dropped and counted, and collection goes on.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const GROUP = 89;
const PORT = 8900;

interface Running {
  pid: number;
  stderr: () => string;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

function start(argv: string[]): Running {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return { pid: child.pid as number, stderr: () => stderr, exited, kill: (signal) => child.kill(signal) };
}

async function until(predicate: () => boolean, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return predicate();
}

function wholeLines(text: string): unknown[] {
  const lines = text.split('\n');
  expect(lines.pop()).toBe(''); // ends with a newline: no partial line
  return lines.map((line) => JSON.parse(line));
}

describeKernel('output files under faults', () => {
  const { lab, binary } = useFloodLab('nfc-ffi', 'ffi', PORT, GROUP);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-ffi-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('SIGKILL during a burst: whole lines only, and a restarted collector appends after them', async () => {
    const file = path.join(dir, 'killed.ndjson');
    const args = [process.execPath, CLI, '--nflog', String(GROUP), '--netns', lab.name('a'), '--format', 'ecs', '--output', file];
    const first = start(args);
    expect(await nflogGroupBound(lab.name('a'), GROUP)).toBe(true);
    const burst = flood(lab, 'a', binary(), PORT, 400_000, 0, 20);
    // Killed mid-burst, once lines are flowing into the file.
    expect(await until(() => fs.existsSync(file) && fs.statSync(file).size > 2_000_000)).toBe(true);
    first.kill('SIGKILL');
    await first.exited;
    await burst;
    const killedText = fs.readFileSync(file, 'utf8');
    const complete = killedText.slice(0, killedText.lastIndexOf('\n') + 1);
    const kept = wholeLines(complete).length;
    expect(kept).toBeGreaterThan(1000);

    const second = start([...args, '--stats']);
    expect(await nflogGroupBound(lab.name('a'), GROUP)).toBe(true);
    await flood(lab, 'a', binary(), PORT, 500, 1000, 10, 16);
    expect(await until(() => wholeLines(fs.readFileSync(file, 'utf8')).length === kept + 500)).toBe(true);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const after = fs.readFileSync(file, 'utf8');
    expect(after.startsWith(complete)).toBe(true);
    expect(wholeLines(after)).toHaveLength(kept + 500);
    if (killedText.length > complete.length) {
      expect(second.stderr()).toContain(`cut off a partial last line (${killedText.length - complete.length} bytes)`);
    }
    // Created 0640 by default.
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  }, 120_000);

  it('a full file system: said, counted, collection goes on, and writing resumes when there is room', async () => {
    const mount = path.join(dir, 'small');
    fs.mkdirSync(mount);
    // A 256 KiB tmpfs seen only by the collector (its own mount namespace).
    const script = `mount -t tmpfs -o size=256k nfc-ffi ${mount} && exec "$0" "$@"`;
    const run = start([
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      process.execPath,
      CLI,
      '--nflog',
      String(GROUP),
      '--netns',
      lab.name('a'),
      '--format',
      'ecs',
      '--output',
      `${mount}/out.ndjson`,
      '--stats',
    ]);
    expect(await nflogGroupBound(lab.name('a'), GROUP)).toBe(true);
    const inside = `/proc/${run.pid}/root${mount}/out.ndjson`;
    // About 1,000 documents fill 256 KiB: send 3,000.
    await flood(lab, 'a', binary(), PORT, 3000, 2000, 10, 16);
    expect(await until(() => run.stderr().includes('no space left on device'))).toBe(true);
    expect(run.stderr()).toMatch(/out\.ndjson: .*ENOSPC.*: dropping lines \(counted\) and trying again every 1 s; collection goes on/);
    // Room again: the file is emptied (from outside, as an operator would), and the next lines go in.
    fs.truncateSync(inside, 0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await flood(lab, 'a', binary(), PORT, 200, 1000, 10, 16);
    expect(await until(() => run.stderr().includes('writing again'))).toBe(true);
    expect(await until(() => fs.readFileSync(inside, 'utf8').split('\n').length - 1 >= 200)).toBe(true);
    const text = fs.readFileSync(inside, 'utf8');
    run.kill('SIGTERM');
    const code = await run.exited;
    // Whole lines only: the partial line of the failed write was cut off.
    expect(wholeLines(text).length).toBeGreaterThanOrEqual(200);
    const stats = JSON.parse(run.stderr().trim().split('\n').at(-1) as string);
    const output = stats.output ?? stats.outputs[0];
    expect(output.dropped.writeError.lines).toBeGreaterThan(0);
    // Every event is accounted for: written or dropped (counted); none lost before the output.
    expect(output.writtenLines + output.droppedLines).toBe(3200);
    expect(stats.lost).toBe(0);
    expect(code === 0 || code === 3).toBe(true); // 3: the output dropped lines (said on stderr)
  }, 120_000);
});
