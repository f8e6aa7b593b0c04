// CTDB's own allocator cases, and further cases answered by CTDB's
// allocator, through the allocation core: for each step, the node states,
// environment and input lines go in, and the new map must be the one CTDB's
// program prints.

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseHomeNodes } from "../../../src/config/home-nodes.ts";
import { allocate } from "../../../src/failover/alloc/index.ts";
import { formatAllocation, parseWhatIf } from "../../../src/failover/alloc/whatif.ts";
import { CTDB_ALLOC_CASES, type CtdbAllocStep } from "./ctdb-cases.ts";
import { ORACLE_CASES } from "./oracle-cases.ts";

export function runStep(algorithm: string, step: CtdbAllocStep): string {
  const env = { ...step.env, CTDB_IP_ALGORITHM: algorithm };
  let home: { address: string; pnn: number }[] | undefined;
  if (step.homeNodes !== undefined && algorithm === "det") {
    const parsed = parseHomeNodes(step.homeNodes, "home_nodes");
    assert.ok(parsed.ok);
    home = parsed.value;
  }
  const w = parseWhatIf(step.nodestates, step.multi, env, step.input.join("\n") + "\n", home);
  assert.ok(w.ok, w.ok ? "" : w.message);
  return formatAllocation(allocate(w.value.nodes, w.value.addresses, w.value.options));
}

for (const c of [...CTDB_ALLOC_CASES, ...ORACLE_CASES]) {
  test(`CTDB ${c.name}: ${c.title}`, () => {
    c.steps.forEach((step, i) => {
      const got = runStep(c.algorithm, step);
      assert.equal(got, step.expect.map((l) => `${l}\n`).join(""), `step ${i + 1}${step.label ? ` (${step.label})` : ""}`);
    });
  });
}
