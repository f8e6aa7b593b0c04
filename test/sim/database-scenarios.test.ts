// Scripted database scenarios in the simulator. The first three are CTDB bug
// 14294 (a record deleted while a node was out comes back through that
// node's stale copy) in its three shapes, each run once with the guard that
// stops it and once with that guard broken, to show the check bites.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type DbSabotage, DbSim, SIM_DBS } from "../../src/sim/database.ts";

const LOCKING = SIM_DBS[0]!;
const SECRETS = SIM_DBS[1]!;

function settle(sim: DbSim, forMs = 2000): void {
  sim.runUntil(sim.now + forMs);
  assert.equal(sim.failure, undefined, `${sim.failure}\n${sim.traceLines().join("\n")}`);
  assert.ok(sim.settled(), `not settled\n${sim.traceLines().join("\n")}`);
}

/** Node 2 holds a stale copy of k (dmaster 1), node 1 the record; then node 1 deletes it. */
function staleCopyOnNode2(sim: DbSim): void {
  settle(sim);
  assert.ok(sim.volatileStore(2, "k", "old"));
  assert.ok(sim.volatileStore(1, "k", "newer"));
  assert.equal(sim.value(2, LOCKING, "k"), "old");
}

function deleteAndPurge(sim: DbSim): void {
  assert.ok(sim.volatileStore(1, "k", ""));
  assert.ok(sim.vacuum("k"));
}

function resurrected(sim: DbSim): string | undefined {
  for (let pnn = 0; pnn < sim.n; pnn++) {
    const v = sim.value(pnn, LOCKING, "k");
    if (v !== undefined) return `node ${pnn} has k=${v}`;
  }
  return sim.failure;
}

function stoppedNodeScenario(sabotage?: DbSabotage): DbSim {
  // CTDB's timeline: the node invalidates its records at once, but a
  // recovery that still counts it clears the mark again when it thaws.
  const sim = new DbSim(1, 3, { noticeMs: 0, ...(sabotage === undefined ? {} : { sabotage }) });
  staleCopyOnNode2(sim);
  sim.stop(2);
  settle(sim);
  deleteAndPurge(sim);
  sim.cont(2);
  sim.runUntil(sim.now + 2000);
  return sim;
}

test("bug 14294: a stopped node takes no part in recovery, so its stale copy never revives a deleted record", () => {
  const sim = stoppedNodeScenario();
  assert.equal(sim.failure, undefined, sim.failure);
  assert.equal(resurrected(sim), undefined);
  assert.deepEqual(sim.activeNodes(), [0, 1, 2]);
});

test("bug 14294 with stopped nodes let into recovery: the deleted record comes back and the checker says so", () => {
  const sim = stoppedNodeScenario("include-inactive");
  assert.match(sim.failure ?? "", /came back after it was deleted and purged/);
});

function briefCutScenario(sabotage?: DbSabotage): DbSim {
  // The node notices it was cut off only after 1 s; the cut lasts 0.6 s.
  const sim = new DbSim(2, 3, { noticeMs: 1000, ...(sabotage === undefined ? {} : { sabotage }) });
  staleCopyOnNode2(sim);
  sim.cut(2, 0);
  sim.cut(2, 1);
  sim.runUntil(sim.now + 400);
  assert.deepEqual(sim.activeNodes(), [0, 1]);
  deleteAndPurge(sim);
  sim.healAll();
  sim.runUntil(sim.now + 2000);
  return sim;
}

test("a node cut off too briefly to notice is wiped, not pulled from, when it is back", () => {
  const sim = briefCutScenario();
  assert.equal(sim.failure, undefined, sim.failure);
  assert.equal(resurrected(sim), undefined);
  assert.deepEqual(sim.activeNodes(), [0, 1, 2]);
});

test("pulling from a node that was away since the last recovery revives the record", () => {
  const sim = briefCutScenario("all-contribute");
  assert.match(sim.failure ?? "", /came back after it was deleted and purged/);
});

function newLeaderScenario(sabotage?: DbSabotage): DbSim {
  // Node 2 is stopped and knows it; while it is back, the leader dies, and
  // the new leader can not know node 2 was away: only node 2's own
  // invalidated records keep the stale copy out.
  const sim = new DbSim(3, 3, { noticeMs: 50, ...(sabotage === undefined ? {} : { sabotage }) });
  staleCopyOnNode2(sim);
  assert.equal(sim.currentLeader(), 0);
  sim.stop(2);
  settle(sim);
  deleteAndPurge(sim);
  sim.cont(2);
  sim.kill(0);
  sim.runUntil(sim.now + 2000);
  return sim;
}

test("a node that was inactive offers no volatile records to a leader that does not know it was away", () => {
  const sim = newLeaderScenario();
  assert.equal(sim.failure, undefined, sim.failure);
  assert.equal(sim.currentLeader(), 1);
  assert.equal(resurrected(sim), undefined);
});

test("without invalidating its records the returning node revives the record under a new leader", () => {
  const sim = newLeaderScenario("keep-invalid-records");
  assert.match(sim.failure ?? "", /came back after it was deleted and purged/);
});

test("a node that was down while transactions were committed has them after it rejoins", () => {
  const sim = new DbSim(4, 3);
  settle(sim);
  sim.kill(2);
  settle(sim);
  assert.ok(sim.transaction(0, SECRETS, new Map([["user", Buffer.from("alice")]])));
  settle(sim, 500);
  assert.ok(sim.transaction(1, SECRETS, new Map([["group", Buffer.from("staff")]])));
  settle(sim, 500);
  assert.equal(sim.value(2, SECRETS, "user"), undefined, "node 2 was down when it was written");
  sim.restart(2);
  settle(sim);
  assert.deepEqual(sim.activeNodes(), [0, 1, 2]);
  for (const pnn of [0, 1, 2]) {
    assert.equal(sim.value(pnn, SECRETS, "user"), "alice");
    assert.equal(sim.value(pnn, SECRETS, "group"), "staff");
  }
  assert.equal(sim.committedTxns().length, 2);
});

test("a coordinator killed in the middle of a commit leaves the transaction on every node or on none", () => {
  let applied = 0;
  let dropped = 0;
  for (let seed = 10; seed < 40; seed++) {
    const sim = new DbSim(seed, 3);
    settle(sim);
    assert.ok(sim.transaction(0, SECRETS, new Map([["k", Buffer.from(`s${seed}`)]])));
    sim.runUntil(sim.now + 1 + (seed % 4));
    sim.kill(0);
    settle(sim);
    sim.restart(0);
    settle(sim);
    const values = [0, 1, 2].map((pnn) => sim.value(pnn, SECRETS, "k"));
    assert.ok(values.every((v) => v === values[0]), `seed ${seed}: nodes disagree: ${values.join(",")}`);
    if (values[0] === undefined) dropped++;
    else applied++;
  }
  // Both outcomes happen, depending on how far the commit got.
  assert.ok(applied > 0 && dropped > 0, `applied ${applied}, dropped ${dropped}`);
});
