// The kernel's own LOG line against packetToLogLine on the same packets: one
// nft rule per case logs the packet to the kernel log twice (all flags, no
// flags) and to an NFLOG group; the collector's record, formatted, must equal
// the kernel's line byte for byte.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { packetToLogLine, type LogLineOptions } from '../../src/format/log-line';
import { NetnsLab } from '../../src/lab/netns';
import { connectTcp, ping, sendUdp } from '../../src/lab/traffic';
import type { PacketRecord } from '../../src/records';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';
import { KmsgReader, setLogAllNetns } from './kmsg';
import { CRAFTED_CASES, CRAFTED_MATCH, sendCrafted } from './packet-crafter';

const ALL: LogLineOptions = { tcpSequence: true, tcpOptions: true, ipOptions: true, uid: true, macDecode: true };
const A = { v4: '10.78.1.1', v6: 'fd78:1::1' };
const B = { v4: '10.78.1.2', v6: 'fd78:1::2' };
const TAG = `nfcL${process.pid % 100000}-`;

/** Cases logged on the receiver's input hook, after the kernel has checked the packet. */
const INPUT_CASES: Record<string, string> = {
  'tcp4-syn': 'meta nfproto ipv4 tcp dport 7001',
  'tcp6-syn': 'meta nfproto ipv6 tcp dport 7001',
  'udp4-mark': 'meta nfproto ipv4 udp dport 7002 meta mark set 0x2a',
  'udp6-mark': 'meta nfproto ipv6 udp dport 7002 meta mark set 0x2b',
  'icmp4-echo': 'icmp type echo-request',
  'icmp6-echo': 'icmpv6 type echo-request',
};
/** Cases logged on the sender: ICMP errors coming back (input) and local UDP with its socket's owner (output). */
const SENDER_INPUT_CASES: Record<string, string> = {
  'icmp4-unreach': 'icmp type destination-unreachable',
  'icmp6-unreach': 'icmpv6 type destination-unreachable',
};
const SENDER_OUTPUT_CASES: Record<string, string> = {
  uid4: 'meta nfproto ipv4 meta skuid 4243 udp dport 7004',
  uid6: 'meta nfproto ipv6 meta skuid 4243 udp dport 7004',
};

function rule(match: string, name: string, group: number): string {
  const p = TAG + name;
  return `${match} log prefix "${p}a " flags all log prefix "${p}n " log prefix "${p}" group ${group}`;
}

function chain(name: string, hook: string, priority: number, cases: Record<string, string>, group: number): string {
  const rules = Object.entries(cases).map(([n, m]) => rule(m, n, group));
  return `chain ${name} {\n type filter hook ${hook} priority ${priority};\n ${rules.join('\n ')}\n }`;
}

describeKernel('the LOG line against the kernel', () => {
  const lab = new NetnsLab('nfc-ll');
  const kmsg = new KmsgReader();
  let oldLogAllNetns: string | null = null;
  let receiver: Gatherer | undefined;
  let sender: Gatherer | undefined;
  const kernelLines: string[] = [];

  const allCases = [...CRAFTED_CASES, ...Object.keys(INPUT_CASES), ...Object.keys(SENDER_INPUT_CASES), ...Object.keys(SENDER_OUTPUT_CASES)];

  beforeAll(() => {
    oldLogAllNetns = setLogAllNetns('1');
    kmsg.open();
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.addLink({
      a: { ns: 'a', ifname: 'veth-la', mac: '02:00:00:78:01:01', addresses: [`${A.v4}/24`, `${A.v6}/64`] },
      b: { ns: 'b', ifname: 'veth-lb', mac: '02:00:00:78:01:02', addresses: [`${B.v4}/24`, `${B.v6}/64`] },
    });
    // Neighbours resolved before anything is logged.
    ping(lab, 'a', B.v4);
    ping(lab, 'a', B.v6);
    const crafted: Record<string, string> = {};
    for (const c of CRAFTED_CASES) crafted[c] = CRAFTED_MATCH[c];
    lab.nft('b', `table inet nfcll {\n${chain('pre', 'prerouting', -450, crafted, 41)}\n${chain('in', 'input', 0, INPUT_CASES, 41)}\n}`);
    lab.nft(
      'a',
      `table inet nfcll {\n${chain('in', 'input', 0, SENDER_INPUT_CASES, 42)}\n${chain('out', 'output', 0, SENDER_OUTPUT_CASES, 42)}\n}`,
    );
    receiver = new Gatherer(createCollector({ nflog: [41], netns: lab.name('b') }));
    sender = new Gatherer(createCollector({ nflog: [42], netns: lab.name('a') }));
  });

  afterAll(async () => {
    try {
      await receiver?.close();
      await sender?.close();
      lab.destroy();
      kmsg.close();
    } finally {
      if (oldLogAllNetns !== null) setLogAllNetns(oldLogAllNetns);
    }
  });

  const records = (): PacketRecord[] => [...(receiver?.packets() ?? []), ...(sender?.packets() ?? [])];
  const linesOf = (prefix: string): string[] => kernelLines.filter((l) => l.startsWith(prefix));

  it('prints every case as the kernel does, with all flags and with none', async () => {
    const addresses = { src4: A.v4, dst4: B.v4, src6: A.v6, dst6: B.v6 };
    // Give the collectors a moment to bind before the first packet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const c of CRAFTED_CASES) sendCrafted(lab, 'a', c, addresses);
    connectTcp(lab, 'a', B.v4, 7001);
    connectTcp(lab, 'a', B.v6, 7001);
    sendUdp(lab, 'a', B.v4, 7002, 1, 24);
    sendUdp(lab, 'a', B.v6, 7002, 1, 24);
    ping(lab, 'a', B.v4);
    ping(lab, 'a', B.v6);
    sendUdp(lab, 'a', B.v4, 7003, 1, 20); // closed port: the ICMP error comes back to a
    sendUdp(lab, 'a', B.v6, 7003, 1, 20);
    sendUdp(lab, 'a', B.v4, 7004, 1, 12, { uid: 4243, gid: 4244 });
    sendUdp(lab, 'a', B.v6, 7004, 1, 12, { uid: 4243, gid: 4244 });

    // Until every case has its NFLOG records and as many kernel lines of each kind (bounded).
    const complete = (): boolean => {
      kernelLines.push(...kmsg.read().filter((l) => l.startsWith(TAG)));
      const recs = records();
      return allCases.every((name) => {
        const n = recs.filter((r) => r.prefix === TAG + name).length;
        return n > 0 && linesOf(`${TAG}${name}a `).length === n && linesOf(`${TAG}${name}n `).length === n;
      });
    };
    const ok = await receiver!.until(complete, 15_000);
    const missing = allCases.filter((name) => !records().some((r) => r.prefix === TAG + name));
    expect(missing).toEqual([]);
    expect(ok).toBe(true);

    let compared = 0;
    for (const name of allCases) {
      const recs = records().filter((r) => r.prefix === TAG + name);
      const withAll = linesOf(`${TAG}${name}a `);
      const withNone = linesOf(`${TAG}${name}n `);
      for (let i = 0; i < recs.length; i++) {
        expect(packetToLogLine({ ...recs[i], prefix: `${TAG}${name}a ` }, ALL), name).toBe(withAll[i]);
        expect(packetToLogLine({ ...recs[i], prefix: `${TAG}${name}n ` }), name).toBe(withNone[i]);
        compared += 2;
      }
    }
    if (process.env.LOGLINE_DUMP) console.log(kernelLines.join('\n'));
    expect(compared).toBeGreaterThanOrEqual(allCases.length * 2);
  }, 60_000);
});
