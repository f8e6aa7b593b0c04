// IP address literals as CTDB reads them. CTDB uses inet_pton(3), so only
// numeric literals are accepted: dotted-quad IPv4 without leading zeros and
// IPv6 without zone ids. Formatting follows glibc's inet_ntop(3), which is
// what CTDB prints, so our output matches `ctdb listnodes`/`ctdb ip`.

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
  /** Canonical text as inet_ntop(3) prints it. */
  text: string;
}

/** inet_pton(AF_INET): exactly four decimal parts 0..255, no leading zeros. */
export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? "";
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** inet_pton(AF_INET6), including an embedded dotted-quad tail. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  const dbl = s.indexOf("::");
  if (dbl !== -1 && s.indexOf("::", dbl + 1) !== -1) return undefined;
  const parseGroups = (part: string, allowV4Tail: boolean): number[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? "";
      if (allowV4Tail && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      words.push(Number.parseInt(g, 16));
    }
    return words;
  };
  let words: number[];
  if (dbl === -1) {
    const w = parseGroups(s, true);
    if (w === undefined || w.length !== 8) return undefined;
    words = w;
  } else {
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (head === undefined || tail === undefined) return undefined;
    if (head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** glibc inet_ntop(AF_INET6): longest run (>= 2) of zero words becomes "::". */
export function formatIPv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else {
      curBase = -1;
      curLen = 0;
    }
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) tails
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIPv4(b.subarray(12, 16));
      break;
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * A node or public address as CTDB's protocol/protocol_util.c ip_from_string
 * reads it: no ':' means IPv4; otherwise IPv6, optionally in [brackets]; an
 * IPv4-mapped IPv6 address is re-read as the IPv4 address after the last ':'
 * (so "::ffff:1.2.3.4" is the IPv4 node 1.2.3.4).
 */
export function parseIpLiteral(str: string): IpAddress | undefined {
  const lastColon = str.lastIndexOf(":");
  if (lastColon === -1) {
    const v4 = parseIPv4(str);
    return v4 === undefined ? undefined : { family: 4, bytes: v4, text: formatIPv4(v4) };
  }
  if (str.length >= 64) return undefined;
  let s = str;
  if (s.length >= 2 && s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const v6 = parseIPv6(s);
  if (v6 === undefined) return undefined;
  if (V4_MAPPED_PREFIX.every((x, i) => v6[i] === x)) {
    const v4 = parseIPv4(s.slice(s.lastIndexOf(":") + 1));
    return v4 === undefined ? undefined : { family: 4, bytes: v4, text: formatIPv4(v4) };
  }
  return { family: 6, bytes: v6, text: formatIPv6(v6) };
}

/** Plain inet_pton of either family, as CTDB's [cluster] node address check. */
export function isInetPtonAddress(s: string): boolean {
  return parseIPv4(s) !== undefined || parseIPv6(s) !== undefined;
}

/** Looks like a host name rather than a mistyped address (used for clearer errors). */
export function looksLikeHostname(s: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s) && /[A-Za-z]/.test(s);
}
