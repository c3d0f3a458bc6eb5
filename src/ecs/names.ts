// Names for the numbers in a packet record, as the ECS documents spell them:
// IP protocols (network.transport), netfilter families and hooks, TCP and IPv4
// flags, MAC addresses. Tables are built once; lookups do not allocate.

/** IANA protocol keywords (lower case) for network.transport; others are written as the number. */
const PROTOCOL_NAMES: Record<number, string> = {
  0: 'hopopt',
  1: 'icmp',
  2: 'igmp',
  4: 'ipv4',
  6: 'tcp',
  8: 'egp',
  17: 'udp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  88: 'eigrp',
  89: 'ospfigp',
  94: 'ipip',
  103: 'pim',
  108: 'ipcomp',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
  135: 'mobility-header',
  136: 'udplite',
  137: 'mpls-in-ip',
  143: 'ethernet',
};

const TRANSPORT: string[] = [];
const NUMBER: string[] = [];
for (let i = 0; i < 256; i++) {
  NUMBER.push(String(i));
  TRANSPORT.push(PROTOCOL_NAMES[i] ?? String(i));
}

/** network.transport for an IP protocol number: 'tcp', 'ipv6-icmp' … or the number as a string. */
export function transportName(protocol: number): string {
  return TRANSPORT[protocol] ?? String(protocol);
}

/** network.iana_number: the protocol number as a string (ECS keyword). */
export function ianaNumber(protocol: number): string {
  return NUMBER[protocol] ?? String(protocol);
}

/** Netfilter protocol families (NFPROTO_*). */
const FAMILY_NAMES: Record<number, string> = {
  0: 'unspec',
  1: 'inet',
  2: 'ipv4',
  3: 'arp',
  5: 'netdev',
  7: 'bridge',
  10: 'ipv6',
  12: 'decnet',
};

export function familyName(family: number): string | undefined {
  return FAMILY_NAMES[family];
}

const INET_HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'];
const BRIDGE_HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'brouting'];
const ARP_HOOKS = ['input', 'output', 'forward'];
const NETDEV_HOOKS = ['ingress', 'egress'];

/** The hook's name in its family (NF_INET_*, NF_BR_*, NF_ARP_*, NF_NETDEV_*), undefined when not known. */
export function hookName(family: number, hook: number): string | undefined {
  switch (family) {
    case 1:
    case 2:
    case 10:
      return INET_HOOKS[hook];
    case 7:
      return BRIDGE_HOOKS[hook];
    case 3:
      return ARP_HOOKS[hook];
    case 5:
      return NETDEV_HOOKS[hook];
    default:
      return undefined;
  }
}

/**
 * network.direction from the host's point of view (ECS: host-based monitoring
 * uses ingress/egress): packets logged on an input or ingress hook are
 * 'ingress', on an output or egress hook 'egress'. Forwarded, prerouting and
 * postrouting packets pass through; their direction relative to a perimeter is
 * not known here, so none is given.
 */
export function hookDirection(family: number, hook: number): 'ingress' | 'egress' | undefined {
  const name = hookName(family, hook);
  if (name === 'input' || name === 'ingress') return 'ingress';
  if (name === 'output' || name === 'egress') return 'egress';
  return undefined;
}

/** Lower-case names of the IPv4 flags as the kernel's LOG target names them: ce (reserved bit), df, mf. */
export function ipv4FlagNames(reserved: boolean, dontFragment: boolean, moreFragments: boolean): string[] {
  const out: string[] = [];
  if (reserved) out.push('ce');
  if (dontFragment) out.push('df');
  if (moreFragments) out.push('mf');
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

const UPPER_HEX = '0123456789ABCDEF';
const MAC_CACHE = new Map<string, string | null>();
const MAC_CACHE_MAX = 4096;

/**
 * ECS MAC format (source.mac pattern `^[A-F0-9]{2}(-[A-F0-9]{2}){5,}$`):
 * upper-case hex pairs joined by dashes. Accepts 'aa:bb:…' / 'aa-bb-…' with at
 * least 6 octets; undefined for anything else. Results are cached (a gateway
 * sees few distinct MACs).
 */
export function ecsMac(mac: string): string | undefined {
  const hit = MAC_CACHE.get(mac);
  if (hit !== undefined) return hit ?? undefined;
  const r = formatMac(mac);
  if (MAC_CACHE.size >= MAC_CACHE_MAX) MAC_CACHE.clear();
  MAC_CACHE.set(mac, r ?? null);
  return r;
}

function formatMac(mac: string): string | undefined {
  const n = mac.length;
  if (n < 17 || (n + 1) % 3 !== 0) return undefined;
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = mac.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58 && c !== 45) return undefined;
      out += '-';
    } else {
      const v = hexDigit(c);
      if (v < 0) return undefined;
      out += UPPER_HEX[v];
    }
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** ECS MAC from 6 bytes of plain hex at `offset` (hex digits) of a header dump such as NFULA_HWHEADER. */
export function ecsMacFromHex(hex: string, offset: number): string | undefined {
  if (hex.length < offset + 12) return undefined;
  let out = '';
  for (let i = 0; i < 12; i += 2) {
    const a = hex.charCodeAt(offset + i);
    const b = hex.charCodeAt(offset + i + 1);
    if (!isHex(a) || !isHex(b)) return undefined;
    out += (i === 0 ? '' : '-') + hex[offset + i] + hex[offset + i + 1];
  }
  return out.toUpperCase();
}
