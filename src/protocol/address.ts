// Text <-> bytes for IPv4/IPv6 addresses. Formatting follows glibc's
// inet_ntop (which CTDB's ctdb_sock_addr_to_string uses), so addresses we
// print match the ctdb tool character for character.
import { isIPv4, isIPv6 } from "node:net";

export function parseIPv4(s: string): Buffer | undefined {
  if (!isIPv4(s)) return undefined;
  return Buffer.from(s.split(".").map((p) => Number(p)));
}

export function parseIPv6(input: string): Buffer | undefined {
  if (!isIPv6(input) || input.includes("%")) return undefined;
  let s = input;
  const words: number[] = [];
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  const v4part = s.slice(lastColon + 1);
  if (v4part.includes(".")) {
    const v4 = parseIPv4(v4part);
    if (v4 === undefined) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    s = s.slice(0, lastColon + 1);
    if (s.endsWith(":") && !s.endsWith("::")) s = s.slice(0, -1);
  }
  const dbl = s.indexOf("::");
  const parseGroup = (g: string): number[] => (g === "" ? [] : g.split(":").map((x) => Number.parseInt(x, 16)));
  if (dbl >= 0) {
    const head = parseGroup(s.slice(0, dbl));
    const rest = parseGroup(s.slice(dbl + 2));
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 0) return undefined;
    words.push(...head, ...new Array<number>(fill).fill(0), ...rest, ...tail);
  } else {
    words.push(...parseGroup(s), ...tail);
  }
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return undefined;
  const b = Buffer.allocUnsafe(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(words[i]!, i * 2);
  return b;
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function formatIPv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  // Longest run of zero words (at least two), the first one on a tie.
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIPv4(b.subarray(12, 16));
      return out;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}
