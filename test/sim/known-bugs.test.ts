// Regression tests for core bugs the simulator found (now fixed in the core):
// each replays the seeds that exposed one and asserts the correct behaviour.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ClusterSim, simulate } from "../../src/sim/cluster.ts";

const why = (r: { failure?: string; trace: string[] }) => `${r.failure}\n${r.trace.slice(-15).join("\n")}`;

test(
  "first recovery: a stale FIRST_RECOVERY report must not trigger another immediate recovery (formation seed 422)",
  () => {
    const r = simulate({ seed: 422, nodes: 5, lock: false, faults: false });
    assert.ok(r.ok, why(r));
    const r2 = simulate({ seed: 100_204, nodes: 7, lock: false });
    assert.ok(r2.ok, why(r2));
  },
);

test(
  "no lock: a term never gets a second leader, even after a whole-cluster restart",
  () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const sim = new ClusterSim(seed, 3, { lock: false });
      for (let p = 0; p < 3; p++) sim.start(p);
      sim.runToConvergence(60_000, 2000, 50);
      for (let p = 0; p < 3; p++) sim.kill(p);
      sim.runUntil(sim.nowMs + 1000);
      for (let p = 0; p < 3; p++) sim.start(p);
      sim.runToConvergence(sim.nowMs + 60_000, 2000, 50);
      if (sim.failure !== undefined) failures.push(`seed ${seed}: ${sim.failure}`);
    }
    assert.deepEqual(failures, []);
    const r = simulate({ seed: 100_005, nodes: 3, lock: false });
    assert.ok(r.ok, why(r));
  },
);

test(
  "no lock, no majority: two leaders of the same term resolve to one after the partition heals",
  () => {
    const sim = new ClusterSim(1, 2, { lock: false, requireMajority: false });
    sim.net.cut(0, 1, true);
    sim.start(0);
    sim.start(1);
    sim.runUntil(10_000);
    assert.deepEqual(sim.actingLeaders(), [0, 1], "each side of the partition elects itself (CTDB's split brain)");
    sim.net.heal(0, 1);
    const res = sim.runToConvergence(60_000, 5000, 50);
    assert.equal(sim.failure, undefined, `${sim.failure}\n${sim.traceTail(10).join("\n")}`);
    assert.ok(res.sinceMs !== undefined, res.lastReason);
    assert.equal(sim.actingLeaders().length, 1);
    const r = simulate({ seed: 200_003, nodes: 6, lock: false, requireMajority: false });
    assert.ok(r.ok, why(r));
  },
);

test(
  "no lock: a node never hands out a recovery on a stale view (lost majority, lost eligibility, queued input after a pause)",
  () => {
    for (const [seed, nodes, requireMajority] of [
      [376, 4, true],
      [640, 3, true],
      [100_125, 3, true],
      [328, 6, false],
      [1_001_655, 3, true],
      [1_008_429, 7, true],
    ] as const) {
      const r = simulate({ seed, nodes, lock: false, requireMajority });
      assert.ok(r.ok, `seed ${seed}: ${why(r)}`);
    }
  },
);
