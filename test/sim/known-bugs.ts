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
    id: "term-reuse-after-restart",
    summary: "no-lock: term and vote are not kept across a restart, so a term can get a second leader",
    matches: (r) => /two leaders in term \d+: .*; [1-9]\d* restarts so far/.test(r.failure ?? ""),
  },
  {
    id: "first-recovery-storm",
    summary: "a stale FIRST_RECOVERY state report makes the leader recover again at once, feeding a recovery storm",
    matches: (r) => /message storm: .*most logged: "Recovery \(node N waits for its first recovery\)/.test(r.failure ?? ""),
  },
  {
    id: "equal-term-leaders",
    summary: "two leaders of one term answer each other's claims forever: a message storm, and neither steps down",
    matches: (r) => /message storm: .*most logged: "Node N claims leadership \(term N\) while this node leads term N"/.test(r.failure ?? ""),
  },
];

export function classify(r: SimResult): KnownBug | undefined {
  return r.ok ? undefined : KNOWN_BUGS.find((b) => b.matches(r));
}
