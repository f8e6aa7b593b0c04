// Established TCP connections as the kernel lists them in /proc/net/tcp and
// /proc/net/tcp6 (what `ss -tn state established` shows), read without
// starting a process. Addresses there are the in-memory words printed in
// hex: IPv4 one little-endian 32-bit word, IPv6 four of them.

import fs from "node:fs";
import { formatIPv4, formatIPv6 } from "./ip.ts";

export interface TcpConnection {
  local: { address: string; port: number };
  remote: { address: string; port: number };
}

const ESTABLISHED = "01";

function hexAddress(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    // Each 32-bit word is printed as a number, so its bytes appear reversed.
    for (let i = 0; i < 4; i++) bytes[w * 4 + i] = Number.parseInt(hex.slice(w * 8 + (3 - i) * 2, w * 8 + (3 - i) * 2 + 2), 16);
  }
  if (bytes.length === 4) return formatIPv4(bytes);
  // An IPv4-mapped address is the IPv4 connection it carries.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return formatIPv4(bytes.subarray(12));
  return formatIPv6(bytes);
}

function endpoint(s: string): { address: string; port: number } | undefined {
  const [a, p] = s.split(":");
  const address = a === undefined ? undefined : hexAddress(a);
  if (address === undefined || p === undefined || !/^[0-9A-Fa-f]{4}$/.test(p)) return undefined;
  return { address, port: Number.parseInt(p, 16) };
}

/** The established connections in the text of /proc/net/tcp or tcp6; malformed lines are skipped. */
export function parseProcNetTcp(text: string): TcpConnection[] {
  const out: TcpConnection[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== ESTABLISHED) continue;
    const local = endpoint(f[1]!);
    const remote = endpoint(f[2]!);
    if (local !== undefined && remote !== undefined) out.push({ local, remote });
  }
  return out;
}

/** This network namespace's established connections whose local address is one of `addresses`. */
export function establishedTo(addresses: ReadonlySet<string>): TcpConnection[] {
  const all: TcpConnection[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      all.push(...parseProcNetTcp(fs.readFileSync(file, "utf8")));
    } catch {
      // No IPv6 in this kernel, say.
    }
  }
  return all.filter((c) => addresses.has(c.local.address));
}
