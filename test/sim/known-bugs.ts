// Core bugs the simulator has found and reported, recognised by their
// signature so that the bulk seed runs stay green while they are open, and
// any OTHER failure still fails the suite. Each entry has a todo regression
// test (known-bugs.test.ts); when the core is fixed, that test starts passing,
// and the entry here should be deleted.

import type { SimResult } from "../../src/sim/cluster.ts";

export interface KnownBug {
  id: string;
  summary: string;
  matches(r: SimResult): boolean;
}

export const KNOWN_BUGS: KnownBug[] = [
  {
    id: "leader-for-one-step",
    summary:
      "no lock: a node acts as leader on a stale view for one step (wins on votes from peers it lost, or as a " +
      "candidate no longer eligible, or handles an input queued while it was SIGSTOPped before noticing its " +
      "peers are gone), hands out a recovery with a minority vnnmap and steps down in the same step",
    matches: (r) =>
      /sent a recovery while not acting as leader/.test(r.failure ?? "") &&
      r.trace.some((l) => /Recovery \(.* is no longer the leader: (lost the majority|no longer eligible)/.test(l)),
  },
];

export function classify(r: SimResult): KnownBug | undefined {
  return r.ok ? undefined : KNOWN_BUGS.find((b) => b.matches(r));
}
