// Takeover runs: the coordinator and the participants, table-driven through
// the in-memory bed. Event scripts finish when each test says so.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NodeFlag, Runstate } from "../../src/protocol/constants.ts";
import { addr, Bed, homes } from "./harness.ts";

const A = "10.0.0.1";
const B = "10.0.0.2";
const C = "10.0.0.3";

function threeNodes(): Bed {
  const list = [addr(A), addr(B), addr(C)];
  // Home nodes: A on 0, B on 1, C on 2 while they may host them.
  return new Bed(0, { 0: list, 1: list, 2: list }, homes({ [A]: 0, [B]: 1, [C]: 2 }));
}

describe("takeover run", () => {
  test("runs the stages in CTDB 4.21's order and hosts each address once", () => {
    const bed = threeNodes();
    bed.start();
    // Gather needs no scripts; the first events are startipreallocate on every node.
    assert.deepEqual(bed.running.map((e) => `${e.pnn}:${e.event}`).sort(), ["0:startipreallocate", "1:startipreallocate", "2:startipreallocate"]);
    bed.finish((e) => e.pnn === 0);
    bed.finish((e) => e.pnn === 1);
    // No take while node 2 has not acknowledged startipreallocate.
    assert.equal(bed.log.filter((e) => e.event === "takeip").length, 0);
    bed.finish((e) => e.pnn === 2);
    assert.deepEqual(bed.running.map((e) => `${e.pnn}:${e.event} ${e.args.join(" ")}`).sort(), [
      "0:takeip eth0 10.0.0.1 24",
      "1:takeip eth0 10.0.0.2 24",
      "2:takeip eth0 10.0.0.3 24",
    ]);
    bed.settle();
    assert.deepEqual(bed.hosted(), { [A]: [0], [B]: [1], [C]: [2] });
    assert.deepEqual(bed.events(1), ["1:startipreallocate", "1:takeip eth0 10.0.0.2 24", "1:ipreallocated"]);
    const record = bed.coordinator.history.at(-1)!;
    assert.equal(record.result, "ok");
    assert.deepEqual(record.startAcks.map((a) => a.pnn).sort(), [0, 1, 2]);
    assert.deepEqual(record.taken.map((t) => `${t.address}@${t.pnn}`).sort(), [`${A}@0`, `${B}@1`, `${C}@2`]);
    // Every node announces what it hosts once the run is done.
    const announced = bed.participantFx.filter((p) => p.fx.kind === "announce").map((p) => p.pnn).sort();
    assert.deepEqual(announced, [0, 1, 2]);
  });

  test("release finishes on every node before any node takes", () => {
    const bed = threeNodes();
    bed.start();
    bed.settle();
    // Node 1 becomes disabled: B moves to node 0 (the lowest that may host it).
    bed.toCoordinator({ kind: "nodes", nowMs: 1, nodes: bed.views({ 1: { flags: NodeFlag.PERMANENTLY_DISABLED } }) });
    bed.toParticipant(1, { kind: "self", nowMs: 1, flags: NodeFlag.PERMANENTLY_DISABLED, runstate: Runstate.RUNNING });
    bed.log = [];
    for (const pnn of [0, 1, 2]) bed.finish((e) => e.pnn === pnn && e.event === "startipreallocate");
    assert.deepEqual(bed.running.map((e) => `${e.pnn}:${e.event} ${e.args.join(" ")}`), ["1:releaseip eth0 10.0.0.2 24"]);
    bed.finish((e) => e.event === "releaseip");
    assert.deepEqual(bed.running.map((e) => `${e.pnn}:${e.event} ${e.args.join(" ")}`), ["0:takeip eth0 10.0.0.2 24"]);
    bed.settle();
    assert.deepEqual(bed.hosted(), { [A]: [0], [B]: [0], [C]: [2] });
    // Every node now tells clients B is on node 0.
    for (const s of bed.participants.values()) assert.equal(s.assignment.get(B), 0);
  });

  test("a run with nothing to move skips startipreallocate but still runs ipreallocated and announces", () => {
    const bed = threeNodes();
    bed.start();
    bed.settle();
    bed.log = [];
    bed.participantFx = [];
    bed.toCoordinator({ kind: "trigger", nowMs: 2, reason: "ipreallocate" });
    bed.settle();
    assert.deepEqual(bed.events().sort(), ["0:ipreallocated", "1:ipreallocated", "2:ipreallocated"]);
    assert.equal(bed.participantFx.filter((p) => p.fx.kind === "announce").length, 3);
    assert.equal(bed.coordinator.history.at(-1)!.grace, false);
  });

  test("a failed startipreallocate fails the run, credits the node and retries after the pause", () => {
    const bed = threeNodes();
    bed.start();
    bed.finish((e) => e.pnn === 0);
    bed.finish((e) => e.pnn === 2, 1);
    assert.deepEqual(
      bed.coordinatorFx.filter((e) => e.kind === "ban-credit").map((e) => e.kind === "ban-credit" && e.pnn),
      [2],
    );
    bed.settle();
    assert.equal(bed.log.filter((e) => e.event === "takeip").length, 0, "no take in a failed run");
    assert.equal(bed.coordinator.history.at(-1)!.result, "failed");
    // Before the retry pause nothing runs; after it the run succeeds.
    bed.now = 500;
    bed.toCoordinator({ kind: "tick", nowMs: 500 });
    assert.equal(bed.coordinator.run, undefined);
    bed.now = 1000;
    bed.toCoordinator({ kind: "tick", nowMs: 1000 });
    bed.settle();
    assert.equal(bed.coordinator.history.at(-1)!.result, "ok");
    assert.deepEqual(bed.hosted(), { [A]: [0], [B]: [1], [C]: [2] });
  });

  test("a lost acknowledgement times the run out after the one deadline and credits the silent node", () => {
    const bed = threeNodes();
    bed.drop = (from, _to, msg) => from === 1 && msg.k === "ack" && msg.stage === "start" && msg.run === 1;
    bed.start();
    bed.settle();
    assert.equal(bed.coordinator.run?.stage, "start");
    bed.now = 26999;
    bed.toCoordinator({ kind: "tick", nowMs: 26999 });
    assert.notEqual(bed.coordinator.run, undefined);
    bed.now = 27000;
    bed.toCoordinator({ kind: "tick", nowMs: 27000 });
    assert.equal(bed.coordinator.history.at(-1)!.result, "failed");
    assert.match(bed.coordinator.history.at(-1)!.error!, /stage start waiting for node\(s\) 1/);
    assert.ok(bed.coordinatorFx.some((e) => e.kind === "ban-credit" && e.pnn === 1));
  });

  test("a node lost mid-run aborts the run and a new one starts from a fresh report", () => {
    const bed = threeNodes();
    bed.start();
    for (const pnn of [0, 1, 2]) bed.finish((e) => e.pnn === pnn);
    // Takes are running; node 2 disappears before it acknowledges.
    bed.finish((e) => e.pnn === 0);
    bed.finish((e) => e.pnn === 1);
    bed.toCoordinator({ kind: "nodes", nowMs: 1, nodes: bed.views({ 2: { connected: false, lastHeardMs: 1 } }) });
    const runs = bed.coordinator.history.map((r) => r.result);
    assert.deepEqual(runs, ["aborted"]);
    // The new run gathers from nodes 0 and 1 only; C waits for node 2's grace.
    assert.deepEqual(bed.coordinator.run?.members, [0, 1]);
    bed.participants.delete(2);
    bed.running = bed.running.filter((e) => e.pnn !== 2);
    bed.settle();
    assert.equal(bed.coordinator.history.at(-1)!.result, "ok");
    assert.deepEqual(bed.hosted(), { [A]: [0], [B]: [1] });
    // After the grace, C goes to a survivor.
    bed.now = 10001;
    bed.toCoordinator({ kind: "tick", nowMs: 10001 });
    bed.settle();
    assert.deepEqual(bed.hosted(), { [A]: [0], [B]: [1], [C]: [0] });
  });

  test("an address a disconnected node may still host is not handed out before its grace", () => {
    const list = [addr(A)];
    const bed = new Bed(0, { 0: list, 1: list });
    bed.toCoordinator({
      kind: "nodes",
      nowMs: 0,
      nodes: [
        { pnn: 0, connected: true, flags: 0, runstate: Runstate.RUNNING, lastHeardMs: 0 },
        { pnn: 1, connected: false, flags: NodeFlag.DISCONNECTED, runstate: Runstate.RUNNING, lastHeardMs: 0 },
      ],
    });
    bed.toCoordinator({ kind: "leader", nowMs: 0, leading: true });
    bed.settle();
    assert.deepEqual(bed.hosted(), {});
    bed.now = 9999;
    bed.toCoordinator({ kind: "tick", nowMs: 9999 });
    bed.settle();
    assert.deepEqual(bed.hosted(), {});
    bed.now = 10000;
    bed.toCoordinator({ kind: "tick", nowMs: 10000 });
    bed.settle();
    assert.deepEqual(bed.hosted(), { [A]: [0] });
  });

  test("a node confirmed gone frees its addresses at once", () => {
    const list = [addr(A)];
    const bed = new Bed(0, { 0: list, 1: list });
    bed.toCoordinator({
      kind: "nodes",
      nowMs: 0,
      nodes: [
        { pnn: 0, connected: true, flags: 0, runstate: Runstate.RUNNING, lastHeardMs: 0 },
        { pnn: 1, connected: false, flags: NodeFlag.DISCONNECTED, runstate: Runstate.RUNNING, lastHeardMs: 0 },
      ],
    });
    bed.toCoordinator({ kind: "leader", nowMs: 0, leading: true });
    bed.settle();
    bed.toCoordinator({ kind: "holder-gone", nowMs: 0, pnn: 1 });
    bed.settle();
    assert.deepEqual(bed.hosted(), { [A]: [0] });
  });

  test("a trigger during a run waits for it, then runs again and answers its asker", () => {
    const bed = threeNodes();
    bed.start();
    bed.toCoordinator({ kind: "trigger", nowMs: 0, reason: "ipreallocate", replyTo: { pnn: 1, srvid: 42n } });
    assert.equal(bed.coordinator.run?.id, 1);
    bed.settle();
    const replies = bed.coordinatorFx.filter((e) => e.kind === "reply");
    assert.deepEqual(replies, [{ kind: "reply", replyTo: { pnn: 1, srvid: 42n }, result: 0 }]);
    assert.deepEqual(bed.coordinator.history.map((r) => r.run), [1, 2]);
  });

  test("runs wait while takeover runs are disabled and while a recovery is active", () => {
    const bed = threeNodes();
    bed.toCoordinator({ kind: "disable-runs", nowMs: 0, untilMs: 5000 });
    bed.start();
    assert.equal(bed.coordinator.run, undefined);
    bed.now = 5000;
    bed.toCoordinator({ kind: "recovery", nowMs: 5000, active: true });
    assert.equal(bed.coordinator.run, undefined);
    bed.toCoordinator({ kind: "recovery", nowMs: 5000, active: false });
    const run = (b: Bed) => b.coordinator.run;
    // Gathering needs no scripts: the run is at once waiting for startipreallocate.
    assert.equal(run(bed)?.stage, "start");
  });

  test("a follower starts no runs and answers nothing", () => {
    const bed = threeNodes();
    bed.toCoordinator({ kind: "nodes", nowMs: 0, nodes: bed.views() });
    bed.toCoordinator({ kind: "trigger", nowMs: 0, reason: "ipreallocate", replyTo: { pnn: 1, srvid: 1n } });
    assert.equal(bed.coordinator.run, undefined);
    assert.deepEqual(bed.coordinatorFx, []);
  });

  test("an interface going down moves the address to the other interface with updateip", () => {
    const list = [addr(A, ["eth0", "eth1"])];
    const bed = new Bed(0, { 0: list });
    bed.start();
    bed.settle();
    assert.deepEqual(bed.events(), ["0:startipreallocate", "0:takeip eth0 10.0.0.1 24", "0:ipreallocated"]);
    bed.log = [];
    bed.toParticipant(0, { kind: "link", nowMs: 1, iface: "eth0", up: false, token: 1 });
    bed.settle();
    assert.deepEqual(bed.events(), ["0:updateip eth0 eth1 10.0.0.1 24", "0:ipreallocated"]);
    assert.equal(bed.participants.get(0)!.hosted.get(A)?.iface, "eth1");
  });

  test("moveip runs through the leader with startipreallocate on every node", () => {
    const bed = threeNodes();
    bed.start();
    bed.settle();
    bed.log = [];
    // `ctdb moveip 10.0.0.1 2`: RELEASE_IP with the new holder to node 0.
    bed.toParticipant(0, { kind: "client-release", nowMs: 1, address: A, pnn: 2, token: 7 });
    bed.settle();
    assert.deepEqual(bed.events().slice(0, 3).sort(), ["0:startipreallocate", "1:startipreallocate", "2:startipreallocate"]);
    assert.deepEqual(bed.events().slice(3, 5), ["0:releaseip eth0 10.0.0.1 24", "2:takeip eth0 10.0.0.1 24"]);
    assert.deepEqual(bed.hosted(), { [A]: [2], [B]: [1], [C]: [2] });
    assert.ok(bed.participantFx.some((p) => p.pnn === 0 && p.fx.kind === "client-reply" && p.fx.token === 7 && p.fx.status === 0));
  });

  test("moveip to a disabled node is refused and the address stays", () => {
    const bed = threeNodes();
    bed.start();
    bed.settle();
    bed.toCoordinator({ kind: "nodes", nowMs: 1, nodes: bed.views({ 2: { flags: NodeFlag.PERMANENTLY_DISABLED } }) });
    bed.settle();
    const before = bed.hosted();
    assert.ok(!Object.values(before).some((on) => on.includes(2)), "a disabled node hosts nothing");
    bed.toParticipant(0, { kind: "client-release", nowMs: 2, address: A, pnn: 2, token: 8 });
    bed.settle();
    assert.deepEqual(bed.hosted(), before);
    assert.ok(bed.participantFx.some((p) => p.pnn === 0 && p.fx.kind === "client-reply" && p.fx.token === 8 && p.fx.status !== 0));
  });
});

describe("takeover run retries", () => {
  test("the pause after a failed run doubles with each failure in a row, up to 8 times, and resets on success", () => {
    const bed = new Bed(0, { 0: [addr(A)] });
    bed.start();
    const failAt = (t: number) => {
      bed.now = t;
      bed.toCoordinator({ kind: "tick", nowMs: t });
      bed.finish((e) => e.event === "startipreallocate" || e.event === "ipreallocated", 1);
    };
    bed.finish((e) => e.event === "startipreallocate", 1);
    const pauses: number[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      pauses.push(bed.coordinator.notBeforeMs - t);
      t = bed.coordinator.notBeforeMs;
      failAt(t);
    }
    assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 8000]);
    bed.now = bed.coordinator.notBeforeMs;
    bed.toCoordinator({ kind: "tick", nowMs: bed.now });
    bed.settle();
    assert.equal(bed.coordinator.history.at(-1)!.result, "ok");
    assert.equal(bed.coordinator.failures, 0);
  });
});
