import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runEventSim } from "../../src/sim/event.ts";

describe("event simulation", () => {
  it("500 seeds hold every invariant", () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 500; seed++) {
      const r = runEventSim(seed, 400);
      if (!r.ok) failures.push(r.failure ?? `seed ${seed}`);
    }
    assert.deepEqual(failures.slice(0, 5), []);
  });

  it("is deterministic for a seed", () => {
    assert.deepEqual(runEventSim(42, 300), runEventSim(42, 300));
  });
});
