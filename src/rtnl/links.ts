// Interface index -> name, kept current from rtnetlink link messages
// (RTM_NEWLINK / RTM_DELLINK) read from the collector's namespace.
import { AttributeTable, NLMSG_HDRLEN } from '../netlink/message';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
/** struct ifinfomsg: u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change. */
const IFINFOMSG_LEN = 16;
const IFLA_IFNAME = 3;

export class LinkTable {
  private readonly names = new Map<number, string>();
  private readonly attrs = new AttributeTable(IFLA_IFNAME);

  /** Name of an interface index, or undefined when unknown. */
  name(index: number): string | undefined {
    return this.names.get(index);
  }

  /** A snapshot of the table. */
  entries(): Map<number, string> {
    return new Map(this.names);
  }

  /**
   * Applies one rtnetlink message (a whole nlmsghdr at `offset`). Returns
   * false when it is a link message that could not be decoded; other message
   * types are ignored.
   */
  apply(bytes: Uint8Array, view: DataView, offset: number, length: number, type: number): boolean {
    if (type !== RTM_NEWLINK && type !== RTM_DELLINK) return true;
    const body = offset + NLMSG_HDRLEN;
    const end = offset + length;
    if (body + IFINFOMSG_LEN > end) return false;
    const index = view.getInt32(body + 4, true);
    if (type === RTM_DELLINK) {
      this.names.delete(index);
      return true;
    }
    if (this.attrs.parse(view, body + IFINFOMSG_LEN, end)) return false;
    if (!this.attrs.has(IFLA_IFNAME)) return true;
    const at = this.attrs.offsets[IFLA_IFNAME];
    const max = this.attrs.lengths[IFLA_IFNAME];
    let name = '';
    for (let i = 0; i < max && bytes[at + i] !== 0; i++) name += String.fromCharCode(bytes[at + i]);
    this.names.set(index, name);
    return true;
  }
}
