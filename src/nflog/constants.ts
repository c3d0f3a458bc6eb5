// Numbers from linux/netfilter/nfnetlink_log.h and nfnetlink.h.

export const NFNL_SUBSYS_ULOG = 4;
export const NFULNL_MSG_PACKET = 0;
/** nlmsg_type of an NFLOG packet message. */
export const NFLOG_PACKET_TYPE = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;

/** struct nfgenmsg: u8 family, u8 version, be16 res_id (the group). */
export const NFGENMSG_LEN = 4;

export const NFULA_PACKET_HDR = 1;
export const NFULA_MARK = 2;
export const NFULA_TIMESTAMP = 3;
export const NFULA_IFINDEX_INDEV = 4;
export const NFULA_IFINDEX_OUTDEV = 5;
export const NFULA_IFINDEX_PHYSINDEV = 6;
export const NFULA_IFINDEX_PHYSOUTDEV = 7;
export const NFULA_HWADDR = 8;
export const NFULA_PAYLOAD = 9;
export const NFULA_PREFIX = 10;
export const NFULA_UID = 11;
export const NFULA_SEQ = 12;
export const NFULA_SEQ_GLOBAL = 13;
export const NFULA_GID = 14;
export const NFULA_HWTYPE = 15;
export const NFULA_HWHEADER = 16;
export const NFULA_HWLEN = 17;
export const NFULA_CT = 18;
export const NFULA_CT_INFO = 19;
export const NFULA_VLAN = 20;
export const NFULA_L2HDR = 21;
export const NFULA_MAX = 21;

export const NFULA_VLAN_PROTO = 1;
export const NFULA_VLAN_TCI = 2;
export const NFULA_VLAN_MAX = 2;

/** NFULA_CFG_FLAGS bits. */
export const NFULNL_CFG_F_SEQ = 0x0001;
export const NFULNL_CFG_F_SEQ_GLOBAL = 0x0002;
export const NFULNL_CFG_F_CONNTRACK = 0x0004;
