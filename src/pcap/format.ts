// The pcap file format as it carries NFLOG entries (LINKTYPE_NFLOG, 239).
//
// File header (24 bytes), in the writing host's byte order, which the magic
// number reveals: magic, version 2.4, thiszone, sigfigs, snaplen, link type.
// Each record: a 16-byte header (seconds, micro- or nanoseconds, captured
// length, original length), then the captured bytes.
//
// A LINKTYPE_NFLOG record is an NFLOG netlink message without its nlmsghdr
// (libpcap's pcap-netfilter-linux.c hands NLMSG_DATA to the file): a 4-byte
// header (u8 family, u8 version 0, be16 resource id = the group), then TLVs
// whose u16 length and u16 type are in the capturing host's byte order (the
// file's byte order: libpcap swaps them along with the file), padded to 4
// bytes, values in network byte order; the types are the NFULA_* numbers.
// libpcap stamps each record with gettimeofday() when it reads the datagram.

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** The pcapng section header block type: a different format, said so by name. */
export const PCAPNG_MAGIC = 0x0a0d0d0a;

export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;

export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

export const LINKTYPE_NFLOG = 239;

/** libpcap's largest snapshot length; records up to this are accepted whatever the header says. */
export const MAXIMUM_SNAPLEN = 262144;
/** Records longer than this are taken for corruption, whatever the snaplen claims. */
export const LARGEST_RECORD = 16 * 1024 * 1024;

/** The NFLOG pseudo-header: family, version, resource id. */
export const NFLOG_HEADER_LEN = 4;
export const NFLOG_VERSION = 0;
export const NFLOG_TLV_HEADER_LEN = 4;

export type ByteOrder = 'little' | 'big';

/** What a pcap file header says. */
export interface PcapFileHeader {
  byteOrder: ByteOrder;
  /** True for the nanosecond magic (0xa1b23c4d). */
  nanoseconds: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}
