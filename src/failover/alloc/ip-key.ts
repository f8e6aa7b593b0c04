// The 128-bit key CTDB orders public addresses by and measures LCP2
// distance with: an IPv4 address is its 32 bits behind 96 zero bits, an
// IPv6 address its 128 bits, as four big-endian 32-bit words.

import type { IpAddress } from "../../net/ip.ts";

export type IpKey = readonly [number, number, number, number];

export function ipKey(ip: IpAddress): IpKey {
  const b = ip.bytes;
  const word = (i: number): number => (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
  return ip.family === 4 ? [0, 0, 0, word(0)] : [word(0), word(4), word(8), word(12)];
}

/** Ascending key order (so IPv4 below IPv6). */
export function compareKeys(a: IpKey, b: IpKey): number {
  for (let i = 0; i < 4; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * LCP2's "distance" between two keys, 0..128, larger meaning closer, is the
 * sum over the four words of wordDistance of their XOR. Like CTDB it counts
 * on after the first differing word, so it is a common prefix length only up
 * to that word.
 */
export function wordDistance(xor: number): number {
  // clz32(0) is 32, which is also CTDB's value for equal words.
  return Math.clz32(xor);
}
