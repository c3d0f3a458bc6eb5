// Hand-made packets for the LOG-line tests: a short Python program run inside
// a lab namespace sends exactly one raw packet per case (IPv4 options and
// flags, every TCP flag, fragments, IPv6 extension headers, AH/ESP,
// UDP-Lite, an ICMP error quoting TCP). Checksums are left 0 where the rules
// log before anything checks them (prerouting, priority -450).
import { execFileSync } from 'node:child_process';
import type { NetnsLab } from '../../src/lab/netns';

const CRAFTER = String.raw`
import socket, struct, sys
case, src4, dst4, src6, dst6 = sys.argv[1:6]

def ip4(proto, payload, ident, tos=0, flags=0, frag=0, ttl=64, opts=b''):
    ihl = 5 + len(opts) // 4
    return struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, tos, 20 + len(opts) + len(payload), ident,
                       (flags << 13) | frag, ttl, proto, 0, socket.inet_aton(src4), socket.inet_aton(dst4)) + opts + payload

def ip6(nexthdr, payload, flowlabel, tc=0, hlim=64):
    return struct.pack('!IHBB', (6 << 28) | (tc << 20) | flowlabel, len(payload), nexthdr, hlim) + \
        socket.inet_pton(socket.AF_INET6, src6) + socket.inet_pton(socket.AF_INET6, dst6) + payload

def tcp(sport, dport, seq, ack, flags, window, urg, opts=b'', res=0):
    doff = 5 + len(opts) // 4
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, (doff << 4) | (res << 1) | ((flags >> 8) & 1),
                       flags & 0xff, window, 0, urg) + opts

def udp(sport, dport, data):
    return struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data

def send4(pkt):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(pkt, (dst4, 0))

def send6(pkt):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(pkt, (dst6, 0))

TCP_OPTS = bytes.fromhex('020405b40402080a0001e24000000000010303070000')[:20]
if case == 'tcp4-flags':
    send4(ip4(6, tcp(40100, 7010, 123456789, 987654321, 0x1ff, 512, 77, TCP_OPTS, res=7), 0x4101, tos=0x30, flags=0b110))
elif case == 'tcp4-ipopts':
    send4(ip4(6, tcp(40101, 7011, 1, 0, 0x002, 1024, 0, TCP_OPTS), 0x4102, flags=0b010, opts=bytes.fromhex('9404000001010100')))
elif case == 'udp4-frag-first':
    send4(ip4(17, udp(40102, 7012, b'x' * 16), 0x4103, flags=0b001))
elif case == 'udp4-frag-later':
    send4(ip4(17, b'y' * 16, 0x4104, frag=3))
elif case == 'ah4':
    send4(ip4(51, struct.pack('!BBHII', 1, 4, 0, 0x1234abcd, 7) + b'\0' * 12 + b'z' * 8, 0x4105))
elif case == 'esp4':
    send4(ip4(50, struct.pack('!II', 0xdeadbeef, 9) + b'e' * 24, 0x4106))
elif case == 'icmp4-fragneeded':
    quoted = ip4(6, tcp(7013, 40103, 5555, 6666, 0x018, 2048, 0, TCP_OPTS), 0x0777, ttl=63)
    send4(ip4(1, struct.pack('!BBHHH', 3, 4, 0, 0, 1400) + quoted, 0x4107))
elif case == 'icmp4-truncated':
    send4(ip4(1, struct.pack('!BBHHH', 11, 0, 0, 0, 0) + b'q' * 6, 0x4108))
elif case == 'udplite4':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
    s.sendto(b'lite' * 4, (dst4, 7014))
elif case == 'udplite6':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, 136)
    s.sendto(b'lite' * 4, (dst6, 7015))
elif case == 'ext6':
    hbh = bytes([60, 0, 1, 4, 0, 0, 0, 0])
    dst = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    send6(ip6(0, hbh + dst + udp(40104, 7016, b'x' * 8), 0x61001, tc=0x28))
elif case == 'frag6-first':
    frag = struct.pack('!BBHI', 6, 0, (0 << 3) | 1, 0xa1b2c3d4)
    send6(ip6(44, frag + tcp(40105, 7017, 42, 0, 0x002, 1000, 0, TCP_OPTS), 0x61002))
elif case == 'frag6-later':
    frag = struct.pack('!BBHI', 6, 0, (5 << 3), 0xa1b2c3d5)
    send6(ip6(44, frag + b'p' * 16, 0x61003))
elif case == 'ah6':
    ah = struct.pack('!BBHII', 58, 4, 0, 0xabc123, 3) + b'\0' * 12
    echo = struct.pack('!BBHHH', 128, 0, 0, 0x77, 5) + b'a' * 8
    send6(ip6(51, ah + echo, 0x61004))
elif case == 'esp6':
    send6(ip6(50, struct.pack('!II', 0x5eed, 1) + b'e' * 24, 0x61005))
elif case == 'icmp6-toobig':
    quoted = ip6(17, udp(7018, 40106, b'u' * 8), 0x00001)
    send6(ip6(58, struct.pack('!BBHI', 2, 0, 0, 1280) + quoted, 0x61006))
elif case == 'icmp6-paramprob':
    quoted = ip6(6, tcp(7019, 40107, 1, 2, 0x010, 100, 0), 0x00002)
    send6(ip6(58, struct.pack('!BBHI', 4, 1, 0, 40) + quoted, 0x61007))
else:
    sys.exit('unknown case ' + case)
`;

export const CRAFTED_CASES = [
  'tcp4-flags',
  'tcp4-ipopts',
  'udp4-frag-first',
  'udp4-frag-later',
  'ah4',
  'esp4',
  'icmp4-fragneeded',
  'icmp4-truncated',
  'udplite4',
  'udplite6',
  'ext6',
  'frag6-first',
  'frag6-later',
  'ah6',
  'esp6',
  'icmp6-toobig',
  'icmp6-paramprob',
] as const;
export type CraftedCase = (typeof CRAFTED_CASES)[number];

/** Sends the packet of one case from `ns`: addresses are the sender's and the receiver's. */
export function sendCrafted(
  lab: NetnsLab,
  ns: string,
  name: CraftedCase,
  addresses: { src4: string; dst4: string; src6: string; dst6: string },
): void {
  execFileSync(
    'ip',
    ['netns', 'exec', lab.name(ns), 'python3', '-c', CRAFTER, name, addresses.src4, addresses.dst4, addresses.src6, addresses.dst6],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
  );
}

/** nft matches that select exactly one case's packet in the receiver's prerouting. */
export const CRAFTED_MATCH: Record<CraftedCase, string> = {
  'tcp4-flags': 'ip id 0x4101',
  'tcp4-ipopts': 'ip id 0x4102',
  'udp4-frag-first': 'ip id 0x4103',
  'udp4-frag-later': 'ip id 0x4104',
  ah4: 'ip id 0x4105',
  esp4: 'ip id 0x4106',
  'icmp4-fragneeded': 'ip id 0x4107',
  'icmp4-truncated': 'ip id 0x4108',
  udplite4: 'meta nfproto ipv4 meta l4proto 136',
  udplite6: 'meta nfproto ipv6 meta l4proto 136',
  ext6: 'ip6 flowlabel 0x61001',
  'frag6-first': 'ip6 flowlabel 0x61002',
  'frag6-later': 'ip6 flowlabel 0x61003',
  ah6: 'ip6 flowlabel 0x61004',
  esp6: 'ip6 flowlabel 0x61005',
  'icmp6-toobig': 'ip6 flowlabel 0x61006',
  'icmp6-paramprob': 'ip6 flowlabel 0x61007',
};
