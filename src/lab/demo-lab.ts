// The demo's lab: client — router — server (src/lab/gateway.ts: masquerade
// and a DNAT port forward on the router), with the router's firewall written
// in the styles operators use, and a short, bounded script of traffic that
// makes every rule log. Everything lives in namespaces named
// `nfcdemo<pid>-*`; a lab whose process is gone is removed at the next start.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { buildGateway, GATEWAY } from './gateway';
import { NetnsLab } from './netns';
import { startServer } from './traffic';

export const DEMO_LAB_PREFIX = 'nfcdemo';

/** One ruleset of the router: the NFLOG group it logs to and the prefixes it writes. */
export interface DemoRuleset {
  group: number;
  label: string;
  /** Prefixes exactly as the rules write them (the kernel keeps trailing spaces). */
  prefixes: string[];
  /** One line: what the rules are. */
  description: string;
}

export const DEMO_RULESETS: DemoRuleset[] = [
  {
    group: 1,
    label: 'DROP_LOGGING',
    prefixes: ['DROP_LOGGING: '],
    description: 'iptables chain DROP_LOGGING (-j NFLOG, then DROP), the end of FORWARD',
  },
  {
    group: 2,
    label: 'LOG_AND_*',
    prefixes: ['[DM-A] ', '[DM-D] ', '[DM-R] '],
    description: 'iptables chains LOG_AND_ACCEPT / LOG_AND_DROP / LOG_AND_REJECT, used by FORWARD',
  },
  {
    group: 3,
    label: 'default-deny',
    prefixes: ['tcp.in.dropped', 'udp.in.dropped', 'icmp.in.dropped'],
    description: 'iptables INPUT policy DROP, logging what it drops per protocol',
  },
  {
    group: 4,
    label: 'nft ct new',
    prefixes: ['IPTABLES: ACCEPT '],
    description: 'nftables forward chain: ct state new log prefix "IPTABLES: ACCEPT " group 4',
  },
];

// The router's iptables (IPv4 filter table), as iptables-save writes it.
const IPTABLES_RULES = `*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DROP_LOGGING - [0:0]
:LOG_AND_ACCEPT - [0:0]
:LOG_AND_DROP - [0:0]
:LOG_AND_REJECT - [0:0]
-A DROP_LOGGING -j NFLOG --nflog-group 1 --nflog-prefix "DROP_LOGGING: "
-A DROP_LOGGING -j DROP
-A LOG_AND_ACCEPT -j NFLOG --nflog-group 2 --nflog-prefix "[DM-A] "
-A LOG_AND_ACCEPT -j ACCEPT
-A LOG_AND_DROP -j NFLOG --nflog-group 2 --nflog-prefix "[DM-D] "
-A LOG_AND_DROP -j DROP
-A LOG_AND_REJECT -j NFLOG --nflog-group 2 --nflog-prefix "[DM-R] "
-A LOG_AND_REJECT -p tcp -j REJECT --reject-with tcp-reset
-A LOG_AND_REJECT -j REJECT --reject-with icmp-port-unreachable
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp -j NFLOG --nflog-group 3 --nflog-prefix "tcp.in.dropped"
-A INPUT -p udp -j NFLOG --nflog-group 3 --nflog-prefix "udp.in.dropped"
-A INPUT -p icmp -j NFLOG --nflog-group 3 --nflog-prefix "icmp.in.dropped"
-A FORWARD -m conntrack --ctstate RELATED -j LOG_AND_ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -p tcp --dport 80 -j LOG_AND_ACCEPT
-A FORWARD -p tcp --dport 81 -j LOG_AND_DROP
-A FORWARD -p tcp --dport 82 -j LOG_AND_REJECT
-A FORWARD -p udp --dport 5353 -j LOG_AND_ACCEPT
-A FORWARD -p udp --dport 7 -j LOG_AND_ACCEPT
-A FORWARD -p icmp --icmp-type echo-request -j LOG_AND_ACCEPT
-A FORWARD -j DROP_LOGGING
COMMIT
`;

// After iptables' filter (priority 0): it logs only what iptables let through. inet: IPv6 too.
const NFT_RULES = `table inet demo_log {
  chain forward {
    type filter hook forward priority 10; policy accept;
    ct state new log prefix "IPTABLES: ACCEPT " group 4
  }
}
`;

/** One thing the traffic script does. */
export interface DemoStep {
  /** What is sent, and what should log it. */
  description: string;
  run(lab: DemoLab, signal: AbortSignal): Promise<void>;
}

// TCP: connect, send a few bytes, close; exits at once when refused, after `ms` when nobody answers
// (under 1 s: before the kernel retransmits the SYN, so a dropped connection logs once).
const TCP_TRY = `
const net = require('node:net');
const [host, port, ms] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) }, () => s.end('demo\\n'));
s.on('data', () => {});
s.on('error', () => {});
s.on('close', () => process.exit(0));
setTimeout(() => process.exit(0), Number(ms));
`;
// UDP: one datagram on a connected socket (so an ICMP error ends it early); waits `ms` for a reply.
const UDP_TRY = `
const dgram = require('node:dgram');
const [host, port, ms] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
s.on('message', () => process.exit(0));
s.on('error', () => process.exit(0));
s.connect(Number(port), host, () => s.send('demo\\n'));
setTimeout(() => process.exit(0), Number(ms));
`;

const g = GATEWAY;
const tcp =
  (ns: string, host: string, port: number, ms = 900) =>
  (lab: DemoLab, signal: AbortSignal) =>
    lab.run(ns, [process.execPath, '-e', TCP_TRY, host, String(port), String(ms)], ms + 2000, signal);
const udp =
  (ns: string, host: string, port: number, ms = 1000) =>
  (lab: DemoLab, signal: AbortSignal) =>
    lab.run(ns, [process.execPath, '-e', UDP_TRY, host, String(port), String(ms)], ms + 2000, signal);
const ping = (ns: string, host: string) => (lab: DemoLab, signal: AbortSignal) =>
  lab.run(ns, ['ping', host.includes(':') ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', '1', host], 3000, signal);

/** One round of traffic: each kind once. About 6 s, most of it waiting for dropped connections to give up. */
export const DEMO_STEPS: DemoStep[] = [
  {
    description: `client → server tcp/80: LOG_AND_ACCEPT [DM-A], nft "IPTABLES: ACCEPT", masqueraded flow`,
    run: tcp('client', g.server4, 80),
  },
  { description: 'client → server tcp/81: LOG_AND_DROP [DM-D]', run: tcp('client', g.server4, 81) },
  { description: 'client → server tcp/82: LOG_AND_REJECT [DM-R] (TCP reset)', run: tcp('client', g.server4, 82) },
  { description: 'client → server tcp/23: no rule, DROP_LOGGING', run: tcp('client', g.server4, 23) },
  { description: 'client → server udp/5353 (echo): LOG_AND_ACCEPT [DM-A], nft "IPTABLES: ACCEPT"', run: udp('client', g.server4, 5353) },
  { description: 'client → server icmp echo: LOG_AND_ACCEPT [DM-A], nft "IPTABLES: ACCEPT"', run: ping('client', g.server4) },
  {
    description: 'client → server udp/7 (closed): accepted; the ICMP port unreachable back is RELATED, [DM-A]',
    run: udp('client', g.server4, 7),
  },
  { description: 'client → router tcp/22: INPUT default deny, tcp.in.dropped', run: tcp('client', g.routerIn4, 22) },
  { description: 'client → router udp/161: INPUT default deny, udp.in.dropped', run: udp('client', g.routerIn4, 161, 300) },
  { description: 'client → router icmp echo: INPUT default deny, icmp.in.dropped', run: ping('client', g.routerIn4) },
  { description: 'client → server IPv6 tcp/80: nft "IPTABLES: ACCEPT", masqueraded IPv6 flow', run: tcp('client', g.server6, 80) },
  { description: 'client → server IPv6 icmp echo: nft "IPTABLES: ACCEPT"', run: ping('client', g.server6) },
  {
    description: `server → router tcp/${g.forwardedPort}: DNAT port forward to client tcp/80, LOG_AND_ACCEPT [DM-A], DNAT flow`,
    run: tcp('server', g.routerOut4, g.forwardedPort),
  },
];

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes demo namespaces left by a run that was killed (its pid is gone),
 * with the servers still running inside them. Returns the names removed.
 */
export function removeStaleDemoLabs(): string[] {
  const listing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (listing.status !== 0) return [];
  const pattern = new RegExp(`^${DEMO_LAB_PREFIX}(\\d+)-[a-z]+$`);
  const removed: string[] = [];
  for (const line of listing.stdout.split('\n')) {
    const name = line.split(' ')[0];
    const match = pattern.exec(name);
    if (match === null || pidAlive(Number(match[1]))) continue;
    const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
    for (const pid of (pids.stdout ?? '').split('\n').map(Number)) {
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    if (spawnSync('ip', ['netns', 'del', name]).status === 0) removed.push(name);
  }
  return removed;
}

/** The demo's gateway lab with its rulesets and servers. */
export class DemoLab {
  readonly lab = new NetnsLab(DEMO_LAB_PREFIX);
  private readonly servers: ChildProcess[] = [];
  private readonly running = new Set<ChildProcess>();

  /** The router's namespace: where the collector listens. */
  get router(): string {
    return this.lab.name('router');
  }

  /** Namespaces, links, routes, NAT, then the router's rulesets. Throws on the first failure. */
  build(): void {
    buildGateway(this.lab);
    this.lab.exec('router', 'iptables-restore', [], IPTABLES_RULES);
    this.lab.nft('router', NFT_RULES);
  }

  /** Servers the accepted traffic talks to: TCP on server:80 (IPv4 and IPv6), UDP echo on 5353, TCP on client:80 for the port forward. */
  async startServers(): Promise<void> {
    this.servers.push(await startServer(this.lab, 'server', 'tcp-sink', 80, '::'));
    this.servers.push(await startServer(this.lab, 'server', 'udp-echo', 5353, g.server4));
    this.servers.push(await startServer(this.lab, 'client', 'tcp-sink', 80, g.client4));
  }

  /** Runs a command in a lab namespace; resolves when it exits, is killed after `timeoutMs`, or on abort. */
  run(ns: string, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    const child = spawn('ip', ['netns', 'exec', this.lab.name(ns), ...argv], { stdio: 'ignore' });
    this.running.add(child);
    return new Promise((resolve) => {
      const stop = (): void => {
        child.kill('SIGKILL');
      };
      const timer = setTimeout(stop, timeoutMs);
      signal.addEventListener('abort', stop, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stop);
        this.running.delete(child);
        resolve();
      };
      child.once('exit', done);
      child.once('error', done);
    });
  }

  /** Ends every flow in the router's conntrack table, so their DESTROY records (with counters) arrive now. */
  flushConntrack(): boolean {
    try {
      this.lab.exec('router', 'conntrack', ['-F']);
      return true;
    } catch {
      return false;
    }
  }

  /** Kills the servers and what is still running, removes the namespaces. Idempotent. */
  destroy(): void {
    for (const child of [...this.servers, ...this.running]) child.kill('SIGKILL');
    this.servers.length = 0;
    this.running.clear();
    this.lab.destroy();
  }
}

/** Which tools the demo needs that are missing (installHint says what to install). */
export function missingDemoTools(): string[] {
  const missing: string[] = [];
  for (const [tool, args] of [
    ['iptables-restore', ['--version']],
    ['ping', ['-V']],
  ] as const) {
    try {
      execFileSync(tool, args, { stdio: 'ignore', timeout: 5000 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing.push(tool);
    }
  }
  return missing;
}
