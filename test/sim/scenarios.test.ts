// Targeted cluster scenarios, each over many seeds, with the virtual-time
// figures they produce printed as diagnostics.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ClusterSim } from "../../src/sim/cluster.ts";
import { classify } from "./known-bugs.ts";

/** Seeds whose formation hit a known, reported core bug, per test. */
const skipped = new Map<string, number[]>();

function form(
  seed: number,
  n: number,
  lock: boolean,
  startAll = true,
): { sim: ClusterSim; leader: number; formedMs: number } | undefined {
  const sim = new ClusterSim(seed, n, { lock });
  const count = startAll ? n : n - 1;
  for (let pnn = 0; pnn < count; pnn++) sim.start(pnn);
  const res = sim.runToConvergence(60_000, 2000, 50);
  if (sim.failure !== undefined) {
    const bug = classify({ ok: false, seed, failure: sim.failure, trace: [], stats: {} as never });
    if (bug !== undefined) {
      skipped.set(bug.id, [...(skipped.get(bug.id) ?? []), seed]);
      return undefined;
    }
  }
  assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}\n${sim.traceTail().join("\n")}`);
  assert.ok(res.sinceMs !== undefined, `seed ${seed}: no formation: ${res.lastReason}\n${sim.traceTail().join("\n")}`);
  const leaders = sim.actingLeaders();
  assert.equal(leaders.length, 1);
  return { sim, leader: leaders[0] as number, formedMs: res.sinceMs };
}

function percentiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${s[s.length - 1]} ms (${s.length} runs)`;
}

test("formation: 3-7 nodes booted together converge within a bounded virtual time", (t) => {
  for (const lock of [true, false]) {
    const times: number[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      const formed = form(seed, 3 + (seed % 5), lock);
      if (formed !== undefined) times.push(formed.formedMs);
    }
    t.diagnostic(`${lock ? "lock" : "no-lock"} formation (all nodes RUNNING, one leader, one generation): ${percentiles(times)}`);
    // Setup takes up to 1.5 s and startup up to 2 s in the simulated daemon.
    assert.ok(Math.max(...times) <= 10_000, `formation took ${Math.max(...times)} ms`);
  }
});

test("lock mode: after the leader is killed a survivor leads, holding the lock, within a bounded time", (t) => {
  const times: number[] = [];
  for (let seed = 1; seed <= 100; seed++) {
    const n = 3 + (seed % 5);
    const formed = form(seed, n, true);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
    const killedAt = sim.nowMs;
    sim.kill(leader);
    let newLeader: number | undefined;
    while (newLeader === undefined && sim.nowMs < killedAt + 30_000) {
      sim.runUntil(sim.nowMs + 5);
      assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}`);
      newLeader = sim.actingLeaders().find((p) => sim.lock.holds(sim.proc(p)));
    }
    assert.ok(newLeader !== undefined, `seed ${seed}: nobody leads 30 s after node ${leader} was killed`);
    assert.notEqual(newLeader, leader);
    const took = sim.nowMs - killedAt;
    times.push(took);
    // Survivors race at once on the closed connection; the kernel frees the
    // lock within 100 ms; a contended try waits lockRetry..2*lockRetry.
    const bound = 2 * sim.timing.lockRetryMs + 500;
    assert.ok(took <= bound, `seed ${seed}: new leader after ${took} ms, bound ${bound} ms`);
    // And the survivors converge on it.
    const res = sim.runToConvergence(sim.nowMs + 60_000, 2000, 50);
    assert.ok(res.sinceMs !== undefined, `seed ${seed}: survivors did not converge: ${res.lastReason}`);
    assert.deepEqual(sim.actingLeaders(), [newLeader]);
  }
  t.diagnostic(`lock mode, leader killed -> survivor leads with the lock: ${percentiles(times)}`);
});

test("no-lock mode: after the leader is killed the survivors elect a new leader when they keep a majority", (t) => {
  const times: number[] = [];
  for (let seed = 1; seed <= 100; seed++) {
    const n = 3 + (seed % 5);
    const formed = form(seed, n, false);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
    const killedAt = sim.nowMs;
    sim.kill(leader);
    let newLeader: number | undefined;
    while (newLeader === undefined && sim.nowMs < killedAt + 60_000) {
      sim.runUntil(sim.nowMs + 5);
      assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}`);
      newLeader = sim.actingLeaders()[0];
    }
    assert.ok(newLeader !== undefined, `seed ${seed}: nobody leads 60 s after node ${leader} was killed`);
    times.push(sim.nowMs - killedAt);
    const t2 = sim.timing;
    assert.ok(sim.nowMs - killedAt <= 4 * t2.electionBackoffMs + 1000, `seed ${seed}: took ${sim.nowMs - killedAt} ms`);
  }
  t.diagnostic(`no-lock mode, leader killed -> new leader: ${percentiles(times)}`);
});

test("a joining node does not change the leader", () => {
  for (const lock of [true, false]) {
    for (let seed = 1; seed <= 40; seed++) {
      const n = 3 + (seed % 5);
      const formed = form(seed, n, lock, false);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
      const elections = sim.elections;
      sim.start(n - 1);
      const until = sim.nowMs + 30_000;
      while (sim.nowMs < until) {
        sim.runUntil(sim.nowMs + 10);
        assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}`);
        assert.deepEqual(sim.actingLeaders(), [leader], `seed ${seed} (${lock ? "lock" : "no lock"}): leader changed`);
      }
      assert.equal(sim.elections, elections, `seed ${seed}: someone took leadership`);
      assert.equal(sim.convergence(), undefined, `seed ${seed}: ${sim.convergence()}`);
      assert.equal(sim.node(n - 1).state?.leader, leader);
    }
  }
});

test("no lock: a minority partition elects nobody, the majority keeps or elects a leader", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const n = 5;
    const formed = form(seed, n, false);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
    // Half the seeds cut the leader off with one other node, half cut off two followers.
    const withLeader = seed % 2 === 0;
    const minority = withLeader
      ? [leader, (leader + 1) % n]
      : [(leader + 1) % n, (leader + 2) % n];
    const majority = [...Array(n).keys()].filter((p) => !minority.includes(p));
    for (const a of minority) for (const b of majority) sim.net.cut(a, b, true);
    const cutAt = sim.nowMs;
    const end = cutAt + 60_000;
    while (sim.nowMs < end) {
      sim.runUntil(sim.nowMs + 10);
      assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}`);
      // A symmetric cut closes the connections, so the old leader steps down at once.
      const minorityLeaders = sim.actingLeaders().filter((p) => minority.includes(p));
      assert.deepEqual(minorityLeaders, [], `seed ${seed}: minority [${minority}] has a leader at t=${sim.nowMs}`);
    }
    const majorityLeaders = sim.actingLeaders().filter((p) => majority.includes(p));
    assert.equal(majorityLeaders.length, 1, `seed ${seed}: majority [${majority}] has leaders [${majorityLeaders}]`);
    if (!withLeader) assert.deepEqual(majorityLeaders, [leader], `seed ${seed}: the majority's leader was unseated`);
  }
});

test("no lock: a leader whose packets stop (one-way cut) is dropped by keepalives and replaced", (t) => {
  const times: number[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const n = 3 + (seed % 5);
    const formed = form(seed, n, false);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
    for (let p = 0; p < n; p++) if (p !== leader) sim.net.cut(leader, p, false);
    const cutAt = sim.nowMs;
    const silence = sim.timing.keepaliveIntervalMs * sim.timing.keepaliveLimit;
    let replaced: number | undefined;
    while (replaced === undefined && sim.nowMs < cutAt + 3 * silence + 20_000) {
      sim.runUntil(sim.nowMs + 10);
      assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}`);
      replaced = sim.actingLeaders().find((p) => p !== leader);
    }
    assert.ok(replaced !== undefined, `seed ${seed}: the cut-off leader ${leader} was never replaced`);
    times.push(sim.nowMs - cutAt);
    // The last follower to drop the old leader leaves it without a majority;
    // it learns so when that connection's close reaches it, milliseconds later.
    sim.runUntil(sim.nowMs + 50);
    assert.ok(!sim.actingLeaders().includes(leader), `seed ${seed}: old leader ${leader} still leads beside ${replaced}`);
  }
  t.diagnostic(`no-lock, leader's outgoing packets cut -> replaced: ${percentiles(times)}`);
});

test("lock mode: a leader cut off into less than half gives the lock up although it still reaches it, and the rest elect", (t) => {
  const times: number[] = [];
  for (let seed = 1; seed <= 60; seed++) {
    const n = 3 + (seed % 5);
    const formed = form(seed, n, true);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
    // The leader and, in bigger clusters, one follower end up in the smaller part.
    const small = n >= 5 ? [leader, (leader + 1) % n] : [leader];
    const large = [...Array(n).keys()].filter((p) => !small.includes(p));
    // Odd seeds pull the cable (silence, nothing closes); even ones close the connections.
    for (const a of small) {
      for (const b of large) {
        if (seed % 2 === 1) {
          sim.net.cut(a, b, false);
          sim.net.cut(b, a, false);
        } else sim.net.cut(a, b, true);
      }
    }
    const cutAt = sim.nowMs;
    const silence = sim.timing.keepaliveIntervalMs * sim.timing.keepaliveLimit;
    let electedMs: number | undefined;
    const end = cutAt + 4 * silence + 20_000;
    while (sim.nowMs < end) {
      sim.runUntil(sim.nowMs + 10);
      assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}\n${sim.traceTail().join("\n")}`);
      const leaders = sim.actingLeaders();
      if (electedMs === undefined && leaders.some((p) => large.includes(p))) electedMs = sim.nowMs - cutAt;
      if (sim.nowMs - cutAt > silence + 2 * sim.timing.keepaliveIntervalMs + 500) {
        assert.deepEqual(leaders.filter((p) => small.includes(p)), [], `seed ${seed}: the cut-off part [${small}] still leads`);
      }
    }
    const leaders = sim.actingLeaders();
    assert.equal(leaders.length, 1, `seed ${seed}: leaders [${leaders}] after the cut`);
    assert.ok(large.includes(leaders[0] as number), `seed ${seed}: the larger part [${large}] has no leader`);
    assert.ok(sim.lock.holds(sim.proc(leaders[0] as number)), `seed ${seed}: the new leader does not hold the lock`);
    times.push(electedMs as number);
  }
  t.diagnostic(`lock mode, leader cut off -> leader in the larger part: ${percentiles(times)}`);
});

test("lock mode: a frozen (SIGSTOPped) leader keeps the lock, so nobody else leads until it resumes", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const n = 3 + (seed % 5);
    const formed = form(seed, n, true);
    if (formed === undefined) continue;
    const { sim, leader } = formed;
    sim.freeze(leader);
    const until = sim.nowMs + 40_000;
    while (sim.nowMs < until) {
      sim.runUntil(sim.nowMs + 20);
      assert.equal(sim.failure, undefined, `seed ${seed}: ${sim.failure}`);
      assert.deepEqual(sim.actingLeaders(), [leader], `seed ${seed}: another node leads while ${leader} is frozen`);
    }
    sim.resume(leader);
    const res = sim.runToConvergence(sim.nowMs + 120_000, 5000, 50);
    assert.ok(res.sinceMs !== undefined, `seed ${seed}: no convergence after resume: ${res.lastReason}`);
  }
});

test("scenario seeds skipped because their formation hit a known core bug stay few", (t) => {
  let total = 0;
  for (const [id, seeds] of skipped) {
    total += seeds.length;
    t.diagnostic(`known core bug ${id} during formation: seeds ${seeds.join(", ")}`);
  }
  assert.ok(total <= 20, `${total} scenario seeds skipped`);
});
