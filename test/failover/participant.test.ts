// Table tests of the participant core: what one node does with its addresses.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ifaces, initialParticipant, ipInfo, publicIps, type ParticipantEffect, type ParticipantInput, stepParticipant } from "../../src/failover/participant.ts";
import { ETIMEDOUT } from "../../src/failover/types.ts";
import { NodeFlag, Runstate, UNKNOWN_PNN } from "../../src/protocol/constants.ts";
import { addr } from "./harness.ts";

type NoTime<I> = I extends unknown ? Omit<I, "nowMs"> : never;

function node(pnn = 1, list = [addr("10.0.0.1", ["eth0", "eth1"]), addr("10.0.0.2")]) {
  const state = initialParticipant({ pnn, leaderlessGraceMs: 5000 }, list, 0);
  const feed = (at: number, input: NoTime<ParticipantInput>): ParticipantEffect[] =>
    stepParticipant(state, { ...input, nowMs: at } as ParticipantInput).effects.filter((e) => e.kind !== "log");
  feed(0, { kind: "self", flags: 0, runstate: Runstate.RUNNING });
  feed(0, { kind: "leader", leader: 0 });
  return { state, feed };
}

const events = (fx: ParticipantEffect[]) => fx.filter((e) => e.kind === "run-event").map((e) => e.kind === "run-event" && `${e.event} ${e.args.join(" ")}`);

describe("participant", () => {
  test("a report waits for the event running before it", () => {
    const n = node();
    const fx = n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.1", prefix: 24 }], grace: true } });
    assert.deepEqual(events(fx), ["takeip eth0 10.0.0.1 24"]);
    assert.deepEqual(n.feed(2, { kind: "message", from: 0, msg: { k: "gather", run: 2 } }), []);
    const done = n.feed(3, { kind: "event-done", id: 1, status: 0 });
    const report = done.find((e) => e.kind === "send" && e.msg.k === "ips");
    assert.ok(report !== undefined && report.kind === "send" && report.msg.k === "ips");
    assert.equal(report.msg.ips.find((i) => i.address === "10.0.0.1")?.hostedOn, "eth0");
  });

  test("a newer run drops what is still queued of an older one", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "start", run: 1 } });
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "message", from: 0, msg: { k: "gather", run: 2 } });
    const fx = n.feed(3, { kind: "event-done", id: 1, status: 0 });
    // The start of run 1 is acknowledged, its take is gone, run 2 gets its report.
    assert.deepEqual(events(fx), []);
    assert.deepEqual(fx.filter((e) => e.kind === "send").map((e) => e.kind === "send" && e.msg.k), ["ack", "ips"]);
  });

  test("work from a node that is not the leader is ignored", () => {
    const n = node();
    assert.deepEqual(n.feed(1, { kind: "message", from: 2, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.1", prefix: 24 }], grace: true } }), []);
  });

  test("a failed takeip counts the address as hosted until a releaseip has cleaned it up, then the failure is acknowledged", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    const fx = n.feed(2, { kind: "event-done", id: 1, status: 1 });
    assert.equal(n.state.hosted.has("10.0.0.2"), true, "it may be half-configured");
    assert.deepEqual(events(fx), ["releaseip eth0 10.0.0.2 24"]);
    assert.deepEqual(fx.filter((e) => e.kind === "send"), []);
    const after = n.feed(3, { kind: "event-done", id: 2, status: 0 });
    assert.equal(n.state.hosted.has("10.0.0.2"), false);
    assert.deepEqual(after.filter((e) => e.kind === "send").map((e) => e.kind === "send" && e.msg), [{ k: "ack", run: 1, stage: "take", status: 1 }]);
  });

  test("a timed-out event bans the node", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "start", run: 1 } });
    const fx = n.feed(2, { kind: "event-done", id: 1, status: ETIMEDOUT });
    assert.ok(fx.some((e) => e.kind === "ban-self"));
  });

  test("without a leader for the grace, every address is dropped at once", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    n.feed(1000, { kind: "leader", leader: UNKNOWN_PNN });
    assert.deepEqual(n.feed(5999, { kind: "tick" }), []);
    const fx = n.feed(6000, { kind: "tick" });
    assert.deepEqual(fx.filter((e) => e.kind === "drop-addresses"), [
      { kind: "drop-addresses", addresses: [{ address: "10.0.0.2", iface: "eth0", prefix: 24 }] },
    ]);
    assert.equal(n.state.hosted.size, 0);
  });

  test("a banned node releases everything it hosts", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    const fx = n.feed(3, { kind: "self", flags: NodeFlag.BANNED, runstate: Runstate.RUNNING });
    assert.deepEqual(events(fx), ["releaseip eth0 10.0.0.2 24"]);
    n.feed(4, { kind: "event-done", id: 2, status: 0 });
    assert.equal(n.state.hosted.size, 0);
  });

  test("a banned node that hosts nothing acknowledges startipreallocate without running it", () => {
    const n = node();
    n.feed(0, { kind: "self", flags: NodeFlag.BANNED, runstate: Runstate.RUNNING });
    const fx = n.feed(1, { kind: "message", from: 0, msg: { k: "start", run: 1 } });
    assert.deepEqual(events(fx), []);
    assert.deepEqual(fx.filter((e) => e.kind === "send").map((e) => e.kind === "send" && e.msg), [{ k: "ack", run: 1, stage: "start", status: 0 }]);
  });

  test("GET_PUBLIC_IPS, GET_PUBLIC_IP_INFO and GET_IFACES views", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "release", run: 1, ips: [], assignment: [["10.0.0.2", 2]] } });
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.1", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    assert.deepEqual(publicIps(n.state, false), [
      { address: "10.0.0.1", pnn: 1 },
      { address: "10.0.0.2", pnn: 2 },
    ]);
    n.feed(3, { kind: "link", iface: "eth0", up: false, token: 1 });
    // 10.0.0.2 has only eth0, now down: not available here.
    assert.deepEqual(publicIps(n.state, true), [{ address: "10.0.0.1", pnn: 1 }]);
    assert.deepEqual(ipInfo(n.state, "10.0.0.1"), {
      address: "10.0.0.1",
      pnn: 1,
      activeIdx: 0,
      ifaces: [
        { name: "eth0", linkUp: false, references: 1 },
        { name: "eth1", linkUp: true, references: 0 },
      ],
    });
    assert.deepEqual(ifaces(n.state), [
      { name: "eth0", linkUp: false, references: 1 },
      { name: "eth1", linkUp: true, references: 0 },
    ]);
    assert.equal(ipInfo(n.state, "10.9.9.9"), undefined);
  });

  test("delip of a hosted address releases it first, then forgets it", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    const fx = n.feed(3, { kind: "del-address", address: "10.0.0.2", token: 9 });
    assert.deepEqual(events(fx), ["releaseip eth0 10.0.0.2 24"]);
    assert.equal(n.state.addresses.has("10.0.0.2"), true);
    const done = n.feed(4, { kind: "event-done", id: 2, status: 0 });
    assert.equal(n.state.addresses.has("10.0.0.2"), false);
    assert.ok(done.some((e) => e.kind === "client-reply" && e.token === 9 && e.status === 0));
    assert.ok(done.some((e) => e.kind === "send" && e.msg.k === "run-request"));
  });

  test("reloading public addresses releases the removed ones and asks for a run", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    const fx = n.feed(3, { kind: "configure", addresses: [addr("10.0.0.1", ["eth0", "eth1"]), addr("10.0.0.3")], token: 5 });
    assert.deepEqual(events(fx), ["releaseip eth0 10.0.0.2 24"]);
    assert.ok(fx.some((e) => e.kind === "send" && e.msg.k === "run-request"));
    n.feed(4, { kind: "event-done", id: 2, status: 0 });
    assert.deepEqual([...n.state.addresses.keys()].sort(), ["10.0.0.1", "10.0.0.3"]);
  });
});

describe("participant and a new leader", () => {
  test("work that arrives before the news of its sender's leadership is done once it leads", () => {
    const state = initialParticipant({ pnn: 1, leaderlessGraceMs: 5000 }, [addr("10.0.0.1")], 0);
    stepParticipant(state, { kind: "self", nowMs: 0, flags: 0, runstate: Runstate.RUNNING });
    const before = stepParticipant(state, { kind: "message", nowMs: 1, from: 2, msg: { k: "gather", run: 1 } }).effects;
    assert.deepEqual(before.filter((e) => e.kind === "send"), []);
    const after = stepParticipant(state, { kind: "leader", nowMs: 2, leader: 2 }).effects;
    assert.deepEqual(after.filter((e) => e.kind === "send").map((e) => e.kind === "send" && [e.to, e.msg.k]), [[2, "ips"]]);
  });
});

describe("participant and stale reports", () => {
  test("an address removed by the watchdog is forgotten, and not taken back in a run without grace", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    const fx = n.feed(3, { kind: "removed", addresses: ["10.0.0.2"] });
    assert.equal(n.state.hosted.has("10.0.0.2"), false);
    assert.ok(fx.some((e) => e.kind === "send" && e.msg.k === "run-request"));
    const take = n.feed(4, { kind: "message", from: 0, msg: { k: "take", run: 2, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: false } });
    assert.deepEqual(events(take), []);
    assert.deepEqual(take.filter((e) => e.kind === "send").map((e) => e.kind === "send" && e.msg), [{ k: "ack", run: 2, stage: "take", status: -11 }]);
  });
});

describe("participant and a lost majority", () => {
  test("drops every address at once, without waiting out the leaderless grace", () => {
    const n = node();
    n.feed(1, { kind: "message", from: 0, msg: { k: "take", run: 1, ips: [{ address: "10.0.0.2", prefix: 24 }], grace: true } });
    n.feed(2, { kind: "event-done", id: 1, status: 0 });
    assert.equal(n.state.hosted.has("10.0.0.2"), true);
    const fx = n.feed(3, { kind: "lost-majority" });
    assert.equal(n.state.hosted.size, 0);
    const drop = fx.find((e) => e.kind === "drop-addresses");
    assert.deepEqual(drop?.kind === "drop-addresses" && drop.addresses.map((a) => a.address), ["10.0.0.2"]);
    assert.ok(fx.some((e) => e.kind === "released" && e.address === "10.0.0.2"));
  });
});
