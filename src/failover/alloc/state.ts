// The allocator's working state and the steps the algorithms share
// (CTDB's ipalloc_common.c): which node may host which address, the
// current assignment with per-node counts, and the "least loaded node"
// choice.

import { NO_NODE } from "./types.ts";
import type { IpKey } from "./ip-key.ts";

export class AllocState {
  /** Addresses in CTDB's list order: descending key. */
  readonly keys: readonly IpKey[];
  readonly numNodes: number;
  readonly noIpTakeover: boolean;
  /** pnn[i]: the node address i is assigned to, or NO_NODE. */
  readonly pnn: Int32Array;
  /** count[n]: how many addresses node n is assigned. */
  readonly count: Int32Array;
  /** available[i * numNodes + n] = 1: node n may host address i. */
  readonly available: Uint8Array;

  constructor(keys: readonly IpKey[], numNodes: number, noIpTakeover: boolean, current: Int32Array, available: Uint8Array) {
    this.keys = keys;
    this.numNodes = numNodes;
    this.noIpTakeover = noIpTakeover;
    this.pnn = current;
    this.available = available;
    this.count = new Int32Array(numNodes);
    for (const p of current) if (p !== NO_NODE) this.count[p] = (this.count[p] ?? 0) + 1;
  }

  get size(): number {
    return this.keys.length;
  }

  assign(ip: number, node: number): void {
    const old = this.pnn[ip] ?? NO_NODE;
    if (old !== NO_NODE) this.count[old] = (this.count[old] ?? 0) - 1;
    if (node !== NO_NODE) this.count[node] = (this.count[node] ?? 0) + 1;
    this.pnn[ip] = node;
  }

  canHost(node: number, ip: number): boolean {
    return this.available[ip * this.numNodes + node] === 1;
  }

  /** May the address be moved onto the node (NoIPTakeover forbids every move onto a node). */
  canTakeOver(node: number, ip: number): boolean {
    return !this.noIpTakeover && this.canHost(node, ip);
  }

  /** The lowest-numbered of the least loaded nodes that may take the address over, or NO_NODE. */
  leastLoadedNode(ip: number): number {
    let best = NO_NODE;
    let min = 0;
    for (let n = 0; n < this.numNodes; n++) {
      if (!this.canTakeOver(n, ip)) continue;
      const c = this.count[n] ?? 0;
      if (best === NO_NODE || c < min) {
        best = n;
        min = c;
      }
    }
    return best;
  }

  /** Assign the address to leastLoadedNode; false (and unchanged) when no node may take it. */
  moveToLeastLoaded(ip: number): boolean {
    const n = this.leastLoadedNode(ip);
    if (n === NO_NODE) return false;
    this.assign(ip, n);
    return true;
  }

  /** Unassign every address whose node may not host it. */
  unassignUnsuitable(): void {
    for (let i = 0; i < this.size; i++) {
      const p = this.pnn[i] ?? NO_NODE;
      if (p !== NO_NODE && !this.canHost(p, i)) this.assign(i, NO_NODE);
    }
  }

  /** Give each unassigned address, in list order, to the least loaded node that may take it. */
  allocateUnassignedToLeastLoaded(): void {
    for (let i = 0; i < this.size; i++) {
      if (this.pnn[i] === NO_NODE) this.moveToLeastLoaded(i);
    }
  }
}
