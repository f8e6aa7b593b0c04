// One list of public addresses from each node's own list, by the rules of
// CTDB's create_merged_ip_list: no node knows every address, and a node is
// believed only about itself — an address's current host is the
// (highest-numbered) node that reports hosting it, never what a node says
// about another.

import { parseIpLiteral } from "../../net/ip.ts";
import { type AllocAddress, AllocInputError, NO_NODE } from "./types.ts";

/** One entry of a node's GET_PUBLIC_IPS reply. */
export interface ReportedIp {
  address: string;
  /** The host that node believes the address has. */
  pnn: number;
  interfaces?: readonly string[];
}

/**
 * known[n]: node n's list (undefined for a node that gave none);
 * available[n], when given: node n's available-only list.
 */
export function mergeNodeLists(
  known: readonly (readonly ReportedIp[] | undefined)[],
  available?: readonly (readonly ReportedIp[] | undefined)[],
): AllocAddress[] {
  const merged = new Map<string, { address: string; current: number; allowed: number[]; available: number[]; interfaces?: readonly string[] }>();
  known.forEach((list, node) => {
    for (const r of list ?? []) {
      const ip = parseIpLiteral(r.address);
      if (ip === undefined) throw new AllocInputError(`node ${node} reported a bad public address "${r.address}"`);
      let m = merged.get(ip.text);
      if (m === undefined) {
        m = { address: ip.text, current: NO_NODE, allowed: [], available: [] };
        merged.set(ip.text, m);
      }
      if (r.pnn === node) m.current = node;
      if (!m.allowed.includes(node)) m.allowed.push(node);
      if (m.interfaces === undefined && r.interfaces !== undefined) m.interfaces = r.interfaces;
    }
  });
  if (available !== undefined) {
    available.forEach((list, node) => {
      for (const r of list ?? []) {
        const ip = parseIpLiteral(r.address);
        const m = ip === undefined ? undefined : merged.get(ip.text);
        if (m !== undefined && !m.available.includes(node)) m.available.push(node);
      }
    });
  }
  return [...merged.values()].map((m) => {
    const out: AllocAddress = { address: m.address, current: m.current, allowed: m.allowed };
    if (m.interfaces !== undefined) out.interfaces = m.interfaces;
    if (available !== undefined) out.available = m.available;
    return out;
  });
}
