import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keepaliveSettings } from "../../src/cluster/detection.ts";
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
