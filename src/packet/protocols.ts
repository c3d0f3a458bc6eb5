// Protocol numbers: IP protocols / IPv6 next headers (IANA) and EtherTypes.

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_UDPLITE = 136;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;

// Netfilter protocol families (NFPROTO_*, the nfgenmsg family of an NFLOG entry).
export const NFPROTO_IPV4 = 2;
export const NFPROTO_ARP = 3;
export const NFPROTO_BRIDGE = 7;
export const NFPROTO_IPV6 = 10;

// Link layer: ARPHRD_ETHER hardware type (NFULA_HWTYPE) and the Ethernet header length.
export const ARPHRD_ETHER = 1;
export const ETH_HLEN = 14;
