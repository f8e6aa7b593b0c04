// Inputs and outputs of the public address allocator (see index.ts for the
// rules it follows).

import type { HomeNode } from "../../config/home-nodes.ts";
import type { Runstate } from "../../protocol/constants.ts";

/** The IPAllocAlgorithm tunable's values, as CTDB numbers them. */
export enum IpAllocAlgorithm {
  DETERMINISTIC = 0,
  NONDETERMINISTIC = 1,
  LCP2 = 2,
}

/** Unhosted / unhostable, printed as -1 (CTDB_UNKNOWN_PNN as an int). */
export const NO_NODE = -1;

export interface AllocNode {
  pnn: number;
  /** NodeFlag bits as in the node map. */
  flags: number;
  runstate: Runstate;
  /** Interfaces whose link is down on this node (`ctdb ifaces`). */
  downInterfaces?: readonly string[];
}

export interface AllocAddress {
  /** Address text; any form parseIpLiteral accepts. Results use canonical text. */
  address: string;
  /** Node hosting it now, as that node itself reports; NO_NODE when unhosted. */
  current: number;
  /** Nodes whose public_addresses list it (their "known" lists). */
  allowed: readonly number[];
  /** Its interface list; when every one is down on a node, that node cannot host it. */
  interfaces?: readonly string[];
  /**
   * Nodes that say they can host it now (GET_PUBLIC_IPS with the
   * available-only flag). When given it replaces the check made from node
   * flags, runstate and interface links; it is still limited to `allowed`.
   */
  available?: readonly number[];
}

export type { HomeNode } from "../../config/home-nodes.ts";

export interface AllocOptions {
  algorithm: IpAllocAlgorithm;
  /** NoIPFailback: no rebalancing onto nodes that became healthy (LCP2, non-deterministic). */
  noIpFailback: boolean;
  /** NoIPTakeover: no node gains an address it does not already host. */
  noIpTakeover: boolean;
  /** The home_nodes file (deterministic algorithm only); the first line naming an address counts. */
  homeNodes?: readonly HomeNode[];
  /** Nodes LCP2 may rebalance onto although they already host addresses. */
  forceRebalanceNodes?: readonly number[];
}

/** Input the allocator cannot use (an unparsable or repeated address). */
export class AllocInputError extends Error {}
