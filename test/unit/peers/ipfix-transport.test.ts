// The IPFIX output's transport against real peers on loopback: nfcapd started
// after the exporter and restarted mid-run decodes within the template
// refresh interval; an unreachable collector is counted, never blocking; over
// TCP each connection starts with the templates and ends with a withdrawal.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { IpfixOutput } from '../../../src/cli/ipfix-output';
import { resolveIpfixOptions } from '../../../src/ipfix/options';
import type { FlowRecord } from '../../../src/records';
import { IpfixTestDecoder } from '../../helpers/ipfix-decode';
import { freeUdpPort, Nfcapd } from '../../helpers/ipfix-peers';

const haveNfcapd = spawnSync('nfcapd', ['-V'], { encoding: 'utf8' }).status === 0;
if (!haveNfcapd && process.env.CI === 'true') throw new Error('nfcapd is missing (scripts/setup-system.sh installs nfdump)');

/** A translated TCP flow's DESTROY from inside port `port`: one NAT event and one flow record. */
function destroy(port: number): FlowRecord {
  const us = Date.now() * 1000;
  return {
    kind: 'flow',
    event: 'destroy',
    family: 2,
    timestampUs: us,
    receivedUs: us,
    startUs: us - 1_000_000,
    stopUs: us,
    original: { src: '10.60.1.2', dst: '10.60.2.2', protocol: 6, srcPort: port, dstPort: 5000 },
    reply: { src: '10.60.2.2', dst: '10.60.2.1', protocol: 6, srcPort: 5000, dstPort: port },
    nat: { source: { ip: '10.60.1.2', port, translatedIp: '10.60.2.1', translatedPort: port } },
    originalBytes: 100,
    originalPackets: 2,
    replyBytes: 60,
    replyPackets: 1,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the kernel has handed the exporter's datagrams over (UDP sends complete asynchronously). */
async function settle(output: IpfixOutput): Promise<void> {
  for (let i = 0; i < 100 && output.stats().queuedBytes > 0; i++) await sleep(10);
}

describe.skipIf(!haveNfcapd)('IPFIX over UDP to nfcapd started late and restarted', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const c of cleanups) c();
  });

  it('decodes within the refresh interval; what was sent to nobody is counted', async () => {
    const port = await freeUdpPort();
    const errors: string[] = [];
    const output = new IpfixOutput(
      { transport: 'udp', host: '127.0.0.1', port },
      resolveIpfixOptions({ templateRefreshSeconds: 1, records: ['flows'] }),
      {
        onError: (m) => errors.push(m),
      },
    );
    const send = async (ports: number[]): Promise<void> => {
      for (const p of ports) output.write(destroy(p), Date.now());
      output.flush();
      await settle(output);
    };
    // Nobody listens: the first datagram's port unreachable makes the next send fail (ECONNREFUSED).
    await send([1001]);
    await sleep(50);
    await send([1002]);
    await sleep(50);
    await send([1003]);

    const first = new Nfcapd(port);
    cleanups.push(() => first.remove());
    await first.start();
    await send([2001]); // the templates went out before nfcapd existed: it cannot decode this one
    await sleep(1100);
    await send([3001, 3002]); // the refresh is due: templates first, then these decode
    await first.stop();
    const seen1 = first.records().map((r) => Number(r['src port']));
    expect(seen1).toEqual([3001, 3002]);

    const second = new Nfcapd(port); // a restart: a new process, no templates
    cleanups.push(() => second.remove());
    await second.start();
    await send([4001]);
    await sleep(1100);
    await send([5001]);
    await second.stop();
    expect(second.records().map((r) => Number(r['src port']))).toEqual([5001]);

    const close = await output.close(1000);
    expect(close.complete).toBe(true);
    const stats = output.stats();
    // 1001-1003 went to nobody: the port unreachable that came back for each is counted (a lower bound, as
    // the kernel rate-limits ICMP), and said; nothing blocked.
    expect(stats.dropped.refused.messages).toBeGreaterThanOrEqual(1);
    expect(stats.dropped.refused.records).toBe(stats.dropped.refused.messages);
    expect(stats.droppedRecords).toBe(stats.dropped.refused.records);
    expect(stats.sentRecords).toBe(8);
    expect(errors.some((e) => /ECONNREFUSED/.test(e))).toBe(true);
    // The same in --metrics' terms (a line is a message): refused is noReceiver.
    const asSink = output.sinkStats();
    expect(asSink).toMatchObject({
      target: `udp:127.0.0.1:${port}`,
      writtenLines: stats.sentMessages,
      droppedLines: stats.droppedMessages,
    });
    expect(asSink.dropped.noReceiver.lines).toBe(stats.dropped.refused.messages);
  }, 30_000);
});

describe('IPFIX over TCP', () => {
  it('starts each connection with the templates, reconnects after a break, and withdraws the templates at close', async () => {
    const connections: Buffer[][] = [];
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      const chunks: Buffer[] = [];
      connections.push(chunks);
      sockets.push(socket);
      socket.on('data', (d) => chunks.push(d));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const output = new IpfixOutput(
      { transport: 'tcp', host: '127.0.0.1', port },
      resolveIpfixOptions({ records: ['nat-events', 'flows'] }),
    );
    const until = async (check: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !check(); i++) await sleep(10);
      expect(check()).toBe(true);
    };
    await until(() => output.stats().connected);
    output.write(destroy(6001), Date.now());
    output.flush();
    await until(() => output.stats().sentRecords === 2);
    // The collector goes away; the next connection is a new session.
    sockets[0].destroy();
    await until(() => connections.length === 2 && output.stats().connected);
    output.write(destroy(6002), Date.now());
    const close = await output.close(2000);
    expect(close.complete).toBe(true);
    await until(() => sockets[1].readableEnded || sockets[1].destroyed);
    server.close();

    const messages = (chunks: Buffer[]): Buffer[] => {
      const all = Buffer.concat(chunks);
      const out: Buffer[] = [];
      for (let at = 0; at < all.length; at += all.readUInt16BE(at + 2)) out.push(all.subarray(at, at + all.readUInt16BE(at + 2)));
      return out;
    };
    for (const [i, chunks] of connections.entries()) {
      const d = new IpfixTestDecoder();
      const decoded = messages(chunks).map((m) => d.decode(m));
      // Templates alone first, sequence 0 (a new session); then the data, each record decodable.
      expect(decoded[0]).toMatchObject({ templateIds: [256, 257, 258, 259], records: [], sequence: 0 });
      const records = decoded.flatMap((m) => m.records);
      expect(records.map((r) => r.values.sourceTransportPort)).toEqual(i === 0 ? [6001, 6001] : [6002, 6002]);
      if (i === 1) expect(decoded[decoded.length - 1].withdrawn).toEqual([2]);
    }
    expect(output.stats()).toMatchObject({ sentRecords: 4, droppedRecords: 0, reconnects: 1 });
  }, 20_000);
});
