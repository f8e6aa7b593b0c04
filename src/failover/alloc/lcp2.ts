// IPAllocAlgorithm 2 (the default), as CTDB's ipalloc_lcp2. Cost of a
// node = sum over pairs of its addresses of distance² (ip-key.ts), so
// addresses sharing long prefixes (one subnet) spread across nodes.
//  1. drop addresses from nodes that cannot host them;
//  2. repeatedly place the unassigned address/node pair that adds the least
//     cost (first found wins ties, addresses in list order, nodes by PNN);
//  3. unless NoIPFailback: nodes hosting nothing (plus forced ones) are
//     rebalance targets; take nodes by cost, highest first, and move the
//     address that best lowers source + target cost, while a move exists.
// CTDB keeps these sums in uint32 and compares the wrapped values; so do we.
// Unlike CTDB we keep, per address and node, the sum of distance² to the
// node's other addresses and update it on each move, so a step costs
// O(addresses × nodes) instead of O(addresses² × nodes); the choices made
// are the same.

import { NO_NODE } from "./types.ts";
import { wordDistance } from "./ip-key.ts";
import type { AllocState } from "./state.ts";

const u32 = (x: number): number => x >>> 0;

export function allocateLcp2(state: AllocState, noIpFailback: boolean, forceRebalanceNodes: readonly number[]): void {
  state.unassignUnsuitable();
  const cost = new Lcp2Costs(state);
  const candidates = rebalanceCandidates(state, forceRebalanceNodes);
  placeUnassigned(state, cost);
  if (noIpFailback || !candidates.some((c) => c)) return;
  rebalance(state, cost, candidates);
}

class Lcp2Costs {
  /** sums[i * N + n]: sum of distance² from address i to node n's other addresses. */
  private readonly sums: Float64Array;
  /** imbalance[n]: CTDB's uint32 cost of node n. */
  readonly imbalance: number[];
  private readonly d2: (i: number, j: number) => number;
  private readonly wraps: boolean;

  constructor(private readonly state: AllocState) {
    const { keys, numNodes } = state;
    // The keys as one flat array: this is the innermost loop of every move.
    const words = new Uint32Array(keys.length * 4);
    keys.forEach((k, i) => {
      words.set(k, i * 4);
    });
    this.d2 = (i, j) => {
      const d =
        wordDistance((words[i * 4] as number) ^ (words[j * 4] as number)) +
        wordDistance((words[i * 4 + 1] as number) ^ (words[j * 4 + 1] as number)) +
        wordDistance((words[i * 4 + 2] as number) ^ (words[j * 4 + 2] as number)) +
        wordDistance((words[i * 4 + 3] as number) ^ (words[j * 4 + 3] as number));
      return d * d;
    };
    this.sums = new Float64Array(state.size * numNodes);
    this.wraps = state.size * 128 * 128 >= 2 ** 32;
    const pairSum = new Array<number>(numNodes).fill(0);
    for (let j = 0; j < state.size; j++) {
      const p = state.pnn[j] ?? NO_NODE;
      if (p === NO_NODE) continue;
      for (let i = 0; i < state.size; i++) {
        if (i === j) continue;
        const d = this.d2(i, j);
        this.sums[i * numNodes + p] = (this.sums[i * numNodes + p] ?? 0) + d;
        if (i > j && state.pnn[i] === p) pairSum[p] = (pairSum[p] ?? 0) + d;
      }
    }
    this.imbalance = pairSum.map(u32);
  }

  /** CTDB's ip_distance_2_sum(address, node), excluding the address itself. */
  sum(ip: number, node: number): number {
    return this.rawSum(ip * this.state.numNodes + node);
  }

  /** sum() by flat index, for the hot loop. */
  rawSum(index: number): number {
    const s = this.sums[index] as number;
    // A sum is below 2^32 (CTDB's uint32) unless there are 2^18 addresses or more.
    return this.wraps ? u32(s) : s;
  }

  /** Move ip from its node (or from nowhere) to `to`, updating the sums (not the imbalances). */
  move(ip: number, to: number): void {
    const n = this.state.numNodes;
    const from = this.state.pnn[ip] ?? NO_NODE;
    for (let k = 0; k < this.state.size; k++) {
      if (k === ip) continue;
      const d = this.d2(k, ip);
      if (from !== NO_NODE) this.sums[k * n + from] = (this.sums[k * n + from] ?? 0) - d;
      this.sums[k * n + to] = (this.sums[k * n + to] ?? 0) + d;
    }
    this.state.assign(ip, to);
  }
}

/** Nodes hosting nothing may receive rebalanced addresses; so may forced ones. */
function rebalanceCandidates(state: AllocState, force: readonly number[]): boolean[] {
  const c = new Array<boolean>(state.numNodes).fill(true);
  for (const p of state.pnn) if (p !== NO_NODE) c[p] = false;
  for (const p of force) if (p >= 0 && p < state.numNodes) c[p] = true;
  return c;
}

/**
 * CTDB scans every unassigned address and node each round and takes the
 * first (address in list order, then node by PNN) with the smallest added
 * cost. Per address we keep its cheapest node (lowest PNN on ties): placing
 * an address on node n changes only column n, so only addresses whose
 * cheapest node was n need a full rescan.
 */
function placeUnassigned(state: AllocState, cost: Lcp2Costs): void {
  // NoIPTakeover: no address may be placed anywhere.
  if (state.noIpTakeover) return;
  const n = state.numNodes;
  let unassigned = Int32Array.from({ length: state.size }, (_, i) => i).filter((i) => state.pnn[i] === NO_NODE);
  for (;;) {
    let minIp = NO_NODE;
    let minNode = NO_NODE;
    let minSum = 0;
    for (const ip of unassigned) {
      const row = ip * n;
      for (let dst = 0; dst < n; dst++) {
        if (state.available[row + dst] === 0) continue;
        const s = cost.rawSum(row + dst);
        if (minNode === NO_NODE || s < minSum) {
          minIp = ip;
          minNode = dst;
          minSum = s;
        }
      }
    }
    if (minNode === NO_NODE) return;
    cost.imbalance[minNode] = u32((cost.imbalance[minNode] ?? 0) + minSum);
    cost.move(minIp, minNode);
    unassigned = unassigned.filter((ip) => ip !== minIp);
  }
}

function rebalance(state: AllocState, cost: Lcp2Costs, candidates: readonly boolean[]): void {
  for (;;) {
    // Highest cost first; a stable sort keeps equal costs in PNN order, as
    // glibc's merge-sort qsort does for CTDB.
    const order = cost.imbalance.map((imbalance, pnn) => ({ imbalance, pnn })).sort((a, b) => b.imbalance - a.imbalance);
    let moved = false;
    for (const { imbalance, pnn } of order) {
      // Every node left has at most one address: nothing to gain.
      if (imbalance === 0) break;
      if (moveOneFrom(state, cost, candidates, pnn)) {
        moved = true;
        break;
      }
    }
    if (!moved) return;
  }
}

/** CTDB's lcp2_failback_candidate: the best improving move off `src`, made; false if none. */
function moveOneFrom(state: AllocState, cost: Lcp2Costs, candidates: readonly boolean[], src: number): boolean {
  const srcImbalance = cost.imbalance[src] ?? 0;
  let bestIp = -1;
  let bestDst = NO_NODE;
  let bestSrcImbl = 0;
  let bestDstImbl = 0;
  for (let ip = 0; ip < state.size; ip++) {
    if (state.pnn[ip] !== src) continue;
    const srcSum = cost.sum(ip, src);
    const srcImbl = u32(srcImbalance - srcSum);
    for (let dst = 0; dst < state.numNodes; dst++) {
      if (!candidates[dst] || !state.canTakeOver(dst, ip)) continue;
      const dstSum = cost.sum(ip, dst);
      const dstImbl = u32((cost.imbalance[dst] ?? 0) + dstSum);
      if (dstImbl < srcImbalance && dstSum < srcSum && (bestDst === NO_NODE || u32(srcImbl + dstImbl) < u32(bestSrcImbl + bestDstImbl))) {
        bestIp = ip;
        bestDst = dst;
        bestSrcImbl = srcImbl;
        bestDstImbl = dstImbl;
      }
    }
  }
  if (bestDst === NO_NODE) return false;
  cost.imbalance[src] = bestSrcImbl;
  cost.imbalance[bestDst] = bestDstImbl;
  cost.move(bestIp, bestDst);
  return true;
}
