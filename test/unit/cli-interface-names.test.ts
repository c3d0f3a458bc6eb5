// Interface names for captures read offline: --interface-names and
// --interface-names-file, and how every format shows an index with and
// without a name (tcpdump's nflog_print.pcap: indexes 10 and 6).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseArgs } from '../../src/cli/args';
import { invalidInterfaceName, parseInterfaceNames, parseInterfaceNamesFile } from '../../src/cli/interface-names';
import { runCollection } from '../../src/cli/run';

const CAPTURE = path.resolve(__dirname, '../fixtures/peers/tcpdump/nflog_print.pcap');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc17-ifnames-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('parsing', () => {
  it('INDEX=NAME lists', () => {
    expect([...parseInterfaceNames('2=eth0,10=wlan0')]).toEqual([
      [2, 'eth0'],
      [10, 'wlan0'],
    ]);
    expect([...parseInterfaceNames(' 3 = br-lan , ')]).toEqual([[3, 'br-lan']]);
    expect(() => parseInterfaceNames('eth0')).toThrow("'eth0' is not INDEX=NAME");
    expect(() => parseInterfaceNames('0=lo')).toThrow("'0' is not an interface index");
    expect(() => parseInterfaceNames('x=lo')).toThrow("'x' is not an interface index");
    expect(() => parseInterfaceNames('2=eth0,2=eth1')).toThrow("index 2 is both 'eth0' and 'eth1'");
    expect(() => parseInterfaceNames('2=')).toThrow('an empty name');
  });

  it("names as the kernel's dev_valid_name() accepts them", () => {
    expect(invalidInterfaceName('wlp0s20f3')).toBeNull();
    expect(invalidInterfaceName('a'.repeat(15))).toBeNull();
    expect(invalidInterfaceName('a'.repeat(16))).toMatch(/longer than 15 bytes/);
    expect(invalidInterfaceName('..')).not.toBeNull();
    expect(invalidInterfaceName('eth0:1')).not.toBeNull();
    expect(invalidInterfaceName('a/b')).not.toBeNull();
  });

  it("files: INDEX=NAME, INDEX NAME, comments, and what 'ip link' / 'ip -o link' print", () => {
    const ipLink = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000',
      '    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff',
      '5: eth0.10@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff',
      '# by hand',
      '6 wan0',
      '7=wg0   # a tunnel',
      '',
    ].join('\n');
    expect([...parseInterfaceNamesFile(ipLink, 'names')]).toEqual([
      [1, 'lo'],
      [2, 'eth0'],
      [5, 'eth0.10'],
      [6, 'wan0'],
      [7, 'wg0'],
    ]);
    expect(() => parseInterfaceNamesFile('2=eth0\nnonsense here too\n', 'names')).toThrow("names:2: 'nonsense here too' is not INDEX=NAME");
  });

  it('the options: with --read only, list and file merged, errors say which', () => {
    const file = path.join(work, 'names');
    fs.writeFileSync(file, '10 wlan0\n');
    const args = parseArgs(['--read', CAPTURE, '--interface-names', '6=eth0', '--interface-names-file', file]);
    expect([...args.interfaceNames!]).toEqual([
      [6, 'eth0'],
      [10, 'wlan0'],
    ]);
    expect(() => parseArgs(['--nflog', '1', '--interface-names', '6=eth0'])).toThrow(/names the interfaces of a capture \(--read\)/);
    expect(() => parseArgs(['--read', CAPTURE, '--interface-names-file', path.join(work, 'absent')])).toThrow(
      /cannot read .*absent: no such file/,
    );
    expect(() => parseArgs(['--read', CAPTURE, '--interface-names', '6=eth0', '--interface-names', '6=eth1'])).toThrow(/index 6 is both/);
  });
});

/** The lines `--read CAPTURE --format FORMAT [extra]` writes. */
async function lines(format: string, extra: string[] = []): Promise<string[]> {
  const out = path.join(work, `out-${format}-${extra.length}`);
  fs.rmSync(out, { force: true });
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await runCollection(parseArgs(['--read', CAPTURE, '--format', format, '--output', out, ...extra]))).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return fs.readFileSync(out, 'utf8').trimEnd().split('\n');
}

const NAMES = ['--interface-names', '6=eth0,10=wlan0'];

describe('every format uses the names; an index without one is said', () => {
  it('log: IN=/OUT= carry the name, or #INDEX without one (never an empty field for a known device)', async () => {
    const named = await lines('log', NAMES);
    expect(named.map((l) => /IN=\S* OUT=\S* /.exec(l)![0])).toEqual(['IN= OUT=wlan0 ', 'IN=wlan0 OUT= ', 'IN= OUT=eth0 ', 'IN=eth0 OUT= ']);
    expect(named[0].startsWith('out-icmpIN= OUT=wlan0 SRC=10.52.210.96 DST=10.52.210.1 LEN=84 ')).toBe(true);
    const unnamed = await lines('log');
    expect(unnamed.map((l) => /IN=\S* OUT=\S* /.exec(l)![0])).toEqual(['IN= OUT=#10 ', 'IN=#10 OUT= ', 'IN= OUT=#6 ', 'IN=#6 OUT= ']);
  });

  it('logemu: the same', async () => {
    expect((await lines('logemu', [...NAMES, '--logemu-hostname', 'gw'])).map((l) => /IN=\S* OUT=\S* /.exec(l)![0])).toEqual([
      'IN= OUT=wlan0 ',
      'IN=wlan0 OUT= ',
      'IN= OUT=eth0 ',
      'IN=eth0 OUT= ',
    ]);
    expect((await lines('logemu', ['--logemu-hostname', 'gw'])).map((l) => /IN=\S* OUT=\S* /.exec(l)![0])).toEqual([
      'IN= OUT=#10 ',
      'IN=#10 OUT= ',
      'IN= OUT=#6 ',
      'IN=#6 OUT= ',
    ]);
  });

  it('ecs: observer.ingress/egress.interface has the name and the id, the id alone without a name', async () => {
    const named = (await lines('ecs', NAMES)).map((l) => JSON.parse(l).observer);
    expect(named[0].egress).toEqual({ interface: { name: 'wlan0', id: '10' } });
    expect(named[1].ingress).toEqual({ interface: { name: 'wlan0', id: '10' } });
    expect(named[3].ingress).toEqual({ interface: { name: 'eth0', id: '6' } });
    const unnamed = (await lines('ecs')).map((l) => JSON.parse(l).observer);
    expect(unnamed[0].egress).toEqual({ interface: { id: '10' } });
    expect(unnamed[0].ingress).toBeUndefined();
    expect(unnamed[3].ingress).toEqual({ interface: { id: '6' } });
  });

  it('ulogd: oob.in/oob.out have the name; oob.ifindex_* the index either way', async () => {
    const named = (await lines('ulogd', NAMES)).map((l) => JSON.parse(l));
    expect(named.map((d) => [d['oob.in'], d['oob.out'], d['oob.ifindex_in'], d['oob.ifindex_out']])).toEqual([
      ['', 'wlan0', undefined, 10],
      ['wlan0', '', 10, undefined],
      ['', 'eth0', undefined, 6],
      ['eth0', '', 6, undefined],
    ]);
    const unnamed = (await lines('ulogd')).map((l) => JSON.parse(l));
    expect(unnamed[0]['oob.ifindex_out']).toBe(10);
    expect(unnamed[0]['oob.out']).toBe('');
  });

  it('record: inInterface/outInterface', async () => {
    const named = (await lines('record', NAMES)).map((l) => JSON.parse(l));
    expect(named.map((r) => [r.inInterface, r.outInterface])).toEqual([
      [undefined, 'wlan0'],
      ['wlan0', undefined],
      [undefined, 'eth0'],
      ['eth0', undefined],
    ]);
    expect((await lines('record')).map((l) => JSON.parse(l).outInterface)).toEqual([undefined, undefined, undefined, undefined]);
  });
});
