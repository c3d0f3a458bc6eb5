// Waits until a process has bound an NFLOG group in a namespace (its line in
// /proc/net/netfilter/nfnetlink_log there), instead of sleeping a fixed time
// that a loaded machine may need more than.
import { execFileSync } from 'node:child_process';

/** True once `group` is bound in the namespace named `netns` ('' for this one); false after `timeoutMs`. */
export async function nflogGroupBound(netns: string, group: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const argv = netns
    ? ['ip', 'netns', 'exec', netns, 'cat', '/proc/net/netfilter/nfnetlink_log']
    : ['cat', '/proc/net/netfilter/nfnetlink_log'];
  while (Date.now() < deadline) {
    const table = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (table.split('\n').some((line) => Number(line.trim().split(/\s+/)[0]) === group)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** The group and namespace of a CLI argument list (`--nflog N … --netns NAME`), for nflogGroupBound. */
export function boundTarget(args: string[]): { netns: string; group: number } | null {
  const nflog = args.indexOf('--nflog');
  if (nflog < 0) return null;
  const netns = args.indexOf('--netns');
  return { group: Number(args[nflog + 1].split(',')[0]), netns: netns >= 0 ? args[netns + 1] : '' };
}
