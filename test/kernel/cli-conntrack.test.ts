// The issue's acceptance run: `netfilter-collector --conntrack new,destroy
// --netns ROUTER` reports, for each client connection, the inside address and
// port, the translated address and port, the server, the bytes and packets
// both ways and the duration.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGateway, GATEWAY } from '../../src/lab/gateway';
import { NetnsLab } from '../../src/lab/netns';
import { sendTcp, startServer, udpExchange } from '../../src/lab/traffic';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

describeKernel('netfilter-collector --conntrack on the real kernel', () => {
  const lab = new NetnsLab('nfc-cc');
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    buildGateway(lab);
    servers.push(await startServer(lab, 'server', 'tcp-sink', 5000, GATEWAY.server4));
    servers.push(await startServer(lab, 'server', 'udp-echo', 5001, GATEWAY.server4));
  });
  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    lab.destroy();
  });

  it('one NEW and one DESTROY document per connection, with the NAT view, counters and duration', async () => {
    const child = spawn(
      process.execPath,
      [CLI, '--conntrack', 'new,destroy', '--netns', lab.name('router'), '--ct-enable-sysctls', '--max-events', '6', '--stats'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 800));

    const ports = [sendTcp(lab, 'client', GATEWAY.server4, 5000, 2000), sendTcp(lab, 'client', GATEWAY.server4, 5000, 4000)];
    udpExchange(lab, 'client', GATEWAY.server4, 5001, 4, 72, 43001);
    await new Promise((resolve) => setTimeout(resolve, 200));
    lab.exec('router', 'conntrack', ['-F']);
    const code = await exited;
    clearTimeout(kill);
    expect(stderr).not.toMatch(/netfilter-collector:/);
    expect(code).toBe(0);

    const docs = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(docs).toHaveLength(6);
    expect(docs.filter((d) => d.event.action === 'flow-new')).toHaveLength(3);
    const ends = docs.filter((d) => d.event.action === 'flow-destroy');
    expect(ends).toHaveLength(3);
    for (const [i, port] of ports.entries()) {
      const end = ends.find((d) => d.source.port === port);
      expect(end, `connection from port ${port}`).toBeDefined();
      expect(end.source).toMatchObject({ ip: GATEWAY.client4, port, nat: { ip: GATEWAY.routerOut4 } });
      expect(end.destination).toMatchObject({ ip: GATEWAY.server4, port: 5000 });
      expect(end.network).toMatchObject({ transport: 'tcp', type: 'ipv4' });
      expect(end.source.bytes).toBeGreaterThan(i === 0 ? 2000 : 4000);
      expect(end.source.packets).toBeGreaterThanOrEqual(4);
      expect(end.destination.packets).toBeGreaterThanOrEqual(3);
      expect(end.network.bytes).toBe(end.source.bytes + end.destination.bytes);
      expect(end.event.duration).toBeGreaterThan(0);
      expect(Date.parse(end.event.end) - Date.parse(end.event.start)).toBeGreaterThanOrEqual(0);
    }
    const udp = ends.find((d) => d.source.port === 43001);
    expect(udp.source).toMatchObject({ ip: GATEWAY.client4, nat: { ip: GATEWAY.routerOut4 }, packets: 4, bytes: 4 * 100 });
    expect(udp.destination).toMatchObject({ ip: GATEWAY.server4, port: 5001, packets: 4, bytes: 4 * 100 });

    const stats = JSON.parse(stderr.trim().split('\n').pop() ?? '{}');
    expect(stats).toMatchObject({ delivered: 6, lost: 0, flowsNew: 3, flowsDestroy: 3 });
  });
});
