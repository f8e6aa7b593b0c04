// Shared body of the bulk seed tests: run a range of seeds, fail on any
// violation that is not a known, reported core bug.

import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { type SimResult, simulate } from "../../src/sim/cluster.ts";
import { classify } from "./known-bugs.ts";

export interface BulkOptions {
  first: number;
  count: number;
  lock: boolean;
  requireMajority?: boolean;
  steps?: number;
}

export function runSeeds(t: TestContext, o: BulkOptions): SimResult[] {
  const began = Date.now();
  const known = new Map<string, number[]>();
  const unknown: SimResult[] = [];
  const results: SimResult[] = [];
  for (let seed = o.first; seed < o.first + o.count; seed++) {
    const r = simulate({
      seed,
      nodes: 3 + (seed % 5),
      lock: o.lock,
      ...(o.requireMajority === undefined ? {} : { requireMajority: o.requireMajority }),
      ...(o.steps === undefined ? {} : { steps: o.steps }),
    });
    results.push(r);
    if (r.ok) continue;
    const bug = classify(r);
    if (bug === undefined) unknown.push(r);
    else known.set(bug.id, [...(known.get(bug.id) ?? []), seed]);
  }
  const secs = (Date.now() - began) / 1000;
  t.diagnostic(`${o.count} seeds in ${secs.toFixed(1)} s (${(o.count / secs).toFixed(0)} seeds/s)`);
  for (const [id, seeds] of known) {
    t.diagnostic(`known core bug ${id}: ${seeds.length} seeds, e.g. ${seeds.slice(0, 5).join(", ")}`);
  }
  const first = unknown[0];
  if (first !== undefined) {
    const mode = o.lock ? "--lock" : "--no-lock";
    assert.fail(
      `${unknown.length} seeds failed; first: seed ${first.seed}: ${first.failure}\n` +
        `replay: node dist/src/sim/main.js --seed ${first.seed} --nodes ${3 + (first.seed % 5)} ${mode}` +
        `${o.requireMajority === false ? " --no-majority" : ""} --trace\n${first.trace.join("\n")}`,
    );
  }
  return results;
}
