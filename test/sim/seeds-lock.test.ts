import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeeds } from "./bulk.ts";

test("lock mode: 2500 seeded runs of 3-7 nodes under faults keep every invariant", (t) => {
  const results = runSeeds(t, { first: 1, count: 2500, lock: true });
  // The runs must actually exercise the cluster, not pass vacuously.
  const faults = results.reduce((sum, r) => sum + r.stats.faults, 0);
  const steps = results.reduce((sum, r) => sum + r.stats.coreSteps, 0);
  assert.ok(faults >= 2500 * 30, `only ${faults} faults injected`);
  assert.ok(steps >= 2500 * 500, `only ${steps} core steps`);
  const elections = results.reduce((sum, r) => sum + r.stats.elections, 0);
  const lost = results.reduce((sum, r) => sum + r.stats.locksLost, 0);
  t.diagnostic(`${faults} faults, ${steps} core steps, ${elections} leaderships taken, ${lost} locks lost under their holder`);
  assert.ok(elections >= 2500 * 3, `only ${elections} leaderships taken: faults hardly moved the leader`);
  assert.ok(lost >= 500, `only ${lost} lost-lock notices`);
});
