// Options and command-line arguments: defaults, conntrack settings, and errors that name the option.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options';
import { parseArgs } from '../../src/cli/args';

describe('resolveOptions', () => {
  it('gives NFLOG groups the defaults', () => {
    const o = resolveOptions({ nflog: [1, { group: 2, label: 'dmz', qthreshold: 1 }] });
    expect(o.groups).toEqual([
      { group: 1, copyMode: 2, copyRange: 0xffff, qthreshold: 1024, flushTimeoutCs: 1, flags: 1 },
      { group: 2, copyMode: 2, copyRange: 0xffff, qthreshold: 1, flushTimeoutCs: 1, flags: 1 },
    ]);
    expect(o.labels.get(2)).toBe('dmz');
    expect(o.socketBuffer).toBe(256 * 1024 * 1024);
    expect(o.conntrack).toBeUndefined();
  });

  it('resolves conntrack options into the native ones', () => {
    const o = resolveOptions({
      conntrack: {
        events: ['new', 'destroy'],
        protocols: ['tcp', 'udp', 132],
        sources: ['10.0.0.0/8', '2001:db8::1'],
        mark: 5,
        dump: true,
        enableSysctls: true,
        zone: 3,
      },
    });
    expect(o.groups).toEqual([]);
    expect(o.conntrack?.native).toEqual({
      events: 5,
      dump: true,
      resyncOnOverflow: false,
      reliable: false,
      filter: {
        protocols: [6, 17, 132],
        // Parsed once here; the native reader and the arrival filter take the bytes.
        sources: [
          { bytes: Uint8Array.from([10, 0, 0, 0]), prefix: 8 },
          { bytes: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), prefix: 128 },
        ],
        destinations: [],
        mark: { value: 5, mask: 0xffffffff },
      },
      enableAccounting: true,
      enableTimestamps: true,
    });
    expect(o.conntrack?.zone).toBe(3);
    // Completed flows need DESTROY, and NEW for start times without kernel timestamps.
    expect(resolveOptions({ conntrack: { events: ['update'], completed: true } }).conntrack?.native.events).toBe(5);
  });

  it('says which option is wrong', () => {
    expect(() => resolveOptions({})).toThrow(/nothing to collect/);
    expect(() => resolveOptions({ nflog: [70000] })).toThrow(/nflog\[0\]\.group must be an integer from 0 to 65535/);
    expect(() => resolveOptions({ nflog: [1, 1] })).toThrow(/listed twice/);
    expect(() => resolveOptions({ nflog: 1, ringSize: 3 << 20 })).toThrow(/power of two/);
    expect(() => resolveOptions({ conntrack: { protocols: ['quic'] } })).toThrow(/protocol 'quic' is not known/);
    // A protocol number as text (the command line's --ct-proto 6) is that number.
    expect(resolveOptions({ conntrack: { protocols: ['6', 'udp', '132'] } }).conntrack?.native.filter.protocols).toEqual([6, 17, 132]);
    expect(() => resolveOptions({ conntrack: { protocols: ['256'] } })).toThrow(/protocol '256' is not known/);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '::1/129', 'not-an-address', '10.0.0/8', '10.0.0.0/08x', 42]) {
      expect(() => resolveOptions({ conntrack: { sources: [bad as string] } })).toThrow(/not an address or network/);
      expect(() => resolveOptions({ conntrack: { destinations: [bad as string] } })).toThrow(
        /conntrack.destinations: .* is not an address or network/,
      );
    }
    expect(() => resolveOptions({ conntrack: { events: [] } })).toThrow(/events is empty/);
  });
});

describe('parseArgs', () => {
  it('reads NFLOG and conntrack flags', () => {
    const a = parseArgs([
      '--nflog',
      '1,2',
      '--conntrack',
      'new,destroy',
      '--ct-proto',
      'tcp',
      '--ct-src',
      '10.0.0.0/8,192.0.2.1',
      '--ct-mark',
      '0x10/0xff',
      '--ct-completed',
      '--label',
      '2=dmz',
    ]);
    expect(a.nflog).toEqual([1, 2]);
    expect(a.labels.get(2)).toBe('dmz');
    expect(a.conntrack).toMatchObject({
      events: ['new', 'destroy'],
      protocols: ['tcp'],
      sources: ['10.0.0.0/8', '192.0.2.1'],
      mark: { value: 16, mask: 255 },
      completed: true,
    });
    expect(parseArgs(['--conntrack', 'all']).conntrack?.events).toEqual(['new', 'update', 'destroy']);
  });

  it('rejects what it does not understand', () => {
    expect(() => parseArgs(['--conntrack', 'open'])).toThrow(/'open' is not new, update, destroy or all/);
    expect(() => parseArgs(['--nflog', '1', '--ct-mark', 'x'])).toThrow(/--ct-mark needs VALUE/);
    expect(() => parseArgs(['--nflog', '1', '--format', 'xml'])).toThrow(/--format must be/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option '--bogus'/);
    expect(() => parseArgs([])).toThrow(/nothing to collect/);
  });

  it("checks the collector's own limits when parsing, naming the flag (a usage error, before anything opens)", () => {
    const cases: Array<[string[], RegExp]> = [
      [['--socket-buffer', '100'], /^--socket-buffer must be an integer from 4096 to 1073741824, got 100$/],
      [['--ring-size', '100000'], /^--ring-size must be a power of two, got 100000$/],
      [['--ring-size', '524288'], /^--ring-size \(524288\) must hold at least 4 datagrams/],
      [['--qthreshold', '70000'], /^--qthreshold must be an integer from 1 to 65535/],
      [['--copy-range', '70000'], /^--copy-range must be an integer from 0 to 65535/],
      [['--flush-timeout', '700000'], /^--flush-timeout must be an integer from 0 to 600000/],
      [['--conntrack', 'new', '--ct-proto', 'quic'], /^--ct-proto: protocol 'quic' is not known/],
      [['--conntrack', 'new', '--ct-src', '10.0.0.0/33'], /^--ct-src: '10.0.0.0\/33' is not an address or network/],
      [['--conntrack', 'new', '--ct-dst', 'gw'], /^--ct-dst: 'gw' is not an address or network/],
      [['--conntrack', 'new', '--ct-zone', '70000'], /^--ct-zone must be an integer from 0 to 65535/],
      [['--all-netns', '--netns-poll', '4000000'], /^--netns-poll must be an integer from 50 to 3600000/],
    ];
    for (const [flags, expected] of cases) expect(() => parseArgs(['--nflog', '1', ...flags])).toThrow(expected);
    expect(parseArgs(['--conntrack', 'new', '--ct-proto', '6,udp']).conntrack?.protocols).toEqual(['6', 'udp']);
    // A capture is decoded without a collector: its options are not checked.
    expect(parseArgs(['--read', 'x.pcap']).read).toBe('x.pcap');
  });
});
