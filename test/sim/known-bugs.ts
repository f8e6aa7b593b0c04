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

export const KNOWN_BUGS: KnownBug[] = [];

export function classify(r: SimResult): KnownBug | undefined {
  return r.ok ? undefined : KNOWN_BUGS.find((b) => b.matches(r));
}
