// The failover simulator over many seeds: the real failover cores (and the
// real allocator) under deaths, freezes, cuts (also one-way), lost
// acknowledgements, hung and failing scripts, disable/unhealthy flips and
// moveip; no address on two nodes, no take before every surviving node
// acknowledged startipreallocate, every hostable address hosted once quiet.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FailoverSim, runFailoverSim } from "../../src/sim/failover.ts";

const SEEDS = Number(process.env["TANDEM_FAILOVER_SEEDS"] ?? 1000);

describe("failover simulator", () => {
  test(`${SEEDS} seeds of 3-5 nodes keep the three invariants`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = runFailoverSim({ seed, nodes: 3 + (seed % 3), addresses: 4 + (seed % 4) });
      assert.ok(r.ok, `seed ${seed}: ${r.failure}\n${r.trace.join("\n")}`);
    }
  });

  test("the checker notices an address on two nodes", () => {
    const sim = new FailoverSim({ seed: 1, nodes: 3, addresses: 3, faults: 0 });
    const r = sim.run();
    assert.ok(r.ok, r.failure);
    // Break it on purpose: a second node claims an address another one has.
    const holder = sim.nodes.find((n) => n.configured.size > 0)!;
    const other = sim.nodes.find((n) => n !== holder)!;
    other.configured.add([...holder.configured][0]!);
    (sim as unknown as { checkNoDouble(): void }).checkNoDouble();
    assert.match(sim.failure ?? "", /configured on nodes/);
  });

  test("a fault-free run hosts every address once", () => {
    const sim = new FailoverSim({ seed: 7, nodes: 4, addresses: 6, faults: 0 });
    assert.ok(sim.run().ok);
    const hosts = sim.nodes.flatMap((n) => [...n.configured]);
    assert.equal(hosts.length, 6);
    assert.equal(new Set(hosts).size, 6);
  });
});
