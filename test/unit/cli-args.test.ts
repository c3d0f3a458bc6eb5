// The CLI's output, capture and privilege options: what they accept, what they refuse and why.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { HELP, OUTPUT_FORMATS, parseArgs } from '../../src/cli/args';
import { runCollection } from '../../src/cli/run';
import { ProgressLine } from '../../src/cli/progress';

describe('parseArgs: formats, outputs and captures', () => {
  it('takes every format and the kernel log flags', () => {
    // ipfix exports conntrack flows only (test/unit/ipfix/cli-args.test.ts).
    for (const format of OUTPUT_FORMATS.filter((f) => f !== 'ipfix'))
      expect(parseArgs(['--nflog', '1', '--format', format]).format).toBe(format);
    expect(parseArgs(['--nflog', '1', '--format', 'log', '--log-flags', 'tcpseq,uid']).logFlags).toEqual(['tcpseq', 'uid']);
    expect(parseArgs(['--nflog', '1', '--format', 'log', '--log-flags', 'all']).logFlags).toEqual([
      'tcpseq',
      'tcpopt',
      'ipopt',
      'uid',
      'macdecode',
    ]);
    expect(() => parseArgs(['--nflog', '1', '--format', 'logemu', '--log-flags', 'all'])).toThrow(/LOGEMU line has no flags/);
    expect(parseArgs(['--nflog', '1', '--format', 'logemu', '--logemu-hostname', 'gw1']).logemuHostname).toBe('gw1');
    expect(() => parseArgs(['--nflog', '1', '--logemu-hostname', 'gw1'])).toThrow(/applies to --format logemu/);
    expect(() => parseArgs(['--nflog', '1', '--format', 'log', '--log-flags', 'seq'])).toThrow(/'seq' is not one of tcpseq/);
    expect(() => parseArgs(['--nflog', '1', '--log-flags', 'uid'])).toThrow(/--log-flags applies to --format log/);
    expect(() => parseArgs(['--conntrack', 'new', '--format', 'log'])).toThrow(/renders packets only/);
  });

  it('leaves the output unset unless given, and takes socket targets as text', () => {
    expect(parseArgs(['--nflog', '1']).output).toBeUndefined();
    expect(parseArgs(['--nflog', '1', '--output', 'tcp:[::1]:5140', '--output-queue', '4096'])).toMatchObject({
      output: 'tcp:[::1]:5140',
      outputQueue: 4096,
    });
    expect(() => parseArgs(['--nflog', '1', '--output-queue', '10'])).toThrow(/--output-queue must be an integer ≥ 1024/);
  });

  it('reads a capture without collecting, and refuses live-only options with it', () => {
    expect(parseArgs(['--read', 'x.pcap', '--format', 'log'])).toMatchObject({ read: 'x.pcap', nflog: [] });
    expect(() => parseArgs(['--read', 'x.pcap', '--nflog', '1'])).toThrow(/does not take --nflog/);
    expect(() => parseArgs(['--read', 'x.pcap', '--netns', 'r'])).toThrow(/--netns, --all-netns and --user are for live collection/);
  });

  it('writes pcap only of NFLOG groups', () => {
    expect(parseArgs(['--nflog', '3', '--write-pcap', 'out.pcap']).writePcap).toBe('out.pcap');
    expect(() => parseArgs(['--conntrack', 'new', '--write-pcap', 'out.pcap'])).toThrow(/give --nflog GROUPS too/);
  });

  it('takes a progress interval and a user to drop to', () => {
    expect(parseArgs(['--nflog', '1', '--stats-interval', '0.5']).statsInterval).toBe(0.5);
    expect(parseArgs(['--nflog', '1', '--stats-interval', '0']).statsInterval).toBe(0);
    expect(() => parseArgs(['--nflog', '1', '--stats-interval', '-1'])).toThrow(/--stats-interval needs seconds/);
    expect(parseArgs(['--nflog', '1', '--user', 'nobody:nogroup']).user).toBe('nobody:nogroup');
    expect(() => parseArgs(['--nflog', '1', '--user', ':x'])).toThrow(/--user needs USER/);
  });

  it('documents every option it parses', () => {
    for (const option of [
      '--format',
      '--log-flags',
      '--output',
      '--output-queue',
      '--read',
      '--write-pcap',
      '--stats-interval',
      '--user',
      'demo',
      '--logemu-hostname',
    ]) {
      expect(HELP).toContain(option);
    }
    for (const format of OUTPUT_FORMATS) expect(HELP).toContain(`${format}:`);
  });
});

describe('ProgressLine', () => {
  it('gives the rate since the previous line, totals, loss and queues', () => {
    const progress = new ProgressLine(1_000);
    const counters = { events: 5000, lost: 0, lossUncounted: false, outputDropped: 0, outputQueued: 0, ringPending: 2048 };
    expect(progress.line(3_000, counters)).toBe(
      'netfilter-collector: 2s 2500 events/s, 5000 total, lost 0 (+0), output dropped 0, queued 0 B, ring 2.0 KiB',
    );
    const later = { events: 2_005_000, lost: 12, lossUncounted: true, outputDropped: 3, outputQueued: 3 * 1024 * 1024, ringPending: 0 };
    expect(progress.line(4_000, later)).toBe(
      'netfilter-collector: 3s 2.0M events/s, 2.0M total, lost 12+ (+12), output dropped 3, queued 3.0 MiB, ring 0 B',
    );
  });
});

describe('parseArgs: syslog and TLS outputs', () => {
  it('takes the syslog header, framing and size options with a syslog output', () => {
    const args = parseArgs([
      '--nflog',
      '1',
      '--output',
      'syslog:tcp:logs',
      '--syslog-protocol',
      'rfc5424',
      '--syslog-facility',
      'local3',
      '--syslog-severity',
      'info',
      '--syslog-hostname',
      'gw1',
      '--syslog-app-name',
      'nfc',
      '--syslog-framing',
      'lf',
    ]);
    expect(args.syslog).toEqual({ protocol: 'rfc5424', facility: 19, severity: 6, hostname: 'gw1', appName: 'nfc', framing: 'lf' });
    expect(parseArgs(['--nflog', '1', '--output', 'syslog:udp:logs', '--syslog-max-size', '2048']).syslog).toEqual({
      maxMessageBytes: 2048,
    });
  });

  it('refuses syslog and TLS options that do not fit the output', () => {
    expect(() => parseArgs(['--nflog', '1', '--syslog-facility', 'kern'])).toThrow(/apply to a syslog output/);
    expect(() => parseArgs(['--nflog', '1', '--output', 'syslog', '--syslog-framing', 'lf'])).toThrow(/tcp or tls/);
    expect(() => parseArgs(['--nflog', '1', '--output', 'syslog:tcp:h', '--syslog-max-size', '1024'])).toThrow(/udp or unix/);
    expect(() => parseArgs(['--nflog', '1', '--output', 'syslog', '--syslog-facility', 'lokal0'])).toThrow(
      /--syslog-facility: syslog facility 'lokal0'/,
    );
    expect(() => parseArgs(['--nflog', '1', '--output', 'syslog', '--syslog-hostname', 'a b'])).toThrow(
      /--syslog-hostname must be printable/,
    );
    expect(() => parseArgs(['--nflog', '1', '--output', 'tcp:h:1', '--tls-ca', '/x'])).toThrow(/apply to a TLS output/);
    // Rotation by size: a file output's, with its figures checked.
    expect(parseArgs(['--nflog', '1', '--output', '/var/log/nf.json', '--file-max-size', '100M', '--file-keep', '7'])).toMatchObject({
      fileMaxSize: 100 * 1024 * 1024,
      fileKeep: 7,
    });
    expect(parseArgs(['--nflog', '1', '--output', 'file:/x', '--file-max-size', '65536']).fileMaxSize).toBe(65536);
    expect(parseArgs(['--nflog', '1', '--output', '/x', '--file-max-size', '2GiB']).fileMaxSize).toBe(2 * 1024 ** 3);
    expect(() => parseArgs(['--nflog', '1', '--file-max-size', '1M'])).toThrow(/apply to a file output/);
    expect(() => parseArgs(['--nflog', '1', '--output', 'tcp:h:1', '--file-max-size', '1M'])).toThrow(/apply to a file output/);
    expect(() => parseArgs(['--nflog', '1', '--output', '/x', '--file-keep', '3'])).toThrow(/--file-keep goes with --file-max-size/);
    expect(() => parseArgs(['--nflog', '1', '--output', '/x', '--file-max-size', 'big'])).toThrow(/needs a size in bytes/);
    expect(() => parseArgs(['--nflog', '1', '--output', '/x', '--file-max-size', '100'])).toThrow(/≥ 1024/);
    expect(() => parseArgs(['--nflog', '1', '--output', 'tls:h:1', '--tls-cert', '/x'])).toThrow(/go together/);
    expect(() => parseArgs(['--nflog', '1', '--output', 'syslog:sctp:h'])).toThrow(/--output: .*udp, tcp, tls and unix/);
    expect(parseArgs(['--nflog', '1', '--output', 'syslog:tls:h', '--tls-ca', '/ca.pem', '--tls-servername', 'logs']).tls).toEqual({
      ca: '/ca.pem',
      servername: 'logs',
    });
  });
});

describe('parseArgs: several outputs on the command line', () => {
  it('starts another output at each --output; the output flags after it are its own', () => {
    const args = parseArgs([
      '--format',
      'ecs',
      '--nflog',
      '1',
      '--output',
      '/var/log/nf.json',
      '--file-max-size',
      '1M',
      '--conntrack',
      'new,destroy',
      '--output',
      'syslog:udp:127.0.0.1',
      '--format',
      'log',
      '--take',
      'packets',
      '--syslog-facility',
      'local0',
      '--output',
      'udp:127.0.0.1:2055',
      '--format=ipfix',
      '--ipfix-domain',
      '7',
    ]);
    expect(args.outputs).toHaveLength(3);
    expect(args.outputs?.[0]).toMatchObject({
      format: 'ecs',
      output: '/var/log/nf.json',
      fileMaxSize: 1024 * 1024,
      take: ['packets', 'flows', 'gaps'],
    });
    expect(args.outputs?.[0].syslog).toEqual({});
    expect(args.outputs?.[1]).toMatchObject({ format: 'log', output: 'syslog:udp:127.0.0.1', take: ['packets'], fileMaxSize: undefined });
    expect(args.outputs?.[1].syslog.facility).toBeDefined();
    expect(args.outputs?.[2]).toMatchObject({ format: 'ipfix', output: 'udp:127.0.0.1:2055', ipfixOptions: { observationDomainId: 7 } });
    expect(args.outputs?.[1].ipfixOptions).toEqual({});
    // Flags that are not an output's are the run's, wherever they come.
    expect(args.nflog).toEqual([1]);
    expect(args.conntrack?.events).toEqual(['new', 'destroy']);
  });

  it('keeps one output as before, and checks each output on its own', () => {
    expect(parseArgs(['--nflog', '1', '--output', '/x', '--format', 'log']).outputs).toBeUndefined();
    // --format before the second --output belongs to the first output: the second is ECS.
    const two = parseArgs(['--nflog', '1', '--output', '/a', '--format', 'log', '--output', '/b']);
    expect(two.outputs?.map((o) => o.format)).toEqual(['log', 'ecs']);
    expect(() => parseArgs(['--nflog', '1', '--output', '/a', '--output', '/b', '--log-flags', 'uid'])).toThrow(
      /--log-flags applies to --format log/,
    );
    expect(() =>
      parseArgs(['--nflog', '1', '--output', '/a', '--format', 'logemu', '--output', '/b', '--log-netns', 'hostname']),
    ).not.toThrow();
    expect(() => parseArgs(['--nflog', '1', '--output', '/a', '--output', '/b', '--log-netns', 'prefix'])).toThrow(/--log-netns applies/);
  });

  it('refuses an output that takes flows it has no line for, listed or alone (it would write nothing of them)', () => {
    const logTakingFlows = ['--nflog', '1', '--conntrack', 'new', '--output', '/a', '--output', '/b', '--format', 'logemu'];
    expect(() => parseArgs(logTakingFlows)).toThrow(
      /^--format logemu renders packets only: use ecs, record or ulogd with --conntrack, or give this output --take packets,gaps$/,
    );
    expect(parseArgs([...logTakingFlows, '--take', 'packets']).outputs?.map((o) => o.take)).toEqual([
      ['packets', 'flows', 'gaps'],
      ['packets'],
    ]);
    expect(() => parseArgs(['--conntrack', 'new', '--format', 'log', '--take', 'flows'])).toThrow(
      /renders packets only: use ecs, record or ulogd with --conntrack$/,
    );
    // Without --conntrack there are no flows to take.
    expect(parseArgs(['--nflog', '1', '--output', '/a', '--output', '/b', '--format', 'log']).outputs).toHaveLength(2);
  });

  it('an output file that cannot be opened is named with its --output, and nothing is written elsewhere', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-outputs-'));
    const capture = path.resolve(__dirname, '../fixtures/peers/tcpdump/nflog.pcap');
    try {
      const [good, bad] = [path.join(dir, 'a.json'), path.join(dir, 'missing-dir', 'b.log')];
      await expect(runCollection(parseArgs(['--read', capture, '--output', good, '--output', bad, '--format', 'log']))).rejects.toThrow(
        `--output ${bad}: ENOENT: no such file or directory`,
      );
      expect(fs.readFileSync(good, 'utf8')).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes each output in its own format (a capture read into ECS and LOG lines at once)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-outputs-'));
    const capture = path.resolve(__dirname, '../fixtures/peers/tcpdump/nflog.pcap');
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const [ecs, log] = [path.join(dir, 'a.json'), path.join(dir, 'b.log')];
      expect(await runCollection(parseArgs(['--read', capture, '--output', ecs, '--output', log, '--format', 'log']))).toBe(0);
      const read = (file: string): string[] => fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      // The same four packets, each in its output's format.
      const sources = read(ecs).map((l) => JSON.parse(l).source.ip);
      expect(sources).toHaveLength(4);
      expect(read(log).map((l) => /^IN=\S* OUT=\S* MAC=\S+ SRC=(\S+) /.exec(l)?.[1])).toEqual(sources);
    } finally {
      spy.mockRestore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
