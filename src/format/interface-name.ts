// How the line formats (the LOG line, LOGEMU, the readable line) print an
// interface. The kernel prints the device's name, or nothing when the packet
// has no such device (IN= on the OUTPUT hook). A record can hold an index
// whose name is unknown: a capture read offline without --interface-names,
// or a device gone before rtnetlink named it. Such an interface prints as
// '#' and its index (IN=#2): never an empty field that would read as "no
// device". '#' keeps it apart from real names in practice and, holding no
// space, it still parses as one word (Filebeat's and other LOG-line parsers).

/** The name, else '#' + the index, else ''. */
export function interfaceText(name: string | undefined, index: number | undefined): string {
  if (name !== undefined) return name;
  return index !== undefined ? '#' + index : '';
}
