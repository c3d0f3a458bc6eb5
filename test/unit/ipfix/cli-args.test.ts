// --format ipfix on the command line: the collector address, the exporter's options and their errors.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CliArgs, ipfixOutputOf, outputSpecs, parseArgs } from '../../../src/cli/args';
import { parseCommandLine } from '../../../src/cli/config';
import { parseIpfixTarget } from '../../../src/sink/ipfix';

const CT = ['--conntrack', 'new,destroy', '--format', 'ipfix'];

/** The exporter of the run's first ipfix output, as the run opens it. */
function exporter(args: CliArgs): ReturnType<typeof ipfixOutputOf> {
  const spec = outputSpecs(args).find((s) => s.format === 'ipfix');
  if (spec === undefined) throw new Error('no ipfix output');
  return ipfixOutputOf(spec);
}

describe('parseArgs: --format ipfix', () => {
  it('takes the collector and the options, with defaults', () => {
    const args = parseArgs([
      ...CT,
      '--output',
      'udp:127.0.0.1:2055',
      '--ipfix-domain',
      '0',
      '--ipfix-mtu',
      '9000',
      '--ipfix-template-refresh',
      '5',
    ]);
    expect(exporter(args).target).toEqual({ transport: 'udp', host: '127.0.0.1', port: 2055 });
    expect(exporter(args).options).toEqual({
      observationDomainId: 0,
      mtu: 9000,
      templateRefreshMs: 5000,
      natEvents: true,
      flows: true,
      flowStarts: false,
      untranslated: false,
    });
    expect(exporter(parseArgs([...CT, '--output', 'tcp:[::1]', '--ipfix-records', 'flows'])).options).toMatchObject({
      natEvents: false,
      flows: true,
    });
    expect(exporter(parseArgs([...CT, '--output', 'tcp:[::1]'])).target).toEqual({ transport: 'tcp', host: '::1', port: 4739 });
  });

  it('says what is wrong', () => {
    expect(() => parseArgs(CT)).toThrow(/give --output udp:HOST\[:PORT\] or tcp:HOST\[:PORT\]/);
    expect(() => parseArgs([...CT, '--output', '/tmp/x'])).toThrow(/expected udp:HOST\[:PORT\] or tcp:HOST\[:PORT\]/);
    expect(() => parseArgs([...CT, '--output', 'udp:127.0.0.1:70000'])).toThrow(/port must be 1-65535/);
    expect(() => parseArgs([...CT, '--output', 'udp:h', '--ipfix-mtu', '100'])).toThrow(
      /--ipfix-mtu must be an integer from 576 to 65535, got 100/,
    );
    expect(() => parseArgs([...CT, '--output', 'udp:h', '--ipfix-domain', '4294967296'])).toThrow(
      /--ipfix-domain must be an integer from 0 to 4294967295/,
    );
    expect(() => parseArgs([...CT, '--output', 'udp:h', '--ipfix-domain', '-1'])).toThrow(/--ipfix-domain must be an integer ≥ 0/);
    expect(() => parseArgs([...CT, '--output', 'udp:h', '--ipfix-records', 'nat'])).toThrow(
      /'nat' is not one of nat-events, flows, flow-starts, untranslated/,
    );
    expect(() => parseArgs(['--nflog', '1', '--format', 'ipfix', '--output', 'udp:h'])).toThrow(/give --conntrack/);
    expect(() => parseArgs(['--conntrack', 'new', '--format', 'ipfix', '--output', 'udp:h'])).toThrow(/come from DESTROY events/);
    expect(() => parseArgs(['--conntrack', 'all', '--ipfix-mtu', '1400'])).toThrow(/apply to --format ipfix/);
    expect(() => parseArgs(['--conntrack', 'destroy', '--format', 'ipfix', '--output', 'udp:h', '--ipfix-records', 'flow-starts'])).toThrow(
      /flow starts come from NEW events/,
    );
  });

  it('parses collector addresses', () => {
    expect(parseIpfixTarget('udp:collector.example:9995')).toEqual({ transport: 'udp', host: 'collector.example', port: 9995 });
    expect(parseIpfixTarget('udp:[2001:db8::9]:4739')).toEqual({ transport: 'udp', host: '2001:db8::9', port: 4739 });
    expect(() => parseIpfixTarget('udp:2001:db8::9')).toThrow(/\[IPv6\] in brackets/);
    expect(() => parseIpfixTarget('sctp:h:4739')).toThrow(/expected udp:HOST/);
  });

  it('takes the same keys from a config file, and names the line of a bad one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-ipfix-config-'));
    const file = path.join(dir, 'collector.yaml');
    fs.writeFileSync(
      file,
      'conntrack: [new, destroy]\nformat: ipfix\noutput: udp:127.0.0.1:4739\nipfix-records: [nat-events]\nipfix-domain: 7\nipfix-mtu: 100\n',
    );
    expect(() => parseCommandLine(['--config', file])).toThrow(
      /collector.yaml:6: ipfix-mtu: --ipfix-mtu must be an integer from 576 to 65535, got 100/,
    );
    fs.writeFileSync(
      file,
      'conntrack: [new, destroy]\nformat: ipfix\noutput: udp:127.0.0.1:4739\nipfix-records: [nat-events]\nipfix-domain: 7\n',
    );
    const args = parseCommandLine(['--config', file]);
    expect(exporter(args).target).toEqual({ transport: 'udp', host: '127.0.0.1', port: 4739 });
    expect(exporter(args).options).toMatchObject({ observationDomainId: 7, natEvents: true, flows: false });
    fs.rmSync(dir, { recursive: true });
  });

  it('is one output among several in a config file, with its own ipfix-* keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-ipfix-config-'));
    const file = path.join(dir, 'collector.yaml');
    fs.writeFileSync(
      file,
      [
        'nflog: [5]',
        'conntrack: [new, destroy]',
        'outputs:',
        '  - output: /var/log/nfc.ndjson',
        '    format: ecs',
        '  - output: udp:127.0.0.1:2055',
        '    format: ipfix',
        '    ipfix-domain: 9',
        '    ipfix-records: [flows]',
        '  - output: tcp:[::1]',
        '    format: ipfix',
        '',
      ].join('\n'),
    );
    const args = parseCommandLine(['--config', file]);
    const specs = outputSpecs(args);
    expect(specs.map((s) => s.format)).toEqual(['ecs', 'ipfix', 'ipfix']);
    expect(ipfixOutputOf(specs[1])).toMatchObject({
      target: { transport: 'udp', host: '127.0.0.1', port: 2055 },
      options: { observationDomainId: 9, natEvents: false, flows: true },
    });
    expect(ipfixOutputOf(specs[2])).toMatchObject({
      target: { transport: 'tcp', host: '::1', port: 4739 },
      options: { observationDomainId: 1, natEvents: true, flows: true },
    });

    const bad = (lines: string[]): (() => CliArgs) => {
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      return () => parseCommandLine(['--config', file]);
    };
    // An exporter's option on a line output, a bad collector, an option out of range: the entry's line.
    expect(bad(['conntrack: all', 'outputs:', '  - output: /tmp/x', '    ipfix-domain: 3'])).toThrow(
      /collector.yaml:3: outputs\[0\]: .*apply to format: ipfix/,
    );
    expect(bad(['conntrack: all', 'outputs:', '  - output: /tmp/x', '    format: ipfix'])).toThrow(
      /collector.yaml:3: outputs\[0\]: .*expected udp:HOST\[:PORT\] or tcp:HOST\[:PORT\]/,
    );
    expect(bad(['conntrack: all', 'outputs:', '  - output: udp:h', '    format: ipfix', '    ipfix-mtu: 100'])).toThrow(
      /collector.yaml:3: outputs\[0\]: --ipfix-mtu must be an integer from 576 to 65535/,
    );
    expect(bad(['conntrack: all', 'outputs:', '  - output: udp:h', '    format: ipfix', '    take: [packets]'])).toThrow(
      /its --take must include flows/,
    );
    // The run: conntrack with DESTROY; packets need another output to go to.
    expect(bad(['nflog: [1]', 'outputs:', '  - output: udp:h', '    format: ipfix'])).toThrow(/give --conntrack/);
    expect(bad(['nflog: [1]', 'conntrack: all', 'outputs:', '  - output: udp:h', '    format: ipfix'])).toThrow(/give --conntrack/);
    expect(bad(['conntrack: [new]', 'outputs:', "  - output: '-'", '  - output: udp:h', '    format: ipfix'])).toThrow(
      /come from DESTROY events/,
    );
    // An exporter's key at the top level beside outputs: belongs in an output.
    expect(bad(['conntrack: all', 'ipfix-mtu: 1400', 'outputs:', '  - output: udp:h', '    format: ipfix'])).toThrow(
      /collector.yaml:2: ipfix-mtu: .*apply to --format ipfix/,
    );
    fs.rmSync(dir, { recursive: true });
  });
});
