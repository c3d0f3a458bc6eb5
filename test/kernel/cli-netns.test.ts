// The command with --all-netns (restricted to this test's namespaces by
// --netns-match): every namespace's packets, each line saying which; a
// namespace deleted during the run is detached with a note and the others go on.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const GROUP = 87;
const PORT = 8700;

describeKernel('the command across namespaces', () => {
  const { lab, binary } = useFloodLab('nfc-cns', 'cns', PORT, GROUP);

  it('--all-netns: lines say their namespace; a deleted namespace is detached, the others unaffected', async () => {
    for (const ns of ['b', 'c']) {
      lab.addNamespace(ns);
      lab.nft(
        ns,
        `table inet cns {
          chain out { type filter hook output priority 0; udp dport ${PORT} counter log group ${GROUP}; }
          chain in { type filter hook input priority 0; udp dport ${PORT} drop; }
        }`,
      );
    }
    const child = spawn(
      process.execPath,
      [CLI, '--nflog', String(GROUP), '--all-netns', '--netns-match', `${lab.name('')}*`, '--netns-poll', '100', '--format', 'log'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const until = async (predicate: () => boolean, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return predicate();
    };
    const lines = (ns: string) => stdout.split('\n').filter((l) => l.startsWith(`netns=${lab.name(ns)} IN=`)).length;
    try {
      expect(
        await until(() => ['a', 'b', 'c'].every((ns) => stderr.includes(`collecting in network namespace ${lab.name(ns)} (inode`))),
      ).toBe(true);
      await Promise.all(['a', 'b', 'c'].map((ns, i) => flood(lab, ns, binary(), PORT, 20 + i, 1000, 10, 4)));
      expect(await until(() => lines('a') === 20 && lines('b') === 21 && lines('c') === 22), stderr).toBe(true);

      expect(spawnSync('ip', ['netns', 'del', lab.name('b')]).status).toBe(0);
      expect(await until(() => stderr.includes(`no longer collecting in network namespace ${lab.name('b')}`))).toBe(true);
      await Promise.all(['a', 'c'].map((ns) => flood(lab, ns, binary(), PORT, 30, 1000, 10, 4)));
      expect(await until(() => lines('a') === 50 && lines('c') === 52), stderr).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(lines('b')).toBe(21);
      // Every line is a whole LOG line of one of them; nothing else on stdout, no error on stderr.
      expect(stdout.trim().split('\n').length).toBe(50 + 21 + 52);
      expect(stderr, stderr).not.toMatch(/cannot|lost|Error/);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, 90_000);
});
