import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { failoverGraces, keepaliveSettings } from "../../src/cluster/detection.ts";
import { defaultTunables } from "../../src/config/tunables.ts";

describe("keepalive settings in force", () => {
  const tunables = defaultTunables();
  test("Tandem's peer timeout by default: a keepalive every fifth of it, gone after five missed", () => {
    assert.deepEqual(keepaliveSettings({ peerTimeoutMs: 1500, tunables, explicit: new Set() }), {
      keepaliveIntervalMs: 300,
      keepaliveLimit: 5,
      source: "tandem.conf",
    });
    assert.equal(keepaliveSettings({ peerTimeoutMs: 4000, tunables, explicit: new Set(["MonitorInterval"]) }).keepaliveIntervalMs, 800);
  });

  test("CTDB's keepalive tunables, when either is set explicitly, exactly as CTDB applies them", () => {
    assert.deepEqual(
      keepaliveSettings({ peerTimeoutMs: 1500, tunables: { ...tunables, KeepaliveInterval: 2 }, explicit: new Set(["KeepaliveInterval"]) }),
      { keepaliveIntervalMs: 2000, keepaliveLimit: 5, source: "tunables" },
    );
    // Set to CTDB's own defaults still means CTDB's 25 s.
    assert.deepEqual(keepaliveSettings({ peerTimeoutMs: 1500, tunables, explicit: new Set(["KeepaliveLimit"]) }), {
      keepaliveIntervalMs: 5000,
      keepaliveLimit: 5,
      source: "tunables",
    });
  });
});

describe("the lease across a cut", () => {
  test("at Tandem's defaults a silent node's addresses may move 2.6 s after it was last heard", () => {
    assert.deepEqual(failoverGraces({ keepaliveIntervalMs: 300, keepaliveLimit: 5 }), {
      leaderlessGraceMs: 600,
      holderGraceMs: 2600,
      closedGraceMs: 800,
      watchdogLeaseMs: 1500,
    });
  });
  test("the holder's lease outlasts the cut-off node's own detection and its leaderless grace", () => {
    for (const [interval, limit] of [[300, 5], [1000, 2], [5000, 5]] as const) {
      const g = failoverGraces({ keepaliveIntervalMs: interval, keepaliveLimit: limit });
      // The cut-off node notices up to one interval after the others, then waits its grace.
      assert.ok(g.holderGraceMs > interval * limit + interval + g.leaderlessGraceMs, `${interval} x ${limit}`);
      // A node whose connection closed saw it close: it is gone once its leaderless grace has passed.
      assert.ok(g.closedGraceMs > g.leaderlessGraceMs, `closed ${interval} x ${limit}`);
      // A stopped node's watchdog takes its addresses off (lease, renewal period, check) before the others take them.
      assert.ok(g.watchdogLeaseMs + 500 < g.holderGraceMs, `watchdog lease ${interval} x ${limit}`);
    }
  });
});
