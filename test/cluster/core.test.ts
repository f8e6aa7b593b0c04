// Table tests of the cluster core: inputs in, state and effects out.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ClusterState, initialState, nodeFlags, step } from "../../src/cluster/core.ts";
import {
  type ClusterConfig,
  type ClusterPacket,
  type Effect,
  Flag,
  INVALID_GENERATION,
  type Input,
  Runstate,
  UNKNOWN_PNN,
} from "../../src/cluster/types.ts";

type InputNoTime = Input extends infer I ? (I extends Input ? Omit<I, "nowMs"> : never) : never;

function config(pnn: number, over: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    pnn,
    nodes: [0, 1, 2].map((p) => ({ pnn: p, deleted: false })),
    lockConfigured: true,
    requireMajority: true,
    leaderTimeoutMs: 5000,
    keepaliveIntervalMs: 1000,
    keepaliveLimit: 3,
    recoverIntervalMs: 1000,
    leaderBroadcastMs: 1000,
    lockRetryMs: 100,
    electionBackoffMs: 150,
    startFlags: 0,
    leaderCapable: true,
    lmasterCapable: true,
    seed: 7,
    ...over,
  };
}

/** A node driven by hand: each call feeds one input at the given time. */
function node(pnn: number, over: Partial<ClusterConfig> = {}) {
  let state: ClusterState = initialState(config(pnn, over), 0);
  return {
    get state() {
      return state;
    },
    feed(at: number, input: InputNoTime): Effect[] {
      const r = step(state, { ...input, nowMs: at } as Input);
      state = r.state;
      return r.effects;
    },
  };
}

const kinds = (fx: Effect[]) => fx.filter((e) => e.kind !== "log" && e.kind !== "wake-at").map((e) => e.kind);
const sent = (fx: Effect[], t: ClusterPacket["t"]) =>
  fx.filter((e): e is Effect & { kind: "send" } => e.kind === "send" && e.packet.t === t);

/** Node `pnn` past setup with peers 1 and 2 (or 0..2 minus itself) connected. */
function ready(pnn: number, over: Partial<ClusterConfig> = {}) {
  const n = node(pnn, over);
  for (const p of [0, 1, 2]) if (p !== pnn) n.feed(0, { kind: "peer-up", pnn: p });
  return n;
}

describe("election with a cluster lock", () => {
  test("a node races for the lock only once it has finished INIT", () => {
    const n = ready(0);
    assert.ok(!kinds(n.feed(1, { kind: "tick" })).includes("take-lock"), "not during INIT");
    assert.ok(kinds(n.feed(2, { kind: "runstate", runstate: Runstate.SETUP })).includes("take-lock"));
  });

  test("holding the lock makes the leader: it announces itself, then hands out a generation", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    const fx = n.feed(2, { kind: "lock", outcome: "held" });
    assert.equal(n.state.role, "leader");
    assert.equal(n.state.leader, 0);
    const order = fx.filter((e) => e.kind === "send").map((e) => (e as { packet: ClusterPacket }).packet.t);
    assert.ok(order.indexOf("leader") < order.indexOf("recovered"), `leader before recovered: ${order.join(",")}`);
    assert.ok(kinds(fx).includes("leader-to-clients"));
    assert.notEqual(n.state.generation, INVALID_GENERATION);
  });

  test("a contended lock is retried later, not at once", () => {
    const n = ready(1);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    const fx = n.feed(2, { kind: "lock", outcome: "contended" });
    assert.equal(n.state.lock, "none");
    assert.ok(!kinds(fx).includes("take-lock"));
    const retry = n.state.nextLockTryMs;
    assert.ok(retry > 2);
    assert.ok(kinds(n.feed(retry, { kind: "tick" })).includes("take-lock"));
  });

  test("a follower that hears a leader stops racing and tells its clients", () => {
    const n = ready(1);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "contended" });
    const fx = n.feed(3, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 1 } });
    assert.equal(n.state.leader, 0);
    assert.deepEqual(
      fx.filter((e) => e.kind === "leader-to-clients"),
      [{ kind: "leader-to-clients", leader: 0 }],
    );
    assert.ok(!kinds(n.feed(1000, { kind: "tick" })).includes("take-lock"));
  });

  test("the leader's connection closing starts the race at once, not after the leader timeout", () => {
    const n = ready(1);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "contended" });
    n.feed(3, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 1 } });
    const fx = n.feed(4, { kind: "peer-down", pnn: 0 });
    assert.equal(n.state.leader, UNKNOWN_PNN);
    assert.ok(kinds(fx).includes("take-lock"));
    assert.equal(nodeFlags(n.state, 0), Flag.DISCONNECTED | Flag.UNHEALTHY);
  });

  test("losing the lock makes the leader step down and say so", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "held" });
    const fx = n.feed(3, { kind: "lock", outcome: "lost", reason: "file removed" });
    assert.equal(n.state.role, "follower");
    assert.equal(sent(fx, "leader").every((e) => (e.packet as { leader: number }).leader === UNKNOWN_PNN), true);
    assert.ok(sent(fx, "leader").length === 2);
  });

  test("a stopped leader steps down and releases the lock", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "held" });
    const fx = n.feed(3, { kind: "admin", action: "stop" });
    assert.equal(n.state.role, "follower");
    assert.ok(kinds(fx).includes("release-lock"));
    assert.equal(n.state.ownFlags & Flag.STOPPED, Flag.STOPPED);
  });

  test("a node joining later learns the leader at once and does not unseat it", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "held" });
    n.feed(3, { kind: "peer-down", pnn: 2 });
    const fx = n.feed(4, { kind: "peer-up", pnn: 2 });
    assert.ok(sent(fx, "leader").some((e) => e.to === 2));
    assert.equal(n.state.role, "leader");
  });
});

describe("membership", () => {
  test("a peer silent past KeepaliveInterval × KeepaliveLimit is dropped and shown DISCONNECTED", () => {
    const n = ready(0);
    n.feed(500, { kind: "packet", from: 1, packet: { t: "leader", leader: 1, term: 1 } });
    const fx = n.feed(3200, { kind: "tick" });
    assert.deepEqual(
      fx.filter((e) => e.kind === "drop-peer").map((e) => (e as { pnn: number }).pnn),
      [2],
    );
    assert.equal(nodeFlags(n.state, 2) & Flag.DISCONNECTED, Flag.DISCONNECTED);
    assert.equal(nodeFlags(n.state, 1) & Flag.DISCONNECTED, 0);
  });

  test("a peer's own report sets its flags; admin actions set ours and are broadcast", () => {
    const n = ready(0);
    n.feed(1, {
      kind: "packet",
      from: 1,
      packet: { t: "state", flags: Flag.PERMANENTLY_DISABLED, runstate: 5, caps: 3, leader: 0, term: 0, generation: 1 },
    });
    assert.equal(nodeFlags(n.state, 1), Flag.PERMANENTLY_DISABLED);
    const fx = n.feed(2, { kind: "admin", action: "disable" });
    assert.equal(sent(fx, "state").length, 2);
    assert.equal(n.state.ownFlags, Flag.PERMANENTLY_DISABLED);
    n.feed(3, { kind: "health", healthy: false });
    assert.equal(n.state.ownFlags, Flag.PERMANENTLY_DISABLED | Flag.UNHEALTHY);
  });

  test("a stopped node leaves the vnnmap at the next recovery", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.FIRST_RECOVERY });
    n.feed(2, { kind: "lock", outcome: "held" });
    for (const p of [1, 2]) {
      n.feed(3, { kind: "packet", from: p, packet: { t: "state", flags: 0, runstate: 5, caps: 3, leader: 0, term: 1, generation: n.state.generation } });
    }
    assert.deepEqual(n.state.vnnmap, [0, 1, 2]);
    n.feed(4, { kind: "packet", from: 2, packet: { t: "state", flags: Flag.STOPPED, runstate: 5, caps: 3, leader: 0, term: 1, generation: n.state.generation } });
    assert.deepEqual(n.state.vnnmap, [0, 1]);
  });

  test("entering FIRST_RECOVERY forgets a generation seen during setup, and the node finishes it with the next recovery", () => {
    const n = ready(1);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 1 } });
    n.feed(3, { kind: "packet", from: 0, packet: { t: "recovered", term: 1, generation: 99, vnnmap: [0, 1, 2] } });
    assert.equal(n.state.generation, 99);
    n.feed(4, { kind: "runstate", runstate: Runstate.FIRST_RECOVERY });
    assert.equal(n.state.generation, INVALID_GENERATION);
    const fx = n.feed(5, { kind: "packet", from: 0, packet: { t: "recovered", term: 1, generation: 100, vnnmap: [0, 1, 2] } });
    assert.ok(kinds(fx).includes("first-recovery-done"));
  });
});

describe("election without a lock", () => {
  const noLock = { lockConfigured: false };

  test("a candidate stores its term and vote before asking, and leads on a majority", () => {
    const n = ready(0, noLock);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    const fx = n.feed(1000, { kind: "tick" });
    const persist = fx.findIndex((e) => e.kind === "persist-vote");
    const ask = fx.findIndex((e) => e.kind === "send" && e.packet.t === "vote-request");
    assert.ok(persist >= 0 && ask > persist, "persist-vote comes before the vote requests");
    assert.equal(n.state.role, "candidate");
    n.feed(1001, { kind: "packet", from: 1, packet: { t: "vote", term: n.state.term, granted: true } });
    assert.equal(n.state.role, "leader");
  });

  test("a node that hears a live leader refuses its vote", () => {
    const n = ready(2, noLock);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 3 } });
    const fx = n.feed(3, { kind: "packet", from: 1, packet: { t: "vote-request", term: 4 } });
    assert.deepEqual(sent(fx, "vote").map((e) => e.packet), [{ t: "vote", term: 3, granted: false }]);
  });

  test("a lone node without a majority never stands", () => {
    const n = node(0, noLock);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    for (let t = 100; t < 10_000; t += 500) n.feed(t, { kind: "tick" });
    assert.equal(n.state.role, "follower");
    assert.equal(n.state.leader, UNKNOWN_PNN);
  });

  test("the stored term and vote survive a restart", () => {
    const n = node(1, { ...noLock, savedVote: { term: 7, votedFor: 0 } });
    for (const p of [0, 2]) n.feed(0, { kind: "peer-up", pnn: p });
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    const fx = n.feed(2, { kind: "packet", from: 2, packet: { t: "vote-request", term: 7 } });
    assert.deepEqual(sent(fx, "vote").map((e) => e.packet), [{ t: "vote", term: 7, granted: false }]);
  });
});

describe("guards", () => {
  test("a node in SHUTDOWN never leads: no lock race, a lock granted late is given back, no election", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    assert.equal(n.state.lock, "taking");
    n.feed(2, { kind: "runstate", runstate: Runstate.SHUTDOWN });
    const fx = n.feed(3, { kind: "lock", outcome: "held" });
    assert.equal(n.state.role, "follower");
    assert.ok(kinds(fx).includes("release-lock"));
    for (let t = 100; t < 3000; t += 100) assert.ok(!kinds(n.feed(t, { kind: "tick" })).includes("take-lock"), `no race at ${t}`);

    const m = ready(0, { lockConfigured: false });
    m.feed(1, { kind: "runstate", runstate: Runstate.SHUTDOWN });
    for (let t = 100; t < 3000; t += 100) assert.deepEqual(sent(m.feed(t, { kind: "tick" }), "vote-request"), [], `no election at ${t}`);
    assert.equal(m.state.role, "follower");
  });

  test("a lock answer `held` that comes when the node is not taking the lock is given back, not led on", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "contended" });
    assert.equal(n.state.lock, "none");
    const fx = n.feed(3, { kind: "lock", outcome: "held" });
    assert.deepEqual(kinds(fx), ["release-lock"]);
    assert.equal(n.state.role, "follower");
    assert.equal(n.state.lock, "none");
  });

  test("a leader that has lost its majority steps down before handling the input (no lock)", () => {
    const n = ready(0, { lockConfigured: false });
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(1000, { kind: "tick" });
    n.feed(1001, { kind: "packet", from: 1, packet: { t: "vote", term: n.state.term, granted: true } });
    assert.equal(n.state.role, "leader");
    n.feed(1100, { kind: "peer-down", pnn: 2 });
    assert.equal(n.state.role, "leader", "two of three is still a majority");
    const generation = n.state.generation;
    // Node 1 has been silent past the keepalive limit when a recovery is asked for.
    const fx = n.feed(5000, { kind: "force-recovery" });
    assert.equal(n.state.role, "follower");
    assert.ok(!kinds(fx).includes("recovered"), `no recovery handed out: ${kinds(fx)}`);
    assert.equal(n.state.generation, generation);
  });
});

describe("a cut is safe: a part with less than half of the nodes has no leader", () => {
  const four = { nodes: [0, 1, 2, 3].map((p) => ({ pnn: p, deleted: false })) };

  test("a lock holder cut off alone gives the lock up at once, though it still holds it, and says it lost the majority", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "held" });
    assert.equal(n.state.role, "leader");
    // Both peers silent past the keepalive limit (3 s): the next step finds it.
    const fx = n.feed(3100, { kind: "tick" });
    assert.equal(n.state.role, "follower");
    assert.equal(n.state.leader, UNKNOWN_PNN);
    assert.equal(n.state.lock, "none");
    assert.ok(kinds(fx).includes("release-lock"));
    assert.equal(kinds(fx).filter((k) => k === "lost-majority").length, 1);
    assert.ok(!kinds(fx).includes("recovered"), "no recovery handed out on the way down");
    for (let t = 3200; t < 8000; t += 100) {
      const more = kinds(n.feed(t, { kind: "tick" }));
      assert.ok(!more.includes("take-lock"), `no lock race alone at ${t}`);
      assert.ok(!more.includes("lost-majority"), "said once");
    }
  });

  test("a lock granted to a node that meanwhile lost half of its peers is given back", () => {
    const n = ready(0);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    assert.equal(n.state.lock, "taking");
    n.feed(2, { kind: "peer-down", pnn: 1 });
    n.feed(3, { kind: "peer-down", pnn: 2 });
    const fx = n.feed(4, { kind: "lock", outcome: "held" });
    assert.equal(n.state.role, "follower");
    assert.ok(kinds(fx).includes("release-lock"));
    assert.ok(!kinds(fx).includes("recovered") && !kinds(fx).includes("leader-changed"), `never led: ${kinds(fx)}`);
  });

  test("with a lock, exactly half of the nodes may lead: the lock decides an even split", () => {
    const n = node(0, four);
    n.feed(0, { kind: "peer-up", pnn: 1 });
    assert.ok(kinds(n.feed(1, { kind: "runstate", runstate: Runstate.SETUP })).includes("take-lock"));
    n.feed(2, { kind: "lock", outcome: "held" });
    assert.equal(n.state.role, "leader");
    const two = node(1, { nodes: [0, 1].map((p) => ({ pnn: p, deleted: false })) });
    assert.ok(kinds(two.feed(1, { kind: "runstate", runstate: Runstate.SETUP })).includes("take-lock"), "a lone survivor of two");
  });

  test("the larger part races for the lock as soon as its leader is gone", () => {
    const n = ready(1);
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "contended" });
    n.feed(3, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 1 } });
    assert.equal(n.state.leader, 0);
    const fx = n.feed(4, { kind: "peer-down", pnn: 0 });
    assert.ok(kinds(fx).includes("take-lock"));
    assert.ok(!kinds(fx).includes("lost-majority"), "two of three is a majority");
    n.feed(5, { kind: "lock", outcome: "held" });
    assert.equal(n.state.role, "leader");
  });

  test("a follower that loses its majority says so too (no lock)", () => {
    const n = ready(2, { lockConfigured: false });
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 3 } });
    n.feed(3, { kind: "peer-down", pnn: 1 });
    const fx = n.feed(4, { kind: "peer-down", pnn: 0 });
    assert.deepEqual(kinds(fx).filter((k) => k === "lost-majority"), ["lost-majority"]);
  });

  test("require majority = false keeps CTDB's behaviour: a lone node holding the lock leads, nothing is dropped", () => {
    const n = ready(0, { requireMajority: false });
    n.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    n.feed(2, { kind: "lock", outcome: "held" });
    const fx = n.feed(3100, { kind: "tick" });
    assert.equal(n.state.role, "leader");
    assert.ok(!kinds(fx).includes("lost-majority"));
  });
});

describe("recovery asked of any node", () => {
  test("a follower passes a requested recovery on to the leader, who runs it", () => {
    const f = ready(1);
    f.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    f.feed(2, { kind: "lock", outcome: "contended" });
    f.feed(3, { kind: "packet", from: 0, packet: { t: "leader", leader: 0, term: 1 } });
    const fx = f.feed(4, { kind: "force-recovery" });
    assert.deepEqual(
      sent(fx, "recover-request").map((e) => e.to),
      [0],
    );
    assert.ok(!kinds(fx).includes("recovered"), "a follower hands out no generation");

    const l = ready(0);
    l.feed(1, { kind: "runstate", runstate: Runstate.SETUP });
    l.feed(2, { kind: "lock", outcome: "held" });
    const before = l.state.generation;
    const lfx = l.feed(3000, { kind: "packet", from: 1, packet: { t: "recover-request" } });
    assert.notEqual(l.state.generation, before);
    assert.equal(sent(lfx, "recovered").length, 2);
    // ... but a follower ignores one that reaches it
    const again = f.feed(5, { kind: "packet", from: 2, packet: { t: "recover-request" } });
    assert.equal(sent(again, "recovered").length, 0);
  });

  test("without a known leader a requested recovery goes nowhere", () => {
    const f = ready(1);
    const fx = f.feed(1, { kind: "force-recovery" });
    assert.equal(sent(fx, "recover-request").length, 0);
  });
});
