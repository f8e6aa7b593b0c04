/**
 * IP address text exactly as ctdb reads and prints it. The inet_pton /
 * inet_ntop rules live in net/ip.ts; this adds the tool's ADDRESS:PORT form.
 */
import { type IpAddress, parseIpLiteral } from "../net/ip.ts";

export type IpAddr = IpAddress;

/** ctdb's address parsing without port (ctdb_sock_addr_from_string(..., false)). */
export function parseCtdbAddress(str: string): IpAddr | null {
  return parseIpLiteral(str) ?? null;
}

export function formatIp(a: IpAddr): string {
  return a.text;
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
