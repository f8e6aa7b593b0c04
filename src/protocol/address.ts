// Text <-> bytes for IPv4/IPv6 addresses on the wire, as Buffers. The parsing
// and inet_ntop-style formatting are the one implementation in net/ip.ts.
import { parseIPv4 as parse4, parseIPv6 as parse6 } from "../net/ip.ts";

export { formatIPv4, formatIPv6 } from "../net/ip.ts";

export function parseIPv4(s: string): Buffer | undefined {
  const bytes = parse4(s);
  return bytes === undefined ? undefined : Buffer.from(bytes);
}

export function parseIPv6(s: string): Buffer | undefined {
  const bytes = parse6(s);
  return bytes === undefined ? undefined : Buffer.from(bytes);
}
