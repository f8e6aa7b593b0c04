// Table tests of the lifecycle core: inputs in, state and effects out.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Runstate } from "../../src/cluster/types.ts";
import { ECANCELED, ETIMEDOUT } from "../../src/event/errno.ts";
import {
  DEFAULT_LIFECYCLE_CONFIG,
  initialLifecycle,
  type LifecycleConfig,
  type LifecycleEffect,
  type LifecycleInput,
  type LifecycleState,
  stepLifecycle,
} from "../../src/lifecycle/core.ts";

type InputNoTime = LifecycleInput extends infer I ? (I extends LifecycleInput ? Omit<I, "nowMs"> : never) : never;
type Run = LifecycleEffect & { kind: "run-event" };

function node(over: Partial<LifecycleConfig> = {}) {
  const state: LifecycleState = initialLifecycle({ ...DEFAULT_LIFECYCLE_CONFIG, ...over }, 0);
  return {
    state,
    feed(at: number, input: InputNoTime): LifecycleEffect[] {
      return stepLifecycle(state, { ...input, nowMs: at } as LifecycleInput).effects;
    },
  };
}

const runs = (fx: LifecycleEffect[]) => fx.filter((e): e is Run => e.kind === "run-event");
const events = (fx: LifecycleEffect[]) => runs(fx).map((e) => e.event);
const only = (fx: LifecycleEffect[], kind: LifecycleEffect["kind"]) => fx.filter((e) => e.kind === kind);
const runstates = (fx: LifecycleEffect[]) => fx.flatMap((e) => (e.kind === "set-runstate" ? [e.runstate] : []));

function one(fx: LifecycleEffect[], event: string): Run {
  const r = runs(fx);
  assert.deepEqual(
    r.map((e) => e.event),
    [event],
    `expected only ${event} to start`,
  );
  return r[0] as Run;
}

/** Walks a node to RUNNING (the cluster in normal mode); returns it and the first monitor. */
function running(over: Partial<LifecycleConfig> = {}) {
  const n = node(over);
  const init = one(n.feed(0, { kind: "start" }), "init");
  n.feed(1, { kind: "event-done", id: init.id, result: 0 });
  const setup = one(n.feed(2, { kind: "joined" }), "setup");
  n.feed(3, { kind: "event-done", id: setup.id, result: 0 });
  n.feed(4, { kind: "cluster", recoveryActive: false, inactive: false });
  const startup = one(n.feed(5, { kind: "first-recovery-done" }), "startup");
  const monitor = one(n.feed(6, { kind: "event-done", id: startup.id, result: 0 }), "monitor");
  return { n, monitor };
}

describe("the runstate walk", () => {
  test("INIT, init, join, SETUP, setup, FIRST_RECOVERY, STARTUP, startup, RUNNING, then a monitor at once", () => {
    const n = node();
    let fx = n.feed(0, { kind: "start" });
    assert.deepEqual(runstates(fx), [Runstate.INIT]);
    const init = one(fx, "init");
    assert.equal(init.timeoutSec, 30);
    fx = n.feed(10, { kind: "event-done", id: init.id, result: 0 });
    assert.deepEqual(
      fx.filter((e) => e.kind !== "log" && e.kind !== "wake-at"),
      [{ kind: "notify", event: "init" }, { kind: "join-cluster" }],
    );
    assert.equal(n.state.runstate, Runstate.INIT, "SETUP only once the node has joined");
    fx = n.feed(20, { kind: "joined" });
    assert.deepEqual(runstates(fx), [Runstate.SETUP]);
    const setup = one(fx, "setup");
    fx = n.feed(30, { kind: "event-done", id: setup.id, result: 0 });
    assert.deepEqual(runstates(fx), [Runstate.FIRST_RECOVERY]);
    assert.deepEqual(events(fx), []);
    n.feed(35, { kind: "cluster", recoveryActive: false, inactive: false });
    fx = n.feed(40, { kind: "first-recovery-done" });
    assert.deepEqual(runstates(fx), [Runstate.STARTUP]);
    const startup = one(fx, "startup");
    fx = n.feed(50, { kind: "event-done", id: startup.id, result: 0 });
    assert.deepEqual(runstates(fx), [Runstate.RUNNING]);
    assert.deepEqual(events(fx), ["monitor"]);
    assert.ok(only(fx, "notify").some((e) => e.kind === "notify" && e.event === "startup"));
  });

  test("a failing init event ends the daemon with code 1 after the shutdown event, naming why", () => {
    const n = node();
    const init = one(n.feed(0, { kind: "start" }), "init");
    const fx = n.feed(1, { kind: "event-done", id: init.id, result: 1 });
    assert.deepEqual(runstates(fx), [Runstate.SHUTDOWN]);
    assert.ok(!fx.some((e) => e.kind === "join-cluster"));
    const shutdown = one(fx, "shutdown");
    assert.deepEqual(only(n.feed(2, { kind: "event-done", id: shutdown.id, result: 0 }), "exit"), [
      { kind: "exit", code: 1, reason: "init event failed (1)" },
    ]);
  });

  test("a failing setup event ends the daemon too", () => {
    const n = node();
    n.feed(0, { kind: "start" });
    n.feed(1, { kind: "event-done", id: 1, result: 0 });
    const setup = one(n.feed(2, { kind: "joined" }), "setup");
    const shutdown = one(n.feed(3, { kind: "event-done", id: setup.id, result: 2 }), "shutdown");
    assert.deepEqual(only(n.feed(4, { kind: "event-done", id: shutdown.id, result: 0 }), "exit"), [
      { kind: "exit", code: 1, reason: "setup event failed (2)" },
    ]);
  });

  test("a failing startup event holds the node in STARTUP and is retried every 5 s until it succeeds", () => {
    const n = node();
    n.feed(0, { kind: "start" });
    n.feed(1, { kind: "event-done", id: 1, result: 0 });
    n.feed(2, { kind: "joined" });
    n.feed(3, { kind: "event-done", id: 2, result: 0 });
    n.feed(3, { kind: "cluster", recoveryActive: false, inactive: false });
    const startup = one(n.feed(4, { kind: "first-recovery-done" }), "startup");
    let fx = n.feed(100, { kind: "event-done", id: startup.id, result: 1 });
    assert.deepEqual(runstates(fx), []);
    assert.deepEqual(only(fx, "wake-at"), [{ kind: "wake-at", atMs: 5100 }]);
    assert.deepEqual(events(n.feed(5099, { kind: "tick" })), [], "not before 5 s");
    const again = one(n.feed(5100, { kind: "tick" }), "startup");
    fx = n.feed(5200, { kind: "event-done", id: again.id, result: 0 });
    assert.deepEqual(runstates(fx), [Runstate.RUNNING]);
  });

  test("a recovery before FIRST_RECOVERY runs no events", () => {
    const n = node();
    n.feed(0, { kind: "start" });
    n.feed(1, { kind: "event-done", id: 1, result: 0 });
    n.feed(2, { kind: "joined" });
    assert.deepEqual(events(n.feed(3, { kind: "recovered", generation: 7 })), []);
    assert.deepEqual(events(n.feed(4, { kind: "event-done", id: 2, result: 0 })), []);
  });
});

describe("the chain after a recovery", () => {
  test("startrecovery, recovered, ipreallocated, one at a time; recoveries meanwhile fold into one more chain", () => {
    const { n } = running();
    const seen: string[] = [];
    let fx = n.feed(100, { kind: "recovered", generation: 5 });
    let t = 100;
    for (let i = 0; i < 6; i++) {
      const r = runs(fx).filter((e) => e.event !== "monitor");
      assert.ok(r.length <= 1, `at most one lane event starts at a time: ${r.map((e) => e.event)}`);
      const next = r[0];
      if (next === undefined) break;
      seen.push(next.event);
      if (i === 0) {
        // Two more recoveries while the first chain runs.
        n.feed(++t, { kind: "recovered", generation: 6 });
        n.feed(++t, { kind: "recovered", generation: 7 });
      }
      fx = n.feed(++t, { kind: "event-done", id: next.id, result: 0 });
    }
    assert.deepEqual(seen, ["startrecovery", "recovered", "ipreallocated", "startrecovery", "recovered", "ipreallocated"]);
    assert.deepEqual(
      events(fx).filter((e) => e !== "monitor"),
      [],
    );
  });

  test("a hung startrecovery counts as done and the chain goes on", () => {
    const { n } = running();
    const sr = one(n.feed(100, { kind: "recovered", generation: 5 }), "startrecovery");
    const fx = n.feed(200, { kind: "event-done", id: sr.id, result: ETIMEDOUT });
    assert.deepEqual(events(fx), ["recovered"]);
    assert.ok(!fx.some((e) => e.kind === "log" && e.level === "error"));
  });

  test("database seam: between startrecovery and recovered the lane waits for the databases of that generation", () => {
    const { n } = running({ recoverDatabases: true });
    const sr = one(n.feed(100, { kind: "recovered", generation: 5 }), "startrecovery");
    let fx = n.feed(110, { kind: "event-done", id: sr.id, result: 0 });
    assert.deepEqual(only(fx, "recover-databases"), [{ kind: "recover-databases", generation: 5 }]);
    assert.deepEqual(events(fx), []);
    fx = n.feed(115, { kind: "request-event", ref: 1, event: "takeip", args: ["eth0", "10.0.0.1", "24"] });
    assert.deepEqual(events(fx), [], "no event runs while databases recover");
    assert.deepEqual(events(n.feed(120, { kind: "databases-recovered", generation: 4 })), [], "another generation's answer");
    one(n.feed(130, { kind: "databases-recovered", generation: 5 }), "recovered");
  });

  test("failover seam: recovery-finished after recovered, and a requested event runs in the lane and is answered", () => {
    const { n } = running({ ipreallocatedAfterRecovery: false });
    const sr = one(n.feed(100, { kind: "recovered", generation: 5 }), "startrecovery");
    assert.deepEqual(events(n.feed(101, { kind: "request-event", ref: 9, event: "releaseip", args: ["eth0", "10.0.0.1", "24"] })), []);
    const rec = one(n.feed(110, { kind: "event-done", id: sr.id, result: 0 }), "recovered");
    let fx = n.feed(120, { kind: "event-done", id: rec.id, result: 0 });
    assert.deepEqual(only(fx, "recovery-finished"), [{ kind: "recovery-finished", generation: 5 }]);
    const rel = one(fx, "releaseip");
    assert.deepEqual(rel.args, ["eth0", "10.0.0.1", "24"]);
    fx = n.feed(130, { kind: "event-done", id: rel.id, result: 1 });
    assert.deepEqual(only(fx, "event-finished"), [{ kind: "event-finished", ref: 9, event: "releaseip", result: 1 }]);
    assert.deepEqual(events(fx), [], "no ipreallocated of its own");
  });

  test("in recovery mode an event other than the allowed ones is refused without running", () => {
    const { n } = running();
    n.feed(100, { kind: "cluster", recoveryActive: true, inactive: false });
    const fx = n.feed(101, { kind: "request-event", ref: 3, event: "takeip", args: ["eth0", "10.0.0.1", "24"] });
    assert.deepEqual(events(fx), []);
    assert.deepEqual(only(fx, "event-finished"), [{ kind: "event-finished", ref: 3, event: "takeip", result: -1 }]);
    const allowed = n.feed(102, { kind: "request-event", ref: 4, event: "releaseip", args: ["eth0", "10.0.0.1", "24"] });
    assert.deepEqual(events(allowed), ["releaseip"]);
  });
});

describe("the monitor loop", () => {
  test("results turn into health changes, notifications and the next monitor's time", () => {
    const { n, monitor } = running({ monitor: { monitorIntervalSec: 15, monitorTimeoutCount: 3 } });
    let fx = n.feed(100, { kind: "event-done", id: monitor.id, result: 0 });
    assert.deepEqual(only(fx, "set-health"), [{ kind: "set-health", healthy: true }]);
    assert.deepEqual(only(fx, "notify"), [{ kind: "notify", event: "healthy" }]);
    assert.deepEqual(only(fx, "wake-at"), [{ kind: "wake-at", atMs: 5100 }]);
    const m2 = one(n.feed(5100, { kind: "tick" }), "monitor");
    fx = n.feed(5200, { kind: "event-done", id: m2.id, result: 1 });
    assert.deepEqual(only(fx, "set-health"), [{ kind: "set-health", healthy: false }]);
    assert.deepEqual(only(fx, "notify"), [{ kind: "notify", event: "unhealthy" }]);
  });

  test("a cancelled monitor changes nothing and is retried after 0.5 s", () => {
    const { n, monitor } = running();
    const fx = n.feed(100, { kind: "event-done", id: monitor.id, result: ECANCELED });
    assert.deepEqual(only(fx, "set-health"), []);
    assert.deepEqual(only(fx, "wake-at"), [{ kind: "wake-at", atMs: 600 }]);
  });

  test("no monitor while in recovery or inactive; it is tried again after the interval", () => {
    const { n, monitor } = running();
    n.feed(100, { kind: "event-done", id: monitor.id, result: 0 });
    n.feed(200, { kind: "cluster", recoveryActive: false, inactive: true });
    assert.deepEqual(events(n.feed(5100, { kind: "tick" })), []);
    n.feed(5200, { kind: "cluster", recoveryActive: true, inactive: false });
    assert.deepEqual(events(n.feed(10_100, { kind: "tick" })), []);
    n.feed(10_200, { kind: "cluster", recoveryActive: false, inactive: false });
    assert.deepEqual(events(n.feed(15_100, { kind: "tick" })), ["monitor"]);
  });

  test("the monitor runs beside the lane: a recovery chain does not wait for it", () => {
    const { n } = running();
    assert.deepEqual(events(n.feed(10, { kind: "recovered", generation: 3 })), ["startrecovery"]);
  });

  test("tunables changed at run time apply to the next event and monitor", () => {
    const { n, monitor } = running();
    n.feed(10, { kind: "tunables", eventTimeoutSec: 7, monitor: { monitorIntervalSec: 1, monitorTimeoutCount: 20 } });
    n.feed(100, { kind: "event-done", id: monitor.id, result: 0 });
    const m2 = one(n.feed(5100, { kind: "tick" }), "monitor");
    assert.equal(m2.timeoutSec, 7);
    assert.deepEqual(only(n.feed(5200, { kind: "event-done", id: m2.id, result: 0 }), "wake-at"), [{ kind: "wake-at", atMs: 6200 }]);
  });
});

describe("shutdown", () => {
  test("SHUTDOWN at once; the event in flight ends, queued work is dropped, then the shutdown event and exit", () => {
    const { n } = running();
    const sr = one(n.feed(100, { kind: "recovered", generation: 5 }), "startrecovery");
    n.feed(101, { kind: "request-event", ref: 2, event: "takeip", args: ["eth0", "10.0.0.1", "24"] });
    n.feed(102, { kind: "recovered", generation: 6 });
    let fx = n.feed(110, { kind: "shutdown", code: 0 });
    assert.deepEqual(runstates(fx), [Runstate.SHUTDOWN]);
    assert.deepEqual(events(fx), [], "waits for startrecovery");
    assert.deepEqual(only(fx, "event-finished"), [{ kind: "event-finished", ref: 2, event: "takeip", result: -ECANCELED }]);
    fx = n.feed(120, { kind: "event-done", id: sr.id, result: 0 });
    const sd = one(fx, "shutdown");
    assert.deepEqual(only(n.feed(130, { kind: "shutdown", code: 3 }), "exit"), [], "a second request changes nothing");
    fx = n.feed(140, { kind: "event-done", id: sd.id, result: 0 });
    assert.deepEqual(only(fx, "exit"), [{ kind: "exit", code: 0 }]);
    assert.deepEqual(only(fx, "wake-at"), [], "nothing scheduled after exit");
    assert.deepEqual(n.feed(150, { kind: "recovered", generation: 7 }), []);
  });

  test("no monitor is started once shutting down, and a late monitor result changes no health", () => {
    const { n, monitor } = running();
    const fx = n.feed(10, { kind: "shutdown", code: 0 });
    assert.deepEqual(events(fx), ["shutdown"]);
    assert.deepEqual(only(n.feed(20, { kind: "event-done", id: monitor.id, result: 0 }), "set-health"), []);
  });

  test("a shutdown with a reason is a failed start-up: code 1, and the reason at exit", () => {
    const n = node();
    const init = one(n.feed(0, { kind: "start" }), "init");
    n.feed(1, { kind: "event-done", id: init.id, result: 0 });
    const sd = one(n.feed(2, { kind: "shutdown", code: 1, reason: "cannot listen" }), "shutdown");
    assert.deepEqual(only(n.feed(3, { kind: "event-done", id: sd.id, result: 0 }), "exit"), [
      { kind: "exit", code: 1, reason: "cannot listen" },
    ]);
    assert.deepEqual(events(n.feed(4, { kind: "joined" })), []);
  });
});
