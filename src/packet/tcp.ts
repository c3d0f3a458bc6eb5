// TCP header (RFC 9293): flags, raw options, MSS.

import { hexUpper } from './hex';
import { type LayerSink, u16, u32 } from './layer-sink';
import type { TcpHeader } from './types';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
/** The 0x100 bit: AE (Accurate ECN, RFC 9768), formerly NS; the kernel's LOG line says AE. */
export const TCP_AE = 0x100;

// In the order the kernel's LOG target prints them, AE first.
const FLAG_BITS: Array<[number, string]> = [
  [TCP_AE, 'ae'],
  [TCP_CWR, 'cwr'],
  [TCP_ECE, 'ece'],
  [TCP_URG, 'urg'],
  [TCP_ACK, 'ack'],
  [TCP_PSH, 'psh'],
  [TCP_RST, 'rst'],
  [TCP_SYN, 'syn'],
  [TCP_FIN, 'fin'],
];
const FLAG_TABLE: ReadonlyArray<readonly string[]> = Array.from({ length: 512 }, (_, bits) =>
  FLAG_BITS.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name),
);

/** Lower-case names of the set TCP flags, in the kernel's LOG order: ae, cwr, ece, urg, ack, psh, rst, syn, fin (a new array each call). */
export function tcpFlagNames(flags: number): string[] {
  return FLAG_TABLE[flags & 0x1ff].slice();
}

/**
 * Decodes the TCP header at offset into out.transport. Fewer than 20 bytes:
 * no header, 'tcp.truncated'. A data offset below 5 ('tcp.bad-data-offset') or
 * options cut off by the capture ('tcp.truncated') keep the fixed header.
 */
export function decodeTcp(bytes: Uint8Array, offset: number, end: number, out: LayerSink): void {
  if (end - offset < 20) {
    out.error = 'tcp.truncated';
    return;
  }
  const offFlags = u16(bytes, offset + 12);
  const dataOffset = offFlags >> 12;
  const tcp: TcpHeader = {
    kind: 'tcp',
    srcPort: u16(bytes, offset),
    dstPort: u16(bytes, offset + 2),
    seq: u32(bytes, offset + 4),
    ack: u32(bytes, offset + 8),
    dataOffset,
    flags: offFlags & 0x1ff,
    window: u16(bytes, offset + 14),
    checksum: u16(bytes, offset + 16),
    urgentPointer: u16(bytes, offset + 18),
    options: '',
    reserved: (bytes[offset + 12] >> 1) & 0x07,
    // In the literal, so that a SYN's MSS does not add a property (a new hidden class and a property array).
    mss: undefined,
  };
  out.transport = tcp;
  if (dataOffset < 5) {
    out.error = 'tcp.bad-data-offset';
    return;
  }
  if (dataOffset === 5) return;
  let optEnd = offset + dataOffset * 4;
  if (optEnd > end) {
    out.error = 'tcp.truncated';
    optEnd = end;
  }
  tcp.options = optionsText(bytes, offset + 20, optEnd);
  const mss = findMss(bytes, offset + 20, optEnd);
  if (mss >= 0) tcp.mss = mss;
}

// A SYN scanner's SYNs (and many a stack's) carry one option, the MSS: the text of 4 bytes of options comes
// from 64 slots (chosen by a hash of the bytes) that remember the last 4 bytes that fell in each and their text.
const SHORT_SLOTS = 64;
const SHORT_KEYS = new Int32Array(SHORT_SLOTS);
const SHORT_TEXTS: Array<string | undefined> = new Array<string | undefined>(SHORT_SLOTS).fill(undefined);

/** Upper-case hex of the option bytes [start, end). */
function optionsText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start !== 4) return hexUpper(bytes, start, end);
  const key = (bytes[start] << 24) | (bytes[start + 1] << 16) | (bytes[start + 2] << 8) | bytes[start + 3];
  const slot = Math.imul(key, 0x9e3779b1) >>> 26; // the top 6 bits: SHORT_SLOTS slots
  const known = SHORT_TEXTS[slot];
  if (known !== undefined && SHORT_KEYS[slot] === key) return known;
  const text = hexUpper(bytes, start, end);
  SHORT_KEYS[slot] = key;
  SHORT_TEXTS[slot] = text;
  return text;
}

/** Value of the MSS option (kind 2, length 4) in [start, end), or -1. */
function findMss(bytes: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end) {
    const kind = bytes[p];
    if (kind === 0) return -1; // end of option list
    if (kind === 1) {
      p++; // no-operation
      continue;
    }
    if (end - p < 2) return -1;
    const len = bytes[p + 1];
    if (len < 2 || end - p < len) return -1;
    if (kind === 2 && len === 4) return u16(bytes, p + 2);
    p += len;
  }
  return -1;
}
