// Which network namespaces exist: the names under a directory (where
// `ip netns add` puts them) and, optionally, the namespaces of running
// processes. A namespace's identity is its inode: two names or a hundred
// processes in one namespace are one namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedAllNetns } from '../options';

export interface FoundNamespace {
  /** What records say: the name under the directory, or net:[INODE] for a process's namespace. */
  name: string;
  /** What to open. */
  path: string;
  inode: number;
}

/** The inode of a namespace file, or 0 when it cannot be read (gone, not permitted). */
export function namespaceInode(file: string): number {
  try {
    return fs.statSync(file).ino;
  } catch {
    return 0;
  }
}

/** The device of namespace files (nsfs): what a name under /run/netns shows once `ip netns add` has mounted it. */
function nsfsDevice(): number {
  try {
    return fs.statSync('/proc/self/ns/net').dev;
  } catch {
    return -1;
  }
}

/**
 * Whether a file is a namespace yet. `ip netns add` creates an empty file, then bind-mounts the
 * namespace on it: caught in between, the file is no namespace (and its inode is not the namespace's).
 */
export type IsNamespaceFile = (st: fs.Stats) => boolean;

const onNsfs: IsNamespaceFile = (st) => st.dev === nsfsDevice();

/** Named namespaces first (sorted by name), then other processes' namespaces; none twice, never `skipInodes`. */
export function findNamespaces(
  options: ResolvedAllNetns,
  skipInodes: ReadonlySet<number>,
  isNamespace: IsNamespaceFile = onNsfs,
): FoundNamespace[] {
  const found: FoundNamespace[] = [];
  const seen = new Set(skipInodes);
  let names: string[] = [];
  try {
    names = fs.readdirSync(options.dir).sort();
  } catch {
    // No directory yet: `ip netns add` creates it with the first namespace.
  }
  for (const name of names) {
    const matches = !options.match || options.match.test(name);
    // Without process namespaces, names left out by the glob are not even looked at.
    if (!matches && !options.processes) continue;
    const file = path.join(options.dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      continue;
    }
    if (!isNamespace(st)) continue; // being made: the next look sees it
    const inode = st.ino;
    if (seen.has(inode)) continue;
    seen.add(inode);
    // A name left out by the glob also leaves out the processes inside it.
    if (!matches) continue;
    // A bare name is how the reader opens /run/netns/NAME; anything else goes by path.
    found.push({ name, path: options.dir === '/run/netns' ? name : file, inode });
  }
  if (!options.processes) return found;
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return found;
  }
  for (const pid of pids) {
    const file = `/proc/${pid}/ns/net`;
    const inode = namespaceInode(file);
    if (inode === 0 || seen.has(inode)) continue;
    seen.add(inode);
    found.push({ name: `net:[${inode}]`, path: file, inode });
  }
  return found;
}
