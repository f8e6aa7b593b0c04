import { test } from "node:test";
import { runSeeds } from "./bulk.ts";

test("no-lock mode (majority): 2000 seeded runs of 3-7 nodes under faults keep every invariant", (t) => {
  runSeeds(t, { first: 100_001, count: 2000, lock: false });
});

test("no-lock mode without majority (CTDB's split brain allowed): 500 seeded runs still converge after healing", (t) => {
  runSeeds(t, { first: 200_001, count: 500, lock: false, requireMajority: false });
});
