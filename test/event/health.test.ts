import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ECANCELED, ENOEXEC, ETIMEDOUT } from "../../src/event/errno.ts";
import {
  DEFAULT_MONITOR_TUNABLES,
  type MonitorState,
  effectiveResult,
  eventAllowed,
  eventArgsValid,
  initialMonitorState,
  monitorAfterStartup,
  monitorMayRun,
  monitorResult,
  timeoutIsSuccess,
} from "../../src/event/health.ts";

const tun = { monitorIntervalSec: 15, monitorTimeoutCount: 3 };

function feed(results: number[], start: MonitorState = initialMonitorState()) {
  let s = start;
  const transitions: (string | null)[] = [];
  const delays: number[] = [];
  for (const r of results) {
    const v = monitorResult(s, r, tun);
    s = v.state;
    transitions.push(v.transition);
    delays.push(v.delaySec);
  }
  return { s, transitions, delays };
}

describe("health: monitor verdicts (ctdb_monitor.c)", () => {
  it("the node starts unhealthy; first success makes it healthy", () => {
    const { s, transitions } = feed([0]);
    assert.equal(s.unhealthy, false);
    assert.deepEqual(transitions, ["healthy"]);
  });

  it("a failure makes a healthy node unhealthy at once; no repeated transitions", () => {
    const { s, transitions } = feed([0, ENOEXEC, ENOEXEC, 0]);
    assert.deepEqual(transitions, ["healthy", "unhealthy", null, "healthy"]);
    assert.equal(s.unhealthy, false);
  });

  it("timeouts count; unhealthy only at MonitorTimeoutCount consecutive ones", () => {
    const { s, transitions } = feed([0, ETIMEDOUT, ETIMEDOUT, ETIMEDOUT, ETIMEDOUT]);
    assert.deepEqual(transitions, ["healthy", null, null, "unhealthy", null]);
    assert.equal(s.timeouts, 4, "keeps counting past the limit");
    assert.equal(s.unhealthy, true);
  });

  it("any completed non-timeout result resets the count", () => {
    const { s, transitions } = feed([0, ETIMEDOUT, ETIMEDOUT, 0, ETIMEDOUT, ETIMEDOUT]);
    assert.deepEqual(transitions, ["healthy", null, null, null, null, null]);
    assert.equal(s.timeouts, 2);
    const f = feed([0, ETIMEDOUT, ETIMEDOUT, ENOEXEC, ETIMEDOUT, ETIMEDOUT]);
    assert.equal(f.s.timeouts, 2);
  });

  it("cancelled monitors change nothing and do not reset the timeout count", () => {
    const { s, transitions } = feed([0, ETIMEDOUT, ECANCELED, ETIMEDOUT, ECANCELED, ETIMEDOUT]);
    assert.deepEqual(transitions, ["healthy", null, null, null, null, "unhealthy"]);
    assert.equal(s.unhealthy, true);
    const c = feed([ECANCELED]);
    assert.equal(c.s.unhealthy, true);
    assert.deepEqual(c.transitions, [null]);
  });

  it("a cancelled monitor is retried after 0.5 s without growing the interval", () => {
    const { delays } = feed([0, 0, ECANCELED, 0], { ...initialMonitorState(), unhealthy: false, nextIntervalSec: 2 });
    assert.deepEqual(delays, [2, 4, 0.5, 8]);
  });

  it("interval: first monitor at once after startup (CTDB: 2 s), then 2 s doubling up to MonitorInterval, 5 s after a change", () => {
    const st = monitorAfterStartup(initialMonitorState());
    assert.equal(st.delaySec, 0);
    const { delays } = feed([0, 0, 0, 0, 0, ENOEXEC, ENOEXEC], { ...st.state, unhealthy: false });
    assert.deepEqual(delays, [2, 4, 8, 15, 15, 5, 10]);
  });

  it("default tunables are CTDB's", () => {
    assert.deepEqual(DEFAULT_MONITOR_TUNABLES, { monitorIntervalSec: 15, monitorTimeoutCount: 20 });
  });
});

describe("health: which events run when (eventscript.c)", () => {
  const all = ["init", "setup", "startup", "startrecovery", "recovered", "takeip", "releaseip", "updateip", "ipreallocated", "monitor", "shutdown"];
  it("normal recovery mode allows everything", () => {
    for (const e of all) assert.equal(eventAllowed(e, { recoveryMode: "normal", runstate: "RUNNING" }), true, e);
  });
  it("during recovery only init/setup/startrecovery/shutdown/releaseip/ipreallocated", () => {
    const allowed = all.filter((e) => eventAllowed(e, { recoveryMode: "active", runstate: "RUNNING" }));
    assert.deepEqual(allowed, ["init", "setup", "startrecovery", "releaseip", "ipreallocated", "shutdown"]);
  });
  it("timeouts of startrecovery/recovered/takeip/releaseip count as success", () => {
    assert.deepEqual(all.filter(timeoutIsSuccess), ["startrecovery", "recovered", "takeip", "releaseip"]);
    assert.equal(effectiveResult("takeip", ETIMEDOUT), 0);
    assert.equal(effectiveResult("monitor", ETIMEDOUT), ETIMEDOUT);
    assert.equal(effectiveResult("takeip", ENOEXEC), ENOEXEC);
  });
  it("argument counts (check_options)", () => {
    assert.equal(eventArgsValid("takeip", ["eth0", "10.0.0.1", "24"]), true);
    assert.equal(eventArgsValid("takeip", ["eth0", "10.0.0.1"]), false);
    assert.equal(eventArgsValid("updateip", ["eth0", "eth1", "10.0.0.1", "24"]), true);
    assert.equal(eventArgsValid("monitor", []), true);
    assert.equal(eventArgsValid("monitor", ["x"]), false);
    assert.equal(eventArgsValid("status", []), false);
  });
  it("monitor runs only when RUNNING, normal, active and not frozen", () => {
    const ok = { recoveryMode: "normal" as const, runstate: "RUNNING" as const, inactive: false, allFrozen: false };
    assert.equal(monitorMayRun(ok), true);
    assert.equal(monitorMayRun({ ...ok, recoveryMode: "active" }), false);
    assert.equal(monitorMayRun({ ...ok, runstate: "STARTUP" }), false);
    assert.equal(monitorMayRun({ ...ok, inactive: true }), false);
    assert.equal(monitorMayRun({ ...ok, allFrozen: true }), false);
  });
});
