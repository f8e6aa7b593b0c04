/**
 * IP address text exactly as ctdb reads and prints it: inet_pton() rules
 * (strict dotted quad, no leading zeros; IPv6 with "::" and an optional
 * trailing dotted quad), IPv4-mapped IPv6 addresses turned into IPv4, and
 * inet_ntop() output (RFC 5952 style, embedded IPv4 for ::a.b.c.d and
 * ::ffff:a.b.c.d). Pure.
 */

export type IpAddr = { family: 4; bytes: number[] } | { family: 6; words: number[] };

export function parseIPv4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    if (p.length > 1 && p[0] === "0") return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

export function parseIPv6(s: string): number[] | null {
  if (s.length === 0) return null;
  let head = s;
  let v4: number[] | null = null;
  const lastColon = s.lastIndexOf(":");
  if (lastColon !== -1 && s.indexOf(".", lastColon) !== -1) {
    v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    head = s.slice(0, lastColon + 1);
    // "1::" + v4 leaves "1::"; "::ffff:" + v4 leaves "::ffff:" whose trailing ':' belongs to the v4 part.
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const wordsNeeded = v4 === null ? 8 : 6;
  const dbl = head.indexOf("::");
  if (dbl !== -1 && head.indexOf("::", dbl + 1) !== -1) return null;
  const parseGroups = (t: string): number[] | null => {
    if (t === "") return [];
    const out: number[] = [];
    for (const g of t.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let words: number[];
  if (dbl === -1) {
    const g = parseGroups(head);
    if (g === null || g.length !== wordsNeeded) return null;
    words = g;
  } else {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (left === null || right === null) return null;
    const fill = wordsNeeded - left.length - right.length;
    if (fill < 1) return null;
    words = [...left, ...new Array<number>(fill).fill(0), ...right];
  }
  if (v4 !== null) words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
  return words;
}

/** ctdb's address parsing without port (ctdb_sock_addr_from_string(..., false)). */
export function parseCtdbAddress(str: string): IpAddr | null {
  const p = str.lastIndexOf(":");
  if (p === -1) {
    const b = parseIPv4(str);
    return b === null ? null : { family: 4, bytes: b };
  }
  if (str.length >= 64) return null;
  let s = str;
  if (s.length >= 2 && s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const words = parseIPv6(s);
  if (words === null) return null;
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const b = parseIPv4(s.slice(s.lastIndexOf(":") + 1));
    return b === null ? null : { family: 4, bytes: b };
  }
  return { family: 6, words };
}

export function formatIp(a: IpAddr): string {
  if (a.family === 4) return a.bytes.join(".");
  const w = a.words;
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] === 0) {
      let j = i;
      while (j < 8 && w[j] === 0) j++;
      if (j - i > bestLen) {
        bestBase = i;
        bestLen = j - i;
      }
      i = j;
    } else {
      i++;
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
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
      return out;
    }
    out += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

/**
 * "ADDRESS:PORT" as ctdb reads it: the port follows the last ':' and must
 * be all decimal digits; IPv6 addresses may be bracketed ("[fd00::1]:80").
 */
export function parseCtdbAddressWithPort(str: string): { address: string; port: number } | null {
  if (str.length >= 64) return null;
  const p = str.lastIndexOf(":");
  if (p === -1) return null;
  const portText = str.slice(p + 1);
  if (!/^[ \t\n\v\f\r]*\+?[0-9]+$/.test(portText)) return null;
  const port = Number(BigInt.asUintN(32, BigInt(portText.trim().replace(/^\+/, ""))));
  const addr = parseCtdbAddress(str.slice(0, p));
  if (addr === null) return null;
  return { address: formatIp(addr), port: port & 0xffff };
}

/** "a.b.c.d:port" or "[v6]:port", as ctdb prints an address with its port. */
export function formatIpWithPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
