import assert from "node:assert/strict";
import { test } from "node:test";
import { simulateDatabases } from "../../src/sim/database.ts";

test("databases: 2000 seeded runs of 3-5 nodes with clients and faults keep every invariant", (t) => {
  const began = Date.now();
  const totals = { recoveries: 0, failedRecoveries: 0, committed: 0, checkedCommits: 0, purges: 0, bans: 0, faults: 0, forks: 0 };
  for (let seed = 1; seed <= 2000; seed++) {
    const nodes = 3 + (seed % 3);
    const r = simulateDatabases({ seed, nodes });
    if (!r.ok) {
      assert.fail(`seed ${seed}: ${r.failure}\nreplay: node dist/src/sim/main.js --databases --seed ${seed} --nodes ${nodes} --trace\n${r.trace.join("\n")}`);
    }
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
  }
  t.diagnostic(`2000 seeds in ${((Date.now() - began) / 1000).toFixed(1)} s: ${JSON.stringify(totals)}`);
  // The runs must exercise what they check.
  assert.ok(totals.recoveries >= 2000 * 5, `only ${totals.recoveries} recoveries`);
  assert.ok(totals.failedRecoveries >= 1000, `only ${totals.failedRecoveries} failed recoveries`);
  assert.ok(totals.checkedCommits >= 2000 * 3, `only ${totals.checkedCommits} committed transactions checked`);
  assert.ok(totals.purges >= 1000, `only ${totals.purges} purges of deleted records`);
  assert.ok(totals.bans >= 500, `only ${totals.bans} bans`);
});
