import { test } from "node:test";
import { runSeeds } from "./bulk.ts";

test("no-lock mode (majority): 1500 seeded runs of 3-7 nodes under faults keep every invariant", (t) => {
  runSeeds(t, { first: 100_001, count: 1500, lock: false });
});

test("no-lock mode without majority (CTDB's split brain allowed): 300 seeded runs still converge after healing", (t) => {
  runSeeds(t, { first: 200_001, count: 300, lock: false, requireMajority: false });
});
