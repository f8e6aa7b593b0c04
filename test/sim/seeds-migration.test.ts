// Seeded runs of the record migration simulator: clients fetch-lock and
// write volatile records on every node while nodes die and restart.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { simulateMigration } from "../../src/sim/migration.ts";

const SEEDS = 1000;

describe("record migration under faults", () => {
  it(`${SEEDS} seeds: one dmaster per record, the dmaster's copy ranks highest, every call answered`, () => {
    let migrations = 0;
    let recoveries = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = simulateMigration({ seed, steps: 300 });
      assert.ok(r.ok, `seed ${seed}: ${r.failure} (replay: node dist/src/sim/main.js --migration --seed ${seed} --steps 300 --trace)`);
      migrations += r.stats.migrations;
      recoveries += r.stats.recoveries;
    }
    // The runs must really exercise the protocol, not pass by doing nothing.
    assert.ok(migrations > SEEDS * 20, `only ${migrations} migrations`);
    assert.ok(recoveries > SEEDS * 2, `only ${recoveries} recoveries`);
  });

  it("without faults every client write lands and the counters add up", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const r = simulateMigration({ seed, steps: 400, faults: false });
      assert.ok(r.ok, `seed ${seed}: ${r.failure}`);
      assert.equal(r.stats.writes, r.stats.migrations);
      assert.equal(r.stats.deaths, 0);
    }
  });
});
