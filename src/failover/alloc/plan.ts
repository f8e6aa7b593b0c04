// `tandem failover plan`: what the next takeover run would do if some
// nodes went down, were disabled or turned unhealthy, computed from what
// the live nodes report by the same allocator the takeover run uses (as
// Pacemaker's crm_simulate answers "what if" for its cluster). Pure.
//
// The node lists are what CTDB's takeover helper fetches: GET_PUBLIC_IPS
// from every connected node (known addresses) and, with the available-only
// flag, from every active node (what it can host now, after its runstate,
// flags and interface links). A node taken down here is left out of both,
// so what it hosts counts as unhosted, as the leader would see it.

import { NodeFlag, Runstate } from "../../protocol/constants.ts";
import { allocate, canHostAny, inCtdbOrder, mergeNodeLists, type ReportedIp } from "./index.ts";
import { type AllocOptions, NO_NODE } from "./types.ts";

export interface PlanNode {
  pnn: number;
  flags: number;
}

export interface PlanInput {
  nodes: readonly PlanNode[];
  /** known[pnn]: the node's GET_PUBLIC_IPS reply; undefined when not asked. */
  known: readonly (readonly ReportedIp[] | undefined)[];
  /** available[pnn]: the reply with the available-only flag; undefined when not asked. */
  available: readonly (readonly ReportedIp[] | undefined)[];
  options: AllocOptions;
}

export interface WhatIfChange {
  down: readonly number[];
  disable: readonly number[];
  unhealthy: readonly number[];
}

export interface PlanRow {
  address: string;
  /** Host now, as the nodes report it (NO_NODE: unhosted). */
  now: number;
  /** Host after the change (NO_NODE: no node could host it). */
  planned: number;
}

export interface Plan {
  /** False when no node could host any address: the run would move nothing. */
  canHost: boolean;
  rows: PlanRow[];
}

/** Node flags after the change. */
export function changedFlags(nodes: readonly PlanNode[], change: WhatIfChange): PlanNode[] {
  return nodes.map((n) => {
    let flags = n.flags;
    if (change.down.includes(n.pnn)) flags |= NodeFlag.DISCONNECTED;
    if (change.disable.includes(n.pnn)) flags |= NodeFlag.PERMANENTLY_DISABLED;
    if (change.unhealthy.includes(n.pnn)) flags |= NodeFlag.UNHEALTHY;
    return { pnn: n.pnn, flags };
  });
}

export function planFailover(input: PlanInput, change: WhatIfChange): Plan {
  const now = new Map(mergeNodeLists(input.known).map((a) => [a.address, a.current]));
  const dropDown = <T>(lists: readonly (T | undefined)[]): (T | undefined)[] => lists.map((l, pnn) => (change.down.includes(pnn) ? undefined : l));
  const addresses = mergeNodeLists(dropDown(input.known), dropDown(input.available));
  // Each node's own available-only reply already reflects its runstate.
  const nodes = changedFlags(input.nodes, change).map((n) => ({ ...n, runstate: Runstate.RUNNING }));
  const canHost = canHostAny(nodes, addresses);
  const planned = allocate(nodes, addresses, input.options);
  // An address only a downed node knows drops out of the new list: unhosted.
  const rows = inCtdbOrder([...now.keys()]).map((address) => {
    const current = now.get(address) ?? NO_NODE;
    return { address, now: current, planned: canHost ? (planned.get(address) ?? NO_NODE) : current };
  });
  return { canHost, rows };
}
