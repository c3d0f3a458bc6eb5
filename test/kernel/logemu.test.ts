// packetToLogemuLine against the real ulogd2 (Debian's 2.0.8) on the same
// packets: each nft rule logs its packet to two NFLOG groups, one read by
// ulogd (NFLOG → BASE → IFINDEX → IP2STR → PRINTPKT → LOGEMU) and one by the
// collector; the formatted record must equal ulogd's line.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { logemuHeader, packetToLogemuLine } from '../../src/format/logemu';
import { NetnsLab } from '../../src/lab/netns';
import { connectTcp, ping, sendUdp } from '../../src/lab/traffic';
import type { PacketRecord } from '../../src/records';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';
import { CRAFTED_CASES, CRAFTED_MATCH, sendCrafted, type CraftedCase } from './packet-crafter';

const ULOGD = '/usr/sbin/ulogd';
const PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';
const A = { v4: '10.79.1.1', v6: 'fd79:1::1' };
const B = { v4: '10.79.1.2', v6: 'fd79:1::2' };
const TAG = `nfcE${process.pid % 100000}-`;

/**
 * Cases where ulogd reads bytes our records do not keep: BASE decodes the
 * payload of a later IPv4 fragment as if it were the transport header.
 */
const NOT_COMPARED: CraftedCase[] = ['udp4-frag-later'];

const RECEIVER_INPUT: Record<string, string> = {
  'tcp4-syn': 'meta nfproto ipv4 tcp dport 7001',
  'tcp6-syn': 'meta nfproto ipv6 tcp dport 7001',
  'udp4-mark': 'meta nfproto ipv4 udp dport 7002 meta mark set 0x2a',
  udp6: 'meta nfproto ipv6 udp dport 7002',
  'icmp4-echo': 'icmp type echo-request',
  'icmp6-echo': 'icmpv6 type echo-request',
};
const SENDER_INPUT: Record<string, string> = {
  'icmp4-unreach': 'icmp type destination-unreachable',
  'icmp6-unreach': 'icmpv6 type destination-unreachable',
};
const SENDER_OUTPUT: Record<string, string> = {
  uid4: 'meta nfproto ipv4 meta skuid 4243 udp dport 7004',
};

function chain(name: string, hook: string, priority: number, cases: Record<string, string>, groups: [number, number]): string {
  const rules = Object.entries(cases).map(
    ([n, m]) => `${m} log prefix "${TAG}${n}" group ${groups[0]} log prefix "${TAG}${n}" group ${groups[1]}`,
  );
  return `chain ${name} {\n type filter hook ${hook} priority ${priority};\n ${rules.join('\n ')}\n }`;
}

/** Starts ulogd in a lab namespace on one group, writing LOGEMU lines to dir/emu.log. */
function startUlogd(lab: NetnsLab, ns: string, group: number, dir: string): ChildProcess {
  const conf = path.join(dir, 'ulogd.conf');
  const plugins = ['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IFINDEX', 'filter_IP2STR', 'filter_PRINTPKT', 'output_LOGEMU'];
  fs.writeFileSync(
    conf,
    [
      '[global]',
      `logfile="${path.join(dir, 'ulogd.log')}"`,
      'loglevel=5',
      ...plugins.map((p) => `plugin="${PLUGINS}/ulogd_${p}.so"`),
      'stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU',
      '',
      '[log1]',
      `group=${group}`,
      '',
      '[emu1]',
      `file="${path.join(dir, 'emu.log')}"`,
      'sync=1',
      '',
    ].join('\n'),
  );
  return spawn('ip', ['netns', 'exec', lab.name(ns), ULOGD, '-c', conf], { stdio: 'ignore' });
}

describeKernel('the LOGEMU line against ulogd2', () => {
  const lab = new NetnsLab('nfc-le');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-logemu-'));
  const ulogds: ChildProcess[] = [];
  let receiver: Gatherer | undefined;
  let sender: Gatherer | undefined;

  const cases = [
    ...CRAFTED_CASES.filter((c) => !NOT_COMPARED.includes(c)),
    ...Object.keys(RECEIVER_INPUT),
    ...Object.keys(SENDER_INPUT),
    ...Object.keys(SENDER_OUTPUT),
  ];

  beforeAll(async () => {
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.addLink({
      a: { ns: 'a', ifname: 'veth-ea', mac: '02:00:00:79:01:01', addresses: [`${A.v4}/24`, `${A.v6}/64`] },
      b: { ns: 'b', ifname: 'veth-eb', mac: '02:00:00:79:01:02', addresses: [`${B.v4}/24`, `${B.v6}/64`] },
    });
    ping(lab, 'a', B.v4);
    ping(lab, 'a', B.v6);
    const crafted: Record<string, string> = {};
    for (const c of CRAFTED_CASES) crafted[c] = CRAFTED_MATCH[c];
    lab.nft(
      'b',
      `table inet nfcle {\n${chain('pre', 'prerouting', -450, crafted, [51, 52])}\n${chain('in', 'input', 0, RECEIVER_INPUT, [51, 52])}\n}`,
    );
    lab.nft(
      'a',
      `table inet nfcle {\n${chain('in', 'input', 0, SENDER_INPUT, [53, 54])}\n${chain('out', 'output', 0, SENDER_OUTPUT, [53, 54])}\n}`,
    );
    fs.mkdirSync(path.join(dir, 'b'));
    fs.mkdirSync(path.join(dir, 'a'));
    ulogds.push(startUlogd(lab, 'b', 51, path.join(dir, 'b')), startUlogd(lab, 'a', 53, path.join(dir, 'a')));
    receiver = new Gatherer(createCollector({ nflog: [52], netns: lab.name('b') }));
    sender = new Gatherer(createCollector({ nflog: [54], netns: lab.name('a') }));
    // ulogd binds its group once started: wait (bounded) for its log file to appear.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !(fs.existsSync(path.join(dir, 'b', 'emu.log')) && fs.existsSync(path.join(dir, 'a', 'emu.log'))))
      await new Promise((resolve) => setTimeout(resolve, 50));
    // ulogd's groups bound (not a fixed sleep: a loaded machine may need longer).
    expect(await nflogGroupBound(lab.name('b'), 51)).toBe(true);
    expect(await nflogGroupBound(lab.name('a'), 53)).toBe(true);
  });

  afterAll(async () => {
    for (const u of ulogds) if (u.exitCode === null) u.kill('SIGTERM');
    await receiver?.close();
    await sender?.close();
    lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ulogdLines = (): string[] =>
    ['a', 'b'].flatMap((ns) => {
      const file = path.join(dir, ns, 'emu.log');
      return fs.existsSync(file)
        ? fs
            .readFileSync(file, 'latin1')
            .split('\n')
            .filter((l) => l.includes(TAG))
        : [];
    });
  const records = (): PacketRecord[] => [...(receiver?.packets() ?? []), ...(sender?.packets() ?? [])];
  const host = os.hostname();
  // ulogd's line: "Mon DD HH:MM:SS host " then the PRINTPKT text.
  const headerLength = 16 + host.split('.')[0].length + 1;

  it('prints every case as ulogd does', async () => {
    for (const u of ulogds) expect(u.exitCode).toBeNull();
    const addresses = { src4: A.v4, dst4: B.v4, src6: A.v6, dst6: B.v6 };
    for (const c of CRAFTED_CASES) sendCrafted(lab, 'a', c, addresses);
    connectTcp(lab, 'a', B.v4, 7001);
    connectTcp(lab, 'a', B.v6, 7001);
    sendUdp(lab, 'a', B.v4, 7002, 1, 24);
    sendUdp(lab, 'a', B.v6, 7002, 1, 24);
    ping(lab, 'a', B.v4);
    ping(lab, 'a', B.v6);
    sendUdp(lab, 'a', B.v4, 7003, 1, 20);
    sendUdp(lab, 'a', B.v6, 7003, 1, 20);
    sendUdp(lab, 'a', B.v4, 7004, 1, 12, { uid: 4243, gid: 4244 });

    const ofCase = (name: string) => ({
      recs: records().filter((r) => r.prefix === TAG + name),
      lines: ulogdLines().filter((l) => l.slice(headerLength).startsWith(TAG + name + ' ')),
    });
    const ok = await receiver!.until(
      () =>
        cases.every((name) => {
          const { recs, lines } = ofCase(name);
          return recs.length > 0 && lines.length === recs.length;
        }),
      15_000,
    );
    expect(cases.filter((name) => ofCase(name).recs.length === 0)).toEqual([]);
    expect(ok).toBe(true);

    let compared = 0;
    for (const name of cases) {
      const { recs, lines } = ofCase(name);
      for (let i = 0; i < recs.length; i++) {
        const line = lines[i];
        expect(packetToLogemuLine(recs[i]), name).toBe(line.slice(headerLength));
        // The header carries the kernel's timestamp when there is one; else ulogd's own clock.
        if (recs[i].kernelTimestamp) expect(logemuHeader(recs[i].timestampUs, host)).toBe(line.slice(0, headerLength));
        else expect(line.slice(0, headerLength)).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ $/);
        compared++;
      }
    }
    if (process.env.LOGLINE_DUMP) console.log(ulogdLines().join('\n'));
    expect(compared).toBeGreaterThanOrEqual(cases.length);
  }, 60_000);
});
