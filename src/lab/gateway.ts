// A gateway lab: client — router — server. The router masquerades what
// leaves towards the server and forwards TCP port 8080 of its outside address
// to the client's port 80 (a DNAT port forward). IPv4 and IPv6.
import type { NetnsLab } from './netns';

export const GATEWAY = {
  client4: '10.60.1.2',
  routerIn4: '10.60.1.1',
  routerOut4: '10.60.2.1',
  server4: '10.60.2.2',
  client6: 'fd60:1::2',
  routerIn6: 'fd60:1::1',
  routerOut6: 'fd60:2::1',
  server6: 'fd60:2::2',
  /** The router's outside port forwarded to client:80. */
  forwardedPort: 8080,
} as const;

/** Adds namespaces 'client', 'router' and 'server' to the lab and wires them up. */
export function buildGateway(lab: NetnsLab): void {
  const g = GATEWAY;
  for (const ns of ['client', 'router', 'server']) lab.addNamespace(ns);
  lab.addLink({
    a: { ns: 'client', ifname: 'c0', addresses: [`${g.client4}/24`, `${g.client6}/64`] },
    b: { ns: 'router', ifname: 'r0', addresses: [`${g.routerIn4}/24`, `${g.routerIn6}/64`] },
  });
  lab.addLink({
    a: { ns: 'router', ifname: 'r1', addresses: [`${g.routerOut4}/24`, `${g.routerOut6}/64`] },
    b: { ns: 'server', ifname: 's0', addresses: [`${g.server4}/24`, `${g.server6}/64`] },
  });
  lab.exec('client', 'ip', ['route', 'add', 'default', 'via', g.routerIn4]);
  lab.exec('client', 'ip', ['-6', 'route', 'add', 'default', 'via', g.routerIn6]);
  lab.exec('server', 'ip', ['route', 'add', 'default', 'via', g.routerOut4]);
  lab.exec('server', 'ip', ['-6', 'route', 'add', 'default', 'via', g.routerOut6]);
  lab.sysctl('router', 'net.ipv4.ip_forward', 1);
  lab.sysctl('router', 'net.ipv6.conf.all.forwarding', 1);
  lab.nft(
    'router',
    `table inet nat {
      chain pre { type nat hook prerouting priority -100; iifname "r1" tcp dport ${g.forwardedPort} dnat ip to ${g.client4}:80; }
      chain post { type nat hook postrouting priority 100; oifname "r1" masquerade; }
    }`,
  );
}
