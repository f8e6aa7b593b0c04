// IPAllocAlgorithm 1, as CTDB's ipalloc_nondeterministic: keep what may
// stay, give the rest to the least loaded nodes, then (unless NoIPFailback)
// even out the counts.

import { NO_NODE } from "./types.ts";
import type { AllocState } from "./state.ts";

export function allocateNondeterministic(state: AllocState, noIpFailback: boolean): void {
  state.unassignUnsuitable();
  state.allocateUnassignedToLeastLoaded();
  if (!noIpFailback) evenOut(state);
}

/**
 * CTDB's basic_failback: walking the list, for the first hosted address
 * whose candidate nodes' counts differ by 2 or more, move the first
 * address (in list order) of the most loaded candidate to the least loaded
 * node that may take it, then start the walk again; at most N + 5 moves.
 * Ties go to the lowest-numbered node.
 */
function evenOut(state: AllocState): void {
  const limit = state.size + 5;
  let moves = 0;
  for (;;) {
    let moved = false;
    for (let i = 0; i < state.size && !moved; i++) {
      if (state.pnn[i] === NO_NODE) continue;
      let maxNode = NO_NODE;
      let maxNum = 0;
      let minNum = 0;
      for (let n = 0; n < state.numNodes; n++) {
        if (!state.canTakeOver(n, i)) continue;
        const c = state.count[n] ?? 0;
        if (maxNode === NO_NODE) {
          maxNode = n;
          maxNum = c;
          minNum = c;
          continue;
        }
        if (c > maxNum) {
          maxNode = n;
          maxNum = c;
        }
        if (c < minNum) minNum = c;
      }
      if (maxNode === NO_NODE || maxNum <= minNum + 1 || moves >= limit) continue;
      for (let j = 0; j < state.size; j++) {
        if (state.pnn[j] === maxNode) {
          // As in CTDB the move counts even when no node could take it.
          state.moveToLeastLoaded(j);
          moves++;
          moved = true;
          break;
        }
      }
    }
    if (!moved) return;
  }
}
