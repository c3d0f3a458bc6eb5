// Least privilege: once the collector's sockets are open and bound, the
// process can give up root. Open sockets keep working (the kernel checked
// the capability when they were configured); new binds, subscriptions and
// table dumps need CAP_NET_ADMIN again and fail.
//
// Dropping is setgroups, setgid, setuid — in that order, while still root.
// glibc applies each to every thread of the process (including the addon's
// reader thread), and the kernel clears every capability of a thread whose
// uids all leave 0. dropPrivileges() then reads /proc/self/task/*/status and
// throws unless every thread runs as the new user with no capability left.
import * as fs from 'node:fs';

export interface DropPrivilegesOptions {
  /** User name or uid to become. */
  user: string | number;
  /** Group name or gid; default the user's primary group (from /etc/passwd). */
  group?: string | number;
}

export interface DroppedPrivileges {
  uid: number;
  gid: number;
  /** Threads checked (each runs as uid/gid with no capability). */
  threads: number;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

/** One thread's credentials from /proc/PID/task/TID/status. */
export interface TaskCredentials {
  tid: number;
  /** Real, effective, saved and filesystem ids. */
  uids: number[];
  gids: number[];
  groups: number[];
  /** Capability sets as bit masks. */
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capAmb: bigint;
}

const PASSWD = '/etc/passwd';
const GROUP = '/etc/group';

function isId(value: string): boolean {
  return /^\d+$/.test(value) && Number(value) <= 0xfffffffe;
}

/** Lines of /etc/passwd (name:x:uid:gid:...); malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0] === '' || !isId(f[2]) || !isId(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

/** Lines of /etc/group (name:x:gid:members); malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !isId(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]) });
  }
  return out;
}

/** "USER" or "USER:GROUP" (the CLI's form) as options. */
export function parseUserSpec(spec: string): DropPrivilegesOptions {
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  if (user === '' || group === '') throw new RangeError(`netfilter-collector: expected USER or USER:GROUP, got '${spec}'`);
  return { user: isId(user) ? Number(user) : user, group: group === undefined ? undefined : isId(group) ? Number(group) : group };
}

function readOrEmpty(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The uid and gid to become. A numeric user needs no passwd entry, but then
 * the group must be given. Throws a RangeError naming what is unknown.
 */
export function resolveIds(
  options: DropPrivilegesOptions,
  passwdText = readOrEmpty(PASSWD),
  groupText = readOrEmpty(GROUP),
): { uid: number; gid: number } {
  const { user, group } = options;
  let uid: number;
  let primaryGid: number | undefined;
  if (typeof user === 'number') {
    if (!Number.isInteger(user) || user < 0 || user > 0xfffffffe) throw new RangeError(`netfilter-collector: invalid uid ${user}`);
    uid = user;
    primaryGid = parsePasswd(passwdText).find((e) => e.uid === user)?.gid;
  } else {
    const entry = parsePasswd(passwdText).find((e) => e.name === user);
    if (!entry) throw new RangeError(`netfilter-collector: unknown user '${user}' (not in ${PASSWD})`);
    uid = entry.uid;
    primaryGid = entry.gid;
  }
  let gid: number;
  if (group === undefined) {
    if (primaryGid === undefined) {
      throw new RangeError(`netfilter-collector: uid ${uid} has no entry in ${PASSWD}: give the group too (USER:GROUP)`);
    }
    gid = primaryGid;
  } else if (typeof group === 'number') {
    if (!Number.isInteger(group) || group < 0 || group > 0xfffffffe) throw new RangeError(`netfilter-collector: invalid gid ${group}`);
    gid = group;
  } else {
    const entry = parseGroup(groupText).find((e) => e.name === group);
    if (!entry) throw new RangeError(`netfilter-collector: unknown group '${group}' (not in ${GROUP})`);
    gid = entry.gid;
  }
  return { uid, gid };
}

function ids(line: string | undefined): number[] {
  return line ? line.trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

function mask(line: string | undefined): bigint {
  return line && /^[0-9a-f]+$/i.test(line.trim()) ? BigInt(`0x${line.trim()}`) : -1n;
}

/** Credentials from the text of a status file. Missing capability lines read as -1 (unknown). */
export function parseTaskStatus(tid: number, text: string): TaskCredentials {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return {
    tid,
    uids: ids(fields.get('Uid')),
    gids: ids(fields.get('Gid')),
    groups: ids(fields.get('Groups')),
    capInh: mask(fields.get('CapInh')),
    capPrm: mask(fields.get('CapPrm')),
    capEff: mask(fields.get('CapEff')),
    capAmb: mask(fields.get('CapAmb')),
  };
}

/** Every thread of a process (default this one) with its credentials; threads that end meanwhile are left out. */
export function taskCredentials(pid: number | 'self' = 'self'): TaskCredentials[] {
  const dir = `/proc/${pid}/task`;
  const out: TaskCredentials[] = [];
  for (const name of fs.readdirSync(dir)) {
    let text: string;
    try {
      text = fs.readFileSync(`${dir}/${name}/status`, 'utf8');
    } catch {
      continue;
    }
    out.push(parseTaskStatus(Number(name), text));
  }
  return out;
}

/** Why a thread does not run as uid/gid without capabilities; null when it does. */
export function credentialFault(task: TaskCredentials, uid: number, gid: number): string | null {
  if (task.uids.length !== 4 || task.uids.some((id) => id !== uid)) return `thread ${task.tid} has uids ${task.uids.join(',')}`;
  if (task.gids.length !== 4 || task.gids.some((id) => id !== gid)) return `thread ${task.tid} has gids ${task.gids.join(',')}`;
  if (task.groups.some((id) => id !== gid)) return `thread ${task.tid} has supplementary groups ${task.groups.join(',')}`;
  for (const [set, value] of [
    ['CapPrm', task.capPrm],
    ['CapEff', task.capEff],
    ['CapAmb', task.capAmb],
  ] as const) {
    if (value !== 0n) return `thread ${task.tid} still has capabilities (${set} ${value.toString(16)})`;
  }
  return null;
}

/**
 * Becomes `user` (and `group`) for good: supplementary groups reduced to the
 * one group, then gid, then uid. Call it from the main thread once the
 * collectors are created. Needs root (CAP_SETUID and CAP_SETGID); throws,
 * naming the reason, when it cannot drop or when afterwards any thread still
 * runs with other ids or any capability.
 */
export function dropPrivileges(options: DropPrivilegesOptions): DroppedPrivileges {
  const { uid, gid } = resolveIds(options);
  const startedAsRoot = process.geteuid?.() === 0;
  if (!process.setuid || !process.setgid || !process.setgroups) {
    throw new Error('netfilter-collector: cannot drop privileges here (call dropPrivileges from the main thread on Linux)');
  }
  try {
    process.setgroups([gid]);
    process.setgid(gid);
    process.setuid(uid);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EPERM' ? ': dropping privileges needs root (CAP_SETUID and CAP_SETGID)' : '';
    throw new Error(`netfilter-collector: cannot switch to uid ${uid}, gid ${gid}: ${e.message}${hint}`);
  }
  const tasks = taskCredentials();
  for (const task of tasks) {
    const fault = credentialFault(task, uid, gid);
    if (fault) {
      // The kernel clears capabilities on setuid only when the uids leave 0:
      // a process started as another user with capabilities (ambient, file
      // capabilities) keeps them. That is no drop, so say so.
      const hint = startedAsRoot
        ? ''
        : ': a process started as another user than root keeps its capabilities (ambient or file capabilities) across setuid; ' +
          'start as root (with a reduced capability bounding set) to drop them all, or leave out the drop';
      throw new Error(`netfilter-collector: privileges not fully dropped: ${fault}${hint}`);
    }
  }
  return { uid, gid, threads: tasks.length };
}
