// Errors a user meets at start, through the API and the CLI: the group is
// already bound by another process (tcpdump, another collector), or the
// process lacks CAP_NET_ADMIN / CAP_SYS_ADMIN. Each is one clear message that
// names the group and the cause; no stack trace, no crash.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { publicPackage } from '../helpers/public-copy';
import { describeKernel } from './kernel-env';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const INDEX = path.join(ROOT, 'dist', 'index.js');
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];
// Root, but with every capability gone (as in a container without NET_ADMIN).
const ROOT_WITHOUT_CAPS = ['setpriv', '--inh-caps=-all', '--bounding-set=-all'];

/** A script that creates a collector with `options` and prints the error's code and message. */
function apiScript(options: object, index = INDEX): string {
  return `const { createCollector } = require(${JSON.stringify(index)});
try { createCollector(${JSON.stringify(options)}).close(); console.log('opened'); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
}

function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  // cwd: a directory nobody can enter too (the clone may be in /root, mode 0700).
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 15_000, cwd: os.tmpdir() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Waits until `group` is bound in the lab namespace (its line in nfnetlink_log). */
async function bound(lab: NetnsLab, group: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const table = lab.exec('a', 'cat', ['/proc/net/netfilter/nfnetlink_log']);
    if (table.split('\n').some((line) => Number(line.trim().split(/\s+/)[0]) === group)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describeKernel('start-up errors on the real kernel', () => {
  const lab = new NetnsLab('nfc-fbz');
  const holders: ChildProcess[] = [];

  beforeAll(() => {
    for (const file of [CLI, INDEX]) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build:ts (npm test does)`);
    lab.addNamespace('a');
  });
  afterAll(() => {
    for (const holder of holders) holder.kill('SIGKILL');
    lab.destroy();
  });

  it('names tcpdump when it holds the group (API and CLI)', async () => {
    const tcpdump = spawn('ip', ['netns', 'exec', lab.name('a'), 'tcpdump', '-i', 'nflog:81', '-w', '/dev/null'], { stdio: 'ignore' });
    holders.push(tcpdump);
    expect(await bound(lab, 81)).toBe(true);
    let error: (Error & { code?: string }) | undefined;
    try {
      createCollector({ nflog: [81], netns: lab.name('a') }).close();
    } catch (err) {
      error = err as Error & { code?: string };
    }
    expect(error?.code).toBe('EBUSY');
    expect(error?.message).toMatch(/cannot bind NFLOG group 81: NFLOG group 81 is already bound by tcpdump \(pid \d+\)/);
    const cli = run([process.execPath, CLI, '--nflog', '81', '--netns', lab.name('a')]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^netfilter-collector: cannot bind NFLOG group 81: NFLOG group 81 is already bound by tcpdump \(pid \d+\)/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    tcpdump.kill('SIGTERM');
  });

  it('names the other collector process when it holds the group (API and CLI)', async () => {
    const first = spawn(process.execPath, [CLI, '--nflog', '82', '--netns', lab.name('a')], { stdio: 'ignore' });
    holders.push(first);
    expect(await bound(lab, 82)).toBe(true);
    const api = run([process.execPath, '-e', apiScript({ nflog: [82], netns: lab.name('a') })]);
    const answer = JSON.parse(api.stdout) as { code: string; message: string };
    expect(answer.code).toBe('EBUSY');
    expect(answer.message).toMatch(new RegExp(`NFLOG group 82 is already bound by node \\(pid ${first.pid}\\)`));
    const cli = run([process.execPath, CLI, '--nflog', '82', '--netns', lab.name('a')]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(new RegExp(`NFLOG group 82 is already bound by node \\(pid ${first.pid}\\)`));
    first.kill('SIGTERM');
  });

  it('says which capability is missing (API and CLI)', () => {
    const ns = ['ip', 'netns', 'exec', lab.name('a')];
    // nobody runs the package from a copy it can read.
    const pub = publicPackage();
    const CLI = path.join(pub, 'dist', 'cli', 'main.js');
    // As nobody inside the namespace: binding the group needs CAP_NET_ADMIN.
    const api = run([...ns, ...NOBODY, process.execPath, '-e', apiScript({ nflog: [83] }, path.join(pub, 'dist', 'index.js'))]);
    expect(JSON.parse(api.stdout)).toEqual({
      code: 'EPERM',
      message: expect.stringMatching(/cannot bind NFLOG group 83: .*EPERM.*needs CAP_NET_ADMIN/),
    });
    const cli = run([...ns, ...NOBODY, process.execPath, CLI, '--nflog', '83']);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/cannot bind NFLOG group 83: .*needs CAP_NET_ADMIN/);
    // Conntrack needs it too.
    const ct = run([...ns, ...NOBODY, process.execPath, CLI, '--conntrack', 'new']);
    expect(ct.status).toBe(1);
    expect(ct.stderr).toMatch(/conntrack.*needs CAP_NET_ADMIN/);
    // Root without capabilities (a container without NET_ADMIN) is told the same, not "already bound".
    const root = run([...ns, ...ROOT_WITHOUT_CAPS, process.execPath, CLI, '--nflog', '83']);
    expect(root.status).toBe(1);
    expect(root.stderr).toMatch(/cannot bind NFLOG group 83: .*needs CAP_NET_ADMIN/);
    // Entering a namespace needs CAP_SYS_ADMIN.
    const netns = run([...NOBODY, process.execPath, CLI, '--nflog', '83', '--netns', lab.name('a')]);
    expect(netns.status).toBe(1);
    expect(netns.stderr).toMatch(/cannot enter network namespace .*needs CAP_SYS_ADMIN/);
    for (const r of [cli, ct, root, netns]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
