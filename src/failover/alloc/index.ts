// Public IP allocation: which node should host each public address, given
// the node map and what each node reports. Pure (no I/O); the results are
// CTDB 4.17's ipalloc() results for the same inputs (checked against
// CTDB's own allocator test cases), with home_nodes as newer CTDB reads it.
//
//   allocate(nodes, addresses, options) → Map<address, pnn>
//
// - nodes: one entry per PNN (missing PNNs count as deleted). A node may
//   host addresses only when its runstate is RUNNING and it has none of the
//   INACTIVE (disconnected, banned, stopped, deleted) or DISABLED
//   (disabled, unhealthy) flags, and, for an address that names
//   interfaces, some of them has its link up there. NoIPHostOnAllDisabled
//   is obsolete in CTDB 4.17 (accepted, no effect): a disabled or unhealthy
//   node never hosts, even when every node is.
// - addresses: each with the nodes that list it in public_addresses
//   (`allowed`) and its current host. The current host counts only when it
//   is one of the allowed nodes, since CTDB trusts only a node's report
//   about itself (mergeNodeLists builds these entries from the per-node
//   lists the GET_PUBLIC_IPS control returns, by CTDB's rules).
// - options: IPAllocAlgorithm (LCP2 default, deterministic, non-
//   deterministic), NoIPFailback, NoIPTakeover, home_nodes (deterministic
//   only), nodes forced to be LCP2 rebalance targets.
//
// The map's entries come in CTDB's order: descending address, all IPv4
// below all IPv6; an address no node can host maps to NO_NODE (-1).
// Invalid input (an unparsable address, the same address twice) throws
// AllocInputError naming it.

import { type IpAddress, parseIpLiteral } from "../../net/ip.ts";
import { NodeFlag, Runstate } from "../../protocol/constants.ts";
import { allocateDeterministic } from "./deterministic.ts";
import { compareKeys, type IpKey, ipKey } from "./ip-key.ts";
import { allocateLcp2 } from "./lcp2.ts";
import { allocateNondeterministic } from "./nondeterministic.ts";
import { AllocState } from "./state.ts";
import { type AllocAddress, AllocInputError, type AllocNode, type AllocOptions, IpAllocAlgorithm, NO_NODE } from "./types.ts";

export { mergeNodeLists, type ReportedIp } from "./merge.ts";
export * from "./types.ts";

/** May this node host public addresses at all (runstate and flags)? */
export function nodeMayHost(node: AllocNode): boolean {
  return node.runstate === Runstate.RUNNING && (node.flags & (NodeFlag.INACTIVE | NodeFlag.DISABLED)) === 0;
}

interface Prepared {
  ip: IpAddress;
  key: IpKey;
  entry: AllocAddress;
}

function prepare(addresses: readonly AllocAddress[]): Prepared[] {
  const out = addresses.map((entry) => {
    const ip = parseIpLiteral(entry.address);
    if (ip === undefined) throw new AllocInputError(`bad public address "${entry.address}"`);
    return { ip, key: ipKey(ip), entry };
  });
  out.sort((a, b) => compareKeys(b.key, a.key));
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1] as Prepared;
    const b = out[i] as Prepared;
    if (compareKeys(a.key, b.key) === 0) {
      throw new AllocInputError(`public address ${b.ip.text} given twice (as "${a.entry.address}" and "${b.entry.address}")`);
    }
  }
  return out;
}

function buildState(nodes: readonly AllocNode[], addresses: readonly AllocAddress[], noIpTakeover: boolean): { list: Prepared[]; state: AllocState } {
  const numNodes = nodes.reduce((m, n) => Math.max(m, n.pnn + 1), 0);
  const byPnn: (AllocNode | undefined)[] = new Array(numNodes);
  for (const n of nodes) byPnn[n.pnn] = n;
  const list = prepare(addresses);
  const available = new Uint8Array(list.length * numNodes);
  const current = new Int32Array(list.length).fill(NO_NODE);
  const inRange = (p: number): boolean => Number.isInteger(p) && p >= 0 && p < numNodes;
  list.forEach(({ entry }, i) => {
    if (inRange(entry.current) && entry.allowed.includes(entry.current)) current[i] = entry.current;
    for (const p of entry.allowed) {
      const node = inRange(p) ? byPnn[p] : undefined;
      if (node === undefined || !nodeMayHost(node)) continue;
      const ok = entry.available !== undefined ? entry.available.includes(p) : interfaceUp(node, entry);
      if (ok) available[i * numNodes + p] = 1;
    }
  });
  const keys = list.map((p) => p.key);
  return { list, state: new AllocState(keys, numNodes, noIpTakeover, current, available) };
}

/** Canonical address texts in CTDB's list order (descending, IPv4 below IPv6). */
export function inCtdbOrder(addresses: readonly string[]): string[] {
  return prepare(addresses.map((address) => ({ address, current: NO_NODE, allowed: [] }))).map((p) => p.ip.text);
}

export function allocate(nodes: readonly AllocNode[], addresses: readonly AllocAddress[], options: AllocOptions): Map<string, number> {
  const { list, state } = buildState(nodes, addresses, options.noIpTakeover);
  switch (options.algorithm) {
    case IpAllocAlgorithm.DETERMINISTIC:
      allocateDeterministic(state, homeNodesByIndex(list, options));
      break;
    case IpAllocAlgorithm.NONDETERMINISTIC:
      allocateNondeterministic(state, options.noIpFailback);
      break;
    default:
      // CTDB treats every other IPAllocAlgorithm value as LCP2.
      allocateLcp2(state, options.noIpFailback, options.forceRebalanceNodes ?? []);
  }
  const result = new Map<string, number>();
  list.forEach((p, i) => {
    result.set(p.ip.text, state.pnn[i] ?? NO_NODE);
  });
  return result;
}

function interfaceUp(node: AllocNode, entry: AllocAddress): boolean {
  if (entry.interfaces === undefined || entry.interfaces.length === 0) return true;
  const down = node.downInterfaces ?? [];
  return entry.interfaces.some((i) => !down.includes(i));
}

function homeNodesByIndex(list: readonly Prepared[], options: AllocOptions): (number | undefined)[] {
  const home = new Map<string, number>();
  for (const h of options.homeNodes ?? []) {
    const ip = parseIpLiteral(h.address);
    if (ip === undefined) throw new AllocInputError(`bad home_nodes address "${h.address}"`);
    // The first line naming an address wins, as in CTDB.
    if (!home.has(ip.text)) home.set(ip.text, h.pnn);
  }
  return list.map((p) => home.get(p.ip.text));
}

/**
 * CTDB's ipalloc_can_host_ips: false only when no node reports hosting any
 * address and none may host one now; then a takeover run skips straight to
 * ipreallocated.
 */
export function canHostAny(nodes: readonly AllocNode[], addresses: readonly AllocAddress[]): boolean {
  const { state } = buildState(nodes, addresses, false);
  for (let i = 0; i < state.size; i++) {
    if (state.pnn[i] !== NO_NODE) return true;
    for (let n = 0; n < state.numNodes; n++) if (state.canHost(n, i)) return true;
  }
  return false;
}
