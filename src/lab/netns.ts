// A throwaway lab of network namespaces joined by veth pairs, for tests,
// fixture recording, benchmarks and the demo. Everything it creates carries
// its own prefix and is removed by destroy(); nothing touches the host's
// namespace, ruleset or sysctls.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface LinkSpec {
  /** Namespace (short name inside the lab) and interface name of each end. */
  a: { ns: string; ifname: string; addresses?: string[]; mac?: string };
  b: { ns: string; ifname: string; addresses?: string[]; mac?: string };
}

function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** The Debian package of each tool the lab and the demo run. */
const TOOL_PACKAGES: Record<string, string> = { ip: 'iproute2', nft: 'nftables', 'iptables-restore': 'iptables', ping: 'iputils-ping' };

/** What to install for missing tools: `apt-get install …` with their Debian packages. */
export function installHint(tools: readonly string[]): string {
  return `apt-get install ${[...new Set(tools.map((tool) => TOOL_PACKAGES[tool] ?? tool))].join(' ')}`;
}

export class NetnsLab {
  private readonly namespaces = new Set<string>();
  private destroyed = false;

  /** `prefix` should be unique per run: the pid is appended. */
  constructor(readonly prefix: string) {
    this.prefix = `${prefix}${process.pid}`;
  }

  /** Can this process build labs (root, iproute2, nft present)? Returns the reason when not. */
  static unavailable(): string | null {
    if (process.platform !== 'linux') return 'not Linux';
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
    for (const tool of ['ip', 'nft']) {
      const probe = spawnSync(tool, ['-V'], { encoding: 'utf8' });
      if (probe.error) return `${tool} is not installed (${installHint([tool])})`;
    }
    return null;
  }

  /** Full name of a lab namespace. */
  name(ns: string): string {
    return `${this.prefix}-${ns}`;
  }

  /** Creates a namespace with loopback up. */
  addNamespace(ns: string): string {
    const full = this.name(ns);
    if (fs.existsSync(`/run/netns/${full}`)) run('ip', ['netns', 'del', full]);
    run('ip', ['netns', 'add', full]);
    this.namespaces.add(full);
    this.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    return full;
  }

  /** Joins two namespaces with a veth pair, addresses them and brings both ends up. */
  addLink(spec: LinkSpec): void {
    const b = this.name(spec.b.ns);
    // Create in a with a temporary peer name, then move the peer to b: names never clash with the host's.
    const tmp = `nfc${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
    this.exec(spec.a.ns, 'ip', ['link', 'add', spec.a.ifname, 'type', 'veth', 'peer', 'name', tmp]);
    this.exec(spec.a.ns, 'ip', ['link', 'set', tmp, 'netns', b]);
    this.exec(spec.b.ns, 'ip', ['link', 'set', tmp, 'name', spec.b.ifname]);
    for (const [end, ns] of [
      [spec.a, spec.a.ns],
      [spec.b, spec.b.ns],
    ] as const) {
      if (end.mac) this.exec(ns, 'ip', ['link', 'set', end.ifname, 'address', end.mac]);
      for (const address of end.addresses ?? []) {
        const args = ['addr', 'add', address, 'dev', end.ifname];
        if (address.includes(':')) args.push('nodad');
        this.exec(ns, 'ip', args);
      }
      this.exec(ns, 'ip', ['link', 'set', end.ifname, 'up']);
    }
  }

  /** Runs a command inside a lab namespace and returns its stdout. */
  exec(ns: string, command: string, args: string[], input?: string): string {
    return run('ip', ['netns', 'exec', this.name(ns), command, ...args], input);
  }

  /** Loads an nft script into a lab namespace. */
  nft(ns: string, script: string): void {
    this.exec(ns, 'nft', ['-f', '-'], script);
  }

  /** Sets a sysctl inside a lab namespace (net.* only: those are per namespace). */
  sysctl(ns: string, key: string, value: string | number): void {
    if (!key.startsWith('net.')) throw new Error(`refusing to set ${key}: only net.* sysctls are per namespace`);
    // /proc/sys/net shows the namespace of the process that opens it.
    this.exec(ns, 'sh', ['-c', `echo ${Number(value)} > /proc/sys/${key.replace(/\./g, '/')}`]);
  }

  /** Interface index of an interface in a lab namespace. */
  ifindex(ns: string, ifname: string): number {
    return Number(this.exec(ns, 'cat', [`/sys/class/net/${ifname}/ifindex`]).trim());
  }

  /** MAC address of an interface in a lab namespace, lower case. */
  mac(ns: string, ifname: string): string {
    return this.exec(ns, 'cat', [`/sys/class/net/${ifname}/address`]).trim();
  }

  /** Removes every namespace of the lab (and with them their links and rules). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const full of this.namespaces) spawnSync('ip', ['netns', 'del', full]);
    this.namespaces.clear();
  }
}
