// --format ipfix on the command line: the collector address, the exporter's options and their errors.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from '../../../src/cli/args';
import { parseCommandLine } from '../../../src/cli/config';
import { parseIpfixTarget } from '../../../src/sink/ipfix';

const CT = ['--conntrack', 'new,destroy', '--format', 'ipfix'];

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
    expect(args.ipfixTarget).toEqual({ transport: 'udp', host: '127.0.0.1', port: 2055 });
    expect(args.ipfix).toEqual({
      observationDomainId: 0,
      mtu: 9000,
      templateRefreshMs: 5000,
      natEvents: true,
      flows: true,
      untranslated: false,
    });
    expect(parseArgs([...CT, '--output', 'tcp:[::1]', '--ipfix-records', 'flows']).ipfix).toMatchObject({ natEvents: false, flows: true });
    expect(parseArgs([...CT, '--output', 'tcp:[::1]']).ipfixTarget).toEqual({ transport: 'tcp', host: '::1', port: 4739 });
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
      /'nat' is not one of nat-events, flows, untranslated/,
    );
    expect(() => parseArgs(['--nflog', '1', '--format', 'ipfix', '--output', 'udp:h'])).toThrow(/give --conntrack/);
    expect(() => parseArgs(['--conntrack', 'new', '--format', 'ipfix', '--output', 'udp:h'])).toThrow(/come from DESTROY events/);
    expect(() => parseArgs(['--conntrack', 'all', '--ipfix-mtu', '1400'])).toThrow(/apply to --format ipfix/);
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
    expect(args.ipfixTarget).toEqual({ transport: 'udp', host: '127.0.0.1', port: 4739 });
    expect(args.ipfix).toMatchObject({ observationDomainId: 7, natEvents: true, flows: false });
    // Not (yet) one of several outputs: said, rather than written to a file named udp:….
    fs.writeFileSync(file, 'conntrack: all\noutputs:\n  - output: udp:127.0.0.1:4739\n    format: ipfix\n');
    expect(() => parseCommandLine(['--config', file])).toThrow(
      /collector.yaml:3: outputs\[0\]: format ipfix is a run's one output for now/,
    );
    fs.rmSync(dir, { recursive: true });
  });
});
