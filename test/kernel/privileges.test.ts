// Least privilege on the real kernel: a child process (the test runner stays
// root) opens a collector, drops to nobody, and keeps receiving NFLOG packets
// and conntrack events with no capability left in any thread. What still needs
// the capability fails without a crash: a resynchronising conntrack dump
// becomes a dump-failed gap, a new collector a clear EPERM error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';
import { openUdpFlows, sendUdp } from '../../src/lab/traffic';
import { publicPackage } from '../helpers/public-copy';
import { describeKernel } from './kernel-env';

const CHILD = path.join(__dirname, 'child', 'drop-privileges.js');
const DIST = path.join(__dirname, '..', '..', 'dist', 'privileges.js');
const INDEX = path.join(__dirname, '..', '..', 'dist', 'index.js');
const GROUP = 66;
const NOBODY = 65534;

interface Task {
  tid: number;
  uids: number[];
  gids: number[];
  capPrm: string;
  capEff: string;
  capAmb: string;
}

/** A child driven by command lines; each command answers one JSON line. */
class Child {
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  stderr = '';

  constructor(readonly process: ChildProcess) {
    readline.createInterface({ input: process.stdout! }).on('line', (line) => {
      if (this.waiting) {
        const waiting = this.waiting;
        this.waiting = null;
        waiting(line);
      } else this.answers.push(line);
    });
    process.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  next(timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const queued = this.answers.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not answer; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      };
    });
  }

  ask(command: string): Promise<Record<string, unknown>> {
    this.process.stdin!.write(`${command}\n`);
    return this.next();
  }
}

function expectUnprivileged(tasks: Task[]): void {
  expect(tasks.length).toBeGreaterThan(1);
  for (const task of tasks) {
    expect(task.uids, `thread ${task.tid}`).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]);
    expect(task.gids, `thread ${task.tid}`).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]);
    expect([task.capPrm, task.capEff, task.capAmb], `thread ${task.tid}`).toEqual(['0', '0', '0']);
  }
}

describeKernel('dropping privileges after the sockets are bound', () => {
  const lab = new NetnsLab('nfc-priv');
  let child: Child;

  beforeAll(() => {
    if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build:ts (npm test does)`);
    lab.addNamespace('a');
    // The ct rule makes conntrack track the namespace's traffic.
    lab.nft(
      'a',
      `table inet priv { chain out { type filter hook output priority 0; ct state new counter; udp dport 6600 log group ${GROUP}; }; }`,
    );
    child = new Child(spawn(process.execPath, [CHILD, lab.name('a'), String(GROUP), 'nobody'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  });
  afterAll(() => {
    child?.process.kill('SIGKILL');
    lab.destroy();
  });

  it('runs every thread as nobody with no capability', async () => {
    const ready = await child.next();
    expect(ready.uid).toBe(NOBODY);
    expect(ready.dropped).toMatchObject({ uid: NOBODY, gid: NOBODY });
    expectUnprivileged(ready.tasks as Task[]);
  });

  it('still receives NFLOG packets and conntrack events', async () => {
    sendUdp(lab, 'a', '127.0.0.1', 6600, 5, 32);
    const got = await child.ask('collect 5 1');
    expect(got).toMatchObject({ done: true, packets: 5 });
    expect(got.flows).toBeGreaterThanOrEqual(1);
    // The reader thread, busy meanwhile, is still unprivileged.
    expectUnprivileged(got.tasks as Task[]);
  });

  it('turns a resynchronising dump the kernel refuses into a dump-failed gap', async () => {
    expect(await child.ask('stall')).toEqual({ stalled: true });
    // Distinct flows while nobody reads: the conntrack socket overflows, and the resync dump needs CAP_NET_ADMIN.
    openUdpFlows(lab, 'a', '127.0.0.1', 20_000, 40_000);
    const drained = await child.ask('drain');
    expect(drained.done).toBe(true);
    const failures = drained.dumpFailed as Array<{ source: string; detail: string }>;
    expect(failures[0].source).toBe('conntrack');
    expect(failures[0].detail).toMatch(/EPERM/);
    expect((drained.native as { conntrackEnobufs: number }).conntrackEnobufs).toBeGreaterThan(0);
  });

  it('cannot open a new collector: a clear error, not a crash', async () => {
    const reopened = await child.ask('reopen');
    expect(reopened.code).toBe('EPERM');
    expect(reopened.error).toMatch(/needs CAP_SYS_ADMIN/);
  });

  it('closes and exits cleanly', async () => {
    const closed = await child.ask('close');
    expect((closed.stats as { packets: number }).packets).toBeGreaterThanOrEqual(5);
    const code = await new Promise((resolve) => child.process.once('exit', resolve));
    expect(code).toBe(0);
  });
});

describeKernel('dropping privileges that cannot be dropped', () => {
  const lab = new NetnsLab('nfc-priv2');
  // Opens a collector in the current namespace, then tries to drop to nobody; prints the error.
  // nobody runs the package from a copy it can read (the clone may be in a 0700 directory).
  const script = () => `const { createCollector } = require(${JSON.stringify(path.join(publicPackage(), 'dist', 'index.js'))});
const { dropPrivileges } = require(${JSON.stringify(path.join(publicPackage(), 'dist', 'privileges.js'))});
const c = createCollector({ nflog: [67] });
try { dropPrivileges({ user: 'nobody' }); console.log('dropped'); } catch (e) { console.log(e.message); } finally { c.close(); }`;
  const asNobody = (caps: string) => [
    'ip',
    'netns',
    'exec',
    lab.name('a'),
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    `--inh-caps=${caps}`,
    `--ambient-caps=${caps}`,
    process.execPath,
    '-e',
    script(),
  ];

  beforeAll(() => {
    if (!fs.existsSync(INDEX)) throw new Error(`${INDEX} is missing: run npm run build:ts (npm test does)`);
    lab.addNamespace('a');
  });
  afterAll(() => lab.destroy());

  it('says that a non-root process needs CAP_SETUID and CAP_SETGID to switch users', () => {
    const argv = asNobody('+net_admin');
    const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 15_000, cwd: os.tmpdir() });
    expect(run.stdout).toMatch(/cannot switch to uid 65534, gid 65534: .*needs root \(CAP_SETUID and CAP_SETGID\)/);
  });

  it('refuses to call it dropped when ambient capabilities survive setuid', () => {
    const argv = asNobody('+net_admin,+setuid,+setgid');
    const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 15_000, cwd: os.tmpdir() });
    expect(run.stdout).toMatch(/privileges not fully dropped: thread \d+ still has capabilities .*start as root/);
  });
});
