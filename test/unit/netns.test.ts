// Many namespaces, the parts that need no kernel: which namespaces a directory
// holds, the options, the CLI flags, and how records and lines say their namespace.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args';
import { gapMessage, openFormat } from '../../src/cli/formats';
import { netnsPrefix } from '../../src/format/registry';
import { namespaceNote } from '../../src/cli/source';
import { DatagramDecoder } from '../../src/datagram';
import { EcsPacketLines } from '../../src/ecs/packet-json';
import { packetToEcs } from '../../src/ecs/packet';
import { flowToEcs } from '../../src/ecs/flow';
import { flowToEcsJson } from '../../src/ecs/flow-json';
import { gapToEcs } from '../../src/ecs/gap';
import { findNamespaces } from '../../src/netns/find';
import { globToRegExp, resolveOptions } from '../../src/options';
import type { FlowRecord, GapRecord, PacketRecord } from '../../src/records';
import { decodeFixture } from '../helpers/fixtures';

const A = { name: 'tenant-a', inode: 4026532001 };
/** Plain files stand in for namespace files here. */
const anyFile = () => true;
const B = { name: 'tenant-b', inode: 4026532002 };

function packets(netns?: { name: string; inode: number }): PacketRecord[] {
  return decodeFixture('nflog-inbound.json', new DatagramDecoder({ netns })).filter((r): r is PacketRecord => r.kind === 'packet');
}

describe('which namespaces exist', () => {
  it('lists the names under a directory that match, each inode once, never the ones to skip', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-netns-'));
    try {
      for (const name of ['tenant-a', 'tenant-b', 'other']) fs.writeFileSync(path.join(dir, name), '');
      fs.linkSync(path.join(dir, 'tenant-a'), path.join(dir, 'tenant-a2')); // the same inode under a second name
      const inode = (name: string) => fs.statSync(path.join(dir, name)).ino;
      const options = { dir, match: globToRegExp('tenant-*'), processes: false, pollMs: 1000 };
      expect(findNamespaces(options, new Set(), anyFile)).toEqual([
        { name: 'tenant-a', path: path.join(dir, 'tenant-a'), inode: inode('tenant-a') },
        { name: 'tenant-b', path: path.join(dir, 'tenant-b'), inode: inode('tenant-b') },
      ]);
      expect(findNamespaces(options, new Set([inode('tenant-b')]), anyFile).map((n) => n.name)).toEqual(['tenant-a']);
      expect(findNamespaces({ ...options, match: undefined }, new Set(), anyFile).map((n) => n.name)).toEqual([
        'other',
        'tenant-a',
        'tenant-b',
      ]);
      expect(findNamespaces({ ...options, dir: path.join(dir, 'missing') }, new Set(), anyFile)).toEqual([]);
      // By default only namespace files (nsfs) count: a plain file is a name `ip netns add` has not mounted yet.
      expect(findNamespaces(options, new Set())).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds process namespaces by inode, named net:[INODE], one per namespace', () => {
    const own = fs.statSync('/proc/self/ns/net').ino;
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-netns-'));
    try {
      const found = findNamespaces({ dir: empty, match: undefined, processes: true, pollMs: 1000 }, new Set([own]));
      expect(found.find((n) => n.inode === own)).toBeUndefined();
      expect(new Set(found.map((n) => n.inode)).size).toBe(found.length);
      for (const n of found) expect(n).toMatchObject({ name: `net:[${n.inode}]`, path: expect.stringMatching(/^\/proc\/\d+\/ns\/net$/) });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads globs as globs', () => {
    expect(globToRegExp('tenant-*').test('tenant-42')).toBe(true);
    expect(globToRegExp('tenant-*').test('xtenant-42')).toBe(false);
    expect(globToRegExp('vrf?.x').test('vrf1.x')).toBe(true);
    expect(globToRegExp('vrf?.x').test('vrf1yx')).toBe(false);
    expect(globToRegExp('a+(b)').test('a+(b)')).toBe(true);
  });
});

describe('namespace options', () => {
  it('takes one name, a list, or every namespace', () => {
    expect(resolveOptions({ nflog: 1 }).netns).toEqual(['']);
    expect(resolveOptions({ nflog: 1, netns: 'a' }).netns).toEqual(['a']);
    expect(resolveOptions({ nflog: 1, netns: ['a', '/proc/1/ns/net'] }).netns).toEqual(['a', '/proc/1/ns/net']);
    const all = resolveOptions({ nflog: 1, allNetns: { match: 'vrf-*' } });
    expect(all.netns).toEqual([]);
    expect(all.allNetns).toMatchObject({ dir: '/run/netns', processes: false, pollMs: 1000 });
    expect(all.allNetns?.match?.test('vrf-blue')).toBe(true);
  });

  it('refuses what cannot be a namespace, and a name twice', () => {
    expect(() => resolveOptions({ nflog: 1, netns: '' })).toThrow(/option netns must be namespace names or paths/);
    expect(() => resolveOptions({ nflog: 1, netns: ['a', 'a'] })).toThrow(/namespace a is listed twice/);
    expect(() => resolveOptions({ nflog: 1, allNetns: { pollMs: 1 } })).toThrow(/allNetns.pollMs must be an integer from 50/);
    expect(() => resolveOptions({ nflog: 1, allNetns: { match: '' } })).toThrow(/allNetns.match must be a glob/);
  });

  it('CLI: --netns takes a list, --all-netns its companions, which need it', () => {
    expect(parseArgs(['--nflog', '1', '--netns', 'a,b', '--netns', 'c']).netns).toEqual(['a', 'b', 'c']);
    expect(
      parseArgs(['--nflog', '1', '--all-netns', '--netns-match', 't-*', '--netns-dir', '/x', '--netns-processes', '--netns-poll', '200'])
        .netnsWatch,
    ).toEqual({
      match: 't-*',
      dir: '/x',
      processes: true,
      pollMs: 200,
    });
    expect(() => parseArgs(['--nflog', '1', '--netns-match', 't-*'])).toThrow(/--netns-match goes with --all-netns/);
    expect(() => parseArgs(['--nflog', '1', '--netns-poll', '100'])).toThrow(/--netns-poll goes with --all-netns/);
    expect(() => parseArgs(['--nflog', '1', '--log-netns', 'prefix'])).toThrow(/--log-netns applies to --format log and logemu/);
    expect(() => parseArgs(['--nflog', '1', '--format', 'log', '--log-netns', 'hostname'])).toThrow(/applies to --format logemu/);
    expect(parseArgs(['--nflog', '1', '--format', 'logemu', '--log-netns', 'hostname']).logNetns).toBe('hostname');
  });

  it('says when a namespace comes, goes or cannot be read', () => {
    expect(namespaceNote({ change: 'attached', ...A })).toBe(
      'netfilter-collector: collecting in network namespace tenant-a (inode 4026532001)',
    );
    expect(namespaceNote({ change: 'detached', ...A, reason: 'the namespace is gone' })).toBe(
      'netfilter-collector: no longer collecting in network namespace tenant-a (inode 4026532001): the namespace is gone',
    );
    expect(namespaceNote({ change: 'failed', name: 'x', inode: 0, reason: 'EPERM' })).toBe(
      'netfilter-collector: cannot collect in network namespace x: EPERM',
    );
  });
});

describe('records and documents say their namespace', () => {
  it('the decoder puts the same label on every record; none without one', () => {
    for (const p of packets(A)) expect(p.netns).toBe(A);
    for (const p of packets()) expect(p.netns).toBeUndefined();
  });

  it('ECS: netfilter.netns.name and .inode, in the object and the JSON writer alike, never from a cached shape of another namespace', () => {
    const [a] = packets(A);
    const [b] = packets(B);
    const [none] = packets();
    expect(packetToEcs(a).netfilter.netns).toEqual(A);
    expect(packetToEcs(none).netfilter.netns).toBeUndefined();
    const lines = new EcsPacketLines();
    // Same packet, three namespaces, one after the other: the JSON writer caches shapes.
    for (const [record, netns] of [
      [a, A],
      [b, B],
      [none, undefined],
      [a, A],
    ] as const) {
      const doc = JSON.parse(lines.line(record));
      expect(doc.netfilter.netns).toEqual(netns);
      expect(doc).toEqual(JSON.parse(JSON.stringify(packetToEcs(record))));
    }
  });

  it('ECS flows and gaps too', () => {
    const flows = decodeFixture('conntrack-gateway.json', new DatagramDecoder({ netns: A })).filter(
      (r): r is FlowRecord => r.kind === 'flow',
    );
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) {
      expect(flowToEcs(f).netfilter.netns).toEqual(A);
      expect(JSON.parse(flowToEcsJson(f)).netfilter.netns).toEqual(A);
    }
    const gap: GapRecord = { kind: 'gap', source: 'nflog', reason: 'sequence', count: 3, timestampUs: 1e15, group: 1, netns: B };
    expect((gapToEcs(gap).netfilter as { netns: unknown }).netns).toEqual(B);
    expect(gapMessage(gap)).toBe('netfilter-collector: lost 3 events (nflog group 1 in netns tenant-b, sequence)');
  });

  it('LOG lines start with netns=NAME; LOGEMU names the namespace as the host, or as a prefix', () => {
    const [a] = packets(A);
    const [none] = packets();
    const base = { labels: new Map<number, string>(), logFlags: [] };
    const log = openFormat({ ...base, format: 'log', manyNetns: true }, () => undefined).format;
    // One namespace: the kernel's line as it is, unless asked for.
    expect(openFormat({ ...base, format: 'log' }, () => undefined).format(a)).toBe(log(none));
    expect(openFormat({ ...base, format: 'log', logNetns: 'prefix' }, () => undefined).format(a)).toBe(log(a));
    expect(log(a)).toBe(netnsPrefix('tenant-a') + log(none));
    expect(netnsPrefix('a b')).toBe('netns=a_b ');
    expect(openFormat({ ...base, format: 'log', logNetns: 'none' }, () => undefined).format(a)).toBe(log(none));
    const emu = openFormat({ ...base, format: 'logemu', logemuHostname: 'gw', manyNetns: true }, () => undefined).format;
    const plain = emu(none) as string;
    expect(plain).toMatch(/^\w{3} [ \d]\d \d\d:\d\d:\d\d gw /);
    expect(emu(a)).toBe(plain.replace(' gw ', ' tenant-a '));
    const emuPrefix = openFormat({ ...base, format: 'logemu', logemuHostname: 'gw', logNetns: 'prefix' }, () => undefined).format;
    expect(emuPrefix(a)).toBe(plain.replace(' gw ', ' gw netns=tenant-a '));
  });
});
