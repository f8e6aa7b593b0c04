import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { initialReclaim, type ReclaimConfig, type ReclaimInput, type ReclaimState, reclaimStep } from "../../src/memory/reclaim.ts";

const config: ReclaimConfig = { minSessions: 3, quietMs: 2000, settleMs: 5000 };

/** Feeds inputs in order; returns the times at which a collection ran. */
function collections(inputs: ReclaimInput[], start: ReclaimState = initialReclaim()): number[] {
  let state = start;
  const out: number[] = [];
  for (const input of inputs) {
    const step = reclaimStep(config, state, input);
    state = step.state;
    if (step.collect) out.push(input.nowMs);
  }
  return out;
}

const session = (nowMs: number): ReclaimInput => ({ kind: "session", nowMs });
const tick = (nowMs: number): ReclaimInput => ({ kind: "tick", nowMs });
const burst = (at: number, n: number) => Array.from({ length: n }, (_, i) => session(at + i));

describe("memory reclaim after client sessions", () => {
  const cases: { name: string; inputs: ReclaimInput[]; want: number[] }[] = [
    { name: "no sessions: never", inputs: [tick(1000), tick(10_000), tick(60_000)], want: [] },
    { name: "fewer sessions than the minimum: never", inputs: [...burst(0, 2), tick(5000), tick(20_000)], want: [] },
    { name: "a burst, then quiet: first at quiet, second after settling", inputs: [...burst(0, 3), tick(1000), tick(2002), tick(5000), tick(7002)], want: [2002, 7002] },
    { name: "not while sessions keep coming", inputs: [...burst(0, 3), tick(1500), session(1600), tick(3000), tick(3599)], want: [] },
    { name: "exactly quietMs after the last session counts as quiet", inputs: [...burst(0, 3), tick(2002)], want: [2002] },
    {
      name: "a new session between the two cancels the second; the next burst starts over",
      inputs: [...burst(0, 3), tick(2002), session(3000), tick(5100), tick(7100), tick(20_000)],
      want: [2002],
    },
    {
      name: "a second burst after both collections collects again",
      inputs: [...burst(0, 3), tick(2002), tick(7002), ...burst(10_000, 3), tick(12_002), tick(17_002)],
      want: [2002, 7002, 12_002, 17_002],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(collections(c.inputs), c.want));
});
