// --config FILE: the flags' options from YAML, flags override, several outputs, and errors that name the line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ipfixOutputOf } from '../../src/cli/args';
import { parseCommandLine } from '../../src/cli/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function config(text: string): string {
  const file = path.join(dir, `c${n++}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

describe('--config', () => {
  it('reads every kind of option: values, lists, maps (repeated flags) and switches', () => {
    const file = config(`# a gateway
nflog: [1, 2]
label: { 1: wan, 2: lan }
conntrack: [new, destroy]
ct-completed: true
ct-dump: false
socket-buffer: 67108864
format: ulogd
output: syslog:udp:10.0.0.5
syslog-hostname: gw1
metrics: 127.0.0.1:9100
`);
    const args = parseCommandLine(['--config', file]);
    expect(args.nflog).toEqual([1, 2]);
    expect([...args.labels]).toEqual([
      [1, 'wan'],
      [2, 'lan'],
    ]);
    expect(args.conntrack).toMatchObject({ events: ['new', 'destroy'], completed: true, dump: false });
    expect(args.socketBuffer).toBe(67108864);
    expect(args).toMatchObject({
      format: 'ulogd',
      output: 'syslog:udp:10.0.0.5',
      syslog: { hostname: 'gw1' },
      metrics: { host: '127.0.0.1', port: 9100 },
    });
  });

  it('flags override the file', () => {
    const file = config('nflog: 1\nformat: log\noutput: /var/log/a.log\n');
    const args = parseCommandLine(['--config', file, '--format', 'ecs', '--nflog', '5']);
    expect(args).toMatchObject({ format: 'ecs', nflog: [5], output: '/var/log/a.log' });
  });

  it('outputs: each with its own format, selection and syslog/TLS options', () => {
    const file = config(`nflog: [1, 2]
conntrack: all
outputs:
  - output: syslog:tls:logs.example
    format: ecs
    tls-ca: /etc/ssl/ca.pem
    syslog-protocol: rfc5424
  - output: /var/log/netfilter.log
    format: log
    take: [packets]
    groups: [2]
    file-max-size: 512M
    file-keep: 10
`);
    const args = parseCommandLine(['--config', file]);
    expect(args.outputs).toEqual([
      expect.objectContaining({
        output: 'syslog:tls:logs.example',
        format: 'ecs',
        tls: { ca: '/etc/ssl/ca.pem' },
        syslog: { protocol: 'rfc5424' },
        take: ['packets', 'flows', 'gaps'],
        groups: [],
      }),
      expect.objectContaining({
        output: '/var/log/netfilter.log',
        format: 'log',
        take: ['packets'],
        groups: [2],
        fileMaxSize: 512 * 1024 * 1024,
        fileKeep: 10,
      }),
    ]);
    // --output on the command line replaces the file's outputs.
    expect(parseCommandLine(['--config', file, '--output', '-']).outputs).toBeUndefined();
    // An output flag alone on the command line would change none of the file's outputs: an error, not ignored.
    for (const flag of [
      ['--format', 'record'],
      ['--take', 'gaps'],
      ['--groups', '1'],
    ])
      expect(() => parseCommandLine(['--config', file, ...flag])).toThrow(
        new RegExp(`^${flag[0]} describes one output, and .*c\\d+\\.yaml lists its outputs: put '${flag[0].slice(2)}' in an entry`),
      );
    expect(parseCommandLine(['--config', file, '--output', '-', '--format', 'record']).format).toBe('record');
  });

  it('errors name the file, the line and the key', () => {
    const cases: Array<[string, RegExp]> = [
      ['nflog: 1\nformt: ecs\n', /c\d+\.yaml:2: unknown key 'formt' \(did you mean 'format'\?\)/],
      ['nflog: 1\nsocket-buffer: lots\n', /:2: socket-buffer: --socket-buffer must be an integer/],
      ['nflog: 1\nsocket-buffer: 100\n', /:2: socket-buffer: --socket-buffer must be an integer from 4096/],
      ['nflog: 1\nstats: yes\n', /:2: stats is a switch: write 'stats: true'/],
      ['nflog: 1\nformat:\n', /:2: format has no value/],
      [
        'nflog: 1\noutputs:\n  - output: syslog\n    syslog-facilty: kern\n',
        /:4: outputs\[0\]: unknown key 'syslog-facilty' \(did you mean 'syslog-facility'\?\)/,
      ],
      ['nflog: 1\noutputs:\n  - output: syslog\n    nflog: 2\n', /:4: outputs\[0\]: 'nflog' is not an output key/],
      ['nflog: 1\noutputs:\n  - format: ecs\n', /:3: outputs\[0\]: needs an output/],
      [
        'nflog: 1\noutputs:\n  - output: tcp:h:1\n    syslog-facility: kern\n',
        /:3: outputs\[0\]: --syslog-\* options apply to a syslog output/,
      ],
      ['nflog: 1\nformat: log\noutputs:\n  - output: "-"\n', /:2: 'format' describes one output/],
      ['nflog: 1\nnflog: 2\n', /c\d+\.yaml:2:1: Map keys must be unique/],
      ['- nflog\n', /the file must be a map/],
      ['format: ecs\n', /nothing to collect/],
      ['nflog: 1\nlog-flags: all\n', /:2: log-flags: --log-flags applies to --format log/],
      ['conntrack: all\noutputs:\n  - output: "-"\n  - output: /b\n    format: log\n', /:3: outputs: --format log renders packets only/],
    ];
    for (const [text, expected] of cases) expect(() => parseCommandLine(['--config', config(text)])).toThrow(expected);
    expect(() => parseCommandLine(['--config', path.join(dir, 'missing.yaml')])).toThrow(/--config .*missing\.yaml: ENOENT/);
  });
});

describe("README's gateway configuration", () => {
  it('is a configuration the collector takes as the README describes it', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const block = /A complete configuration for a gateway[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    const args = parseCommandLine(['--config', config(block![1])]);
    expect(args.nflog).toEqual([1, 2]);
    expect(args.conntrack).toMatchObject({ events: ['new', 'destroy'], completed: true, enableSysctls: true });
    expect(args.outputs?.map((o) => [o.output, o.format, o.take, o.groups])).toEqual([
      ['syslog:tls:logs.example:6514', 'ecs', ['packets', 'flows', 'gaps'], []],
      ['/var/log/netfilter/drops.log', 'log', ['packets'], [1]],
      ['udp:192.0.2.9:4739', 'ipfix', ['packets', 'flows', 'gaps'], []],
    ]);
    expect(ipfixOutputOf(args.outputs![2])).toMatchObject({ target: { host: '192.0.2.9', port: 4739 }, options: { mtu: 1400 } });
    expect(args).toMatchObject({ user: 'nfc', metrics: { host: '127.0.0.1', port: 9100 } });
  });
});

describe('the command with bad input: a clear error and the exit status, before anything is opened', () => {
  const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
  const PCAP = path.resolve(__dirname, '../fixtures/peers/tcpdump/nflog.pcap');
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('a config file with a typo or a wrong type: status 2, naming the file, the line and the key', () => {
    const typo = run(['--config', config(`read: ${PCAP}\nformt: log\n`)]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^netfilter-collector: \S+\.yaml:2: unknown key 'formt' \(did you mean 'format'\?\)\n$/);
    const wrongType = run(['--config', config(`read: ${PCAP}\noutput-queue: [1, 2]\n`)]);
    expect(wrongType.status).toBe(2);
    expect(wrongType.stderr).toMatch(/\.yaml:2: output-queue: --output-queue must be an integer/);
  });

  it('an unreadable CA file: status 1, naming the file, and the output file never created', () => {
    const out = path.join(dir, 'never.log');
    const result = run([
      '--config',
      config(`read: ${PCAP}\noutputs:\n  - output: ${out}\n  - output: syslog:tls:127.0.0.1:6514\n    tls-ca: ${dir}/missing-ca.pem\n`),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--tls-ca \S+missing-ca\.pem: ENOENT/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
