// The simulator itself: seeds replay exactly, and the invariant checker does
// catch what it claims to catch.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { simulate } from "../../src/sim/cluster.ts";
import { Prng } from "../../src/sim/prng.ts";
import { Scheduler } from "../../src/sim/scheduler.ts";

test("the same seed replays the identical trace; another seed does not", () => {
  for (const lock of [true, false]) {
    const a = simulate({ seed: 4242, nodes: 5, lock, log: true });
    const b = simulate({ seed: 4242, nodes: 5, lock, log: true });
    const c = simulate({ seed: 4243, nodes: 5, lock, log: true });
    assert.ok(a.trace.length > 500, `trace of only ${a.trace.length} lines`);
    assert.deepEqual(b.trace, a.trace);
    assert.deepEqual(b.stats, a.stats);
    assert.notDeepEqual(c.trace, a.trace);
  }
});

test("a second leader forced behind the core's back is caught in lock mode", () => {
  const clean = simulate({ seed: 7, nodes: 4, lock: true, faults: false });
  assert.ok(clean.ok, clean.failure);
  const r = simulate({ seed: 7, nodes: 4, lock: true, faults: false, sabotage: { kind: "second-leader", atMs: 6000 } });
  assert.equal(r.ok, false);
  assert.match(r.failure ?? "", /^t=6000 step \d+: node \d acts as leader but the lock service records node \d \(life 1\) as holder$/);
  assert.ok(r.trace.some((l) => l.includes("SABOTAGE")));
  assert.ok(r.trace.length <= 40);
});

test("a second leader in the same term is caught in no-lock mode", () => {
  const clean = simulate({ seed: 7, nodes: 4, lock: false, faults: false });
  assert.ok(clean.ok, clean.failure);
  const r = simulate({ seed: 7, nodes: 4, lock: false, faults: false, sabotage: { kind: "second-leader", atMs: 6000 } });
  assert.equal(r.ok, false);
  assert.match(r.failure ?? "", /^t=6000 step \d+: two leaders in term \d+: node \d \(life 1, from t=\d+\) and node \d \(life 1\), both leading now/);
});

test("a leader that keeps leading a minority past the keepalive limit is caught (no lock, majority)", () => {
  const r = simulate({ seed: 7, nodes: 5, lock: false, faults: false, sabotage: { kind: "blind-leader", atMs: 6000 } });
  assert.equal(r.ok, false);
  assert.match(r.failure ?? "", /node \d leads in a partition of 1 nodes \(majority 3\); 4 nodes have been out of its reach for more than \d+ ms/);
  // Caught only once the leader could have noticed: not before the keepalive limit.
  const at = Number(/^t=(\d+)/.exec(r.failure ?? "")?.[1]);
  assert.ok(at > 6000 + 3000, `caught at ${at}`);
});

test("a lock holder that keeps leading less than half of the nodes past the keepalive limit is caught (lock, majority)", () => {
  const r = simulate({ seed: 7, nodes: 5, lock: true, faults: false, sabotage: { kind: "blind-leader", atMs: 6000 } });
  assert.equal(r.ok, false);
  assert.match(r.failure ?? "", /node \d leads in a partition of 1 nodes \(majority 3\)/);
  const at = Number(/^t=(\d+)/.exec(r.failure ?? "")?.[1]);
  assert.ok(at > 6000 + 3000, `caught at ${at}`);
});

test("PRNG: deterministic, in range, roughly uniform", () => {
  const a = new Prng(99);
  const b = new Prng(99);
  const counts = [0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 70_000; i++) {
    const x = a.int(7);
    assert.equal(x, b.int(7));
    counts[x] = (counts[x] ?? 0) + 1;
  }
  for (const c of counts) assert.ok(c > 9000 && c < 11_000, `bucket ${c}`);
  const f = new Prng(1);
  for (let i = 0; i < 1000; i++) {
    const v = f.next();
    assert.ok(v >= 0 && v < 1);
    const r = f.range(3, 5);
    assert.ok(r >= 3 && r <= 5);
  }
  assert.throws(() => f.pick([]), /empty/);
  assert.notEqual(new Prng(1).nextU32(), new Prng(2).nextU32());
});

test("scheduler: runs callbacks in time order, FIFO among equal times, never in the past", () => {
  const s = new Scheduler(0);
  const order: string[] = [];
  s.at(10, () => order.push("b"));
  s.at(5, () => order.push("a"));
  s.at(10, () => {
    order.push("c");
    s.at(3, () => order.push(`e@${s.nowMs}`));
  });
  s.at(10, () => order.push("d"));
  while (s.runNext());
  assert.deepEqual(order, ["a", "b", "c", "d", "e@10"]);
});

const mainJs = fileURLToPath(new URL("../../src/sim/main.js", import.meta.url));

test("CLI: runs a range of seeds, replays one seed with its trace, refuses bad arguments", () => {
  const range = spawnSync(process.execPath, [mainJs, "--seeds", "5", "--start", "1", "--nodes", "3-4", "--lock"], { encoding: "utf8" });
  assert.equal(range.status, 0, range.stdout + range.stderr);
  assert.match(range.stdout, /5\/5 seeds ok/);
  // Large seeds, both modes, node counts picked per seed.
  const big = spawnSync(process.execPath, [mainJs, "--seeds", "40", "--start", "7000000", "--both"], { encoding: "utf8" });
  assert.equal(big.status, 0, big.stdout + big.stderr);
  assert.match(big.stdout, /40\/40 seeds ok/);
  const one = spawnSync(process.execPath, [mainJs, "--seed", "3", "--nodes", "3", "--lock", "--trace"], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /\*\* node 0 started \(life 1\)/);
  assert.match(one.stdout, /seed 3: ok \(3 nodes/);
  const bad = spawnSync(process.execPath, [mainJs, "--nodes", "seven"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--nodes needs K or LO-HI, got "seven"/);
  const unknown = spawnSync(process.execPath, [mainJs, "--frobnicate"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown argument "--frobnicate"/);
});
