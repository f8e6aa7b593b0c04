// IPAllocAlgorithm 0, as CTDB's ipalloc_deterministic: the i-th address in
// list order starts on node i % N (or on its home node, from the home_nodes
// file of newer CTDB, when that names a node that exists), addresses on
// nodes that cannot host them are dropped, and the dropped ones go to the
// least loaded node. Every run starts from scratch, so NoIPFailback has no
// effect.

import type { AllocState } from "./state.ts";

/** homeNode[i]: the home_nodes entry for address i, or undefined. */
export function allocateDeterministic(state: AllocState, homeNode: readonly (number | undefined)[]): void {
  for (let i = 0; i < state.size; i++) {
    const home = homeNode[i];
    // CTDB ignores (with a warning) a home node beyond the node map.
    state.assign(i, home !== undefined && home < state.numNodes ? home : i % state.numNodes);
  }
  state.unassignUnsuitable();
  state.allocateUnassignedToLeastLoaded();
}
