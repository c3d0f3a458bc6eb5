import { describe, expect, it } from 'vitest';
import { credentialFault, parseGroup, parsePasswd, parseTaskStatus, parseUserSpec, resolveIds } from '../../src/privileges';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
nfc:x:990:985::/var/lib/nfc:/usr/sbin/nologin
broken:x:abc:1
`;
const GROUP = `root:x:0:
nogroup:x:65534:
nfc:x:985:
adm:x:4:syslog,nfc
`;

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
Tgid:\t100
Uid:\t65534\t65534\t65534\t65534
Gid:\t65534\t65534\t65534\t65534
Groups:\t65534 
CapInh:\t0000000000000000
CapPrm:\t0000000000000000
CapEff:\t0000000000000000
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
`;

describe('user and group resolution', () => {
  it('reads passwd and group files, skipping what is malformed', () => {
    expect(parsePasswd(PASSWD)).toEqual([
      { name: 'root', uid: 0, gid: 0 },
      { name: 'nobody', uid: 65534, gid: 65534 },
      { name: 'nfc', uid: 990, gid: 985 },
    ]);
    expect(parseGroup(GROUP).map((g) => g.name)).toEqual(['root', 'nogroup', 'nfc', 'adm']);
  });

  it('parses USER and USER:GROUP, names or numbers', () => {
    expect(parseUserSpec('nobody')).toEqual({ user: 'nobody', group: undefined });
    expect(parseUserSpec('nfc:adm')).toEqual({ user: 'nfc', group: 'adm' });
    expect(parseUserSpec('990:985')).toEqual({ user: 990, group: 985 });
    expect(() => parseUserSpec('')).toThrow(/USER or USER:GROUP/);
    expect(() => parseUserSpec('nfc:')).toThrow(/USER or USER:GROUP/);
  });

  it('resolves a user to its primary group unless a group is given', () => {
    expect(resolveIds({ user: 'nfc' }, PASSWD, GROUP)).toEqual({ uid: 990, gid: 985 });
    expect(resolveIds({ user: 'nfc', group: 'adm' }, PASSWD, GROUP)).toEqual({ uid: 990, gid: 4 });
    expect(resolveIds({ user: 65534 }, PASSWD, GROUP)).toEqual({ uid: 65534, gid: 65534 });
    expect(resolveIds({ user: 12345, group: 54321 }, PASSWD, GROUP)).toEqual({ uid: 12345, gid: 54321 });
  });

  it('names what it cannot resolve', () => {
    expect(() => resolveIds({ user: 'nosuch' }, PASSWD, GROUP)).toThrow(/unknown user 'nosuch'/);
    expect(() => resolveIds({ user: 'nfc', group: 'nosuch' }, PASSWD, GROUP)).toThrow(/unknown group 'nosuch'/);
    expect(() => resolveIds({ user: 12345 }, PASSWD, GROUP)).toThrow(/uid 12345 has no entry .* give the group too/);
    expect(() => resolveIds({ user: -1 }, PASSWD, GROUP)).toThrow(/invalid uid/);
  });
});

describe('thread credentials', () => {
  it('parses a status file', () => {
    const task = parseTaskStatus(100, STATUS);
    expect(task).toEqual({
      tid: 100,
      uids: [65534, 65534, 65534, 65534],
      gids: [65534, 65534, 65534, 65534],
      groups: [65534],
      capInh: 0n,
      capPrm: 0n,
      capEff: 0n,
      capAmb: 0n,
    });
    expect(credentialFault(task, 65534, 65534)).toBeNull();
  });

  it('names the thread and what is left', () => {
    const root = parseTaskStatus(7, STATUS.replace(/Uid:.*\n/, 'Uid:\t0\t0\t0\t0\n'));
    expect(credentialFault(root, 65534, 65534)).toBe('thread 7 has uids 0,0,0,0');
    const capable = parseTaskStatus(8, STATUS.replace(/CapPrm:.*\n/, 'CapPrm:\t0000000000001000\n'));
    expect(credentialFault(capable, 65534, 65534)).toBe('thread 8 still has capabilities (CapPrm 1000)');
    const grouped = parseTaskStatus(9, STATUS.replace(/Groups:.*\n/, 'Groups:\t4 65534\n'));
    expect(credentialFault(grouped, 65534, 65534)).toBe('thread 9 has supplementary groups 4,65534');
    // A status without capability lines is not taken for "no capabilities".
    const unknown = parseTaskStatus(10, STATUS.replace(/CapEff:.*\n/, ''));
    expect(credentialFault(unknown, 65534, 65534)).toMatch(/thread 10 still has capabilities \(CapEff/);
  });
});
