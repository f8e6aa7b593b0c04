// Table tests of the banning core.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { banTime, banWakeAt, initialBans, stepBans } from "../../src/failover/banning.ts";

const config = { pnn: 0, enableBans: true, banPeriodSec: 300, graceMs: 120_000 };
const kinds = (fx: { kind: string }[]) => fx.filter((e) => e.kind !== "log");

describe("banning", () => {
  test("ban sets BANNED, and the ban is lifted on time", () => {
    const s = initialBans(config, 0);
    assert.deepEqual(kinds(stepBans(s, { kind: "ban", nowMs: 0, seconds: 10, reason: "ctdb ban" }).effects), [{ kind: "banned", on: true }]);
    assert.equal(banTime(s), 10);
    assert.equal(banWakeAt(s), 10_000);
    assert.deepEqual(kinds(stepBans(s, { kind: "tick", nowMs: 9_999 }).effects), []);
    assert.deepEqual(kinds(stepBans(s, { kind: "tick", nowMs: 10_000 }).effects), [{ kind: "banned", on: false }]);
    assert.equal(banTime(s), 0);
  });

  test("unban (0 seconds) lifts a ban at once; a second ban extends without flapping the flag", () => {
    const s = initialBans(config, 0);
    stepBans(s, { kind: "ban", nowMs: 0, seconds: 10, reason: "a" });
    assert.deepEqual(kinds(stepBans(s, { kind: "ban", nowMs: 5_000, seconds: 10, reason: "b" }).effects), []);
    assert.deepEqual(kinds(stepBans(s, { kind: "tick", nowMs: 10_000 }).effects), []);
    assert.deepEqual(kinds(stepBans(s, { kind: "ban", nowMs: 11_000, seconds: 0, reason: "unban" }).effects), [{ kind: "banned", on: false }]);
    assert.deepEqual(kinds(stepBans(s, { kind: "ban", nowMs: 12_000, seconds: 0, reason: "unban" }).effects), []);
  });

  test("a node is banned for RecoveryBanPeriod after 2 x nodes credits", () => {
    const s = initialBans(config, 0);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(kinds(stepBans(s, { kind: "credit", nowMs: i, pnn: 2, reason: "takeip failed", nodeCount: 3 }).effects), []);
    }
    assert.deepEqual(kinds(stepBans(s, { kind: "credit", nowMs: 6, pnn: 2, reason: "takeip failed", nodeCount: 3 }).effects), [
      { kind: "ban-node", pnn: 2, seconds: 300 },
    ]);
    // Credits start again from nothing.
    assert.equal(s.credits.has(2), false);
  });

  test("credits are forgiven after RecoveryGracePeriod without a new one", () => {
    const s = initialBans(config, 0);
    for (let i = 0; i < 5; i++) stepBans(s, { kind: "credit", nowMs: 0, pnn: 1, reason: "x", nodeCount: 3 });
    stepBans(s, { kind: "tick", nowMs: 120_000 });
    assert.deepEqual(kinds(stepBans(s, { kind: "credit", nowMs: 120_001, pnn: 1, reason: "x", nodeCount: 3 }).effects), []);
    assert.equal(s.credits.get(1)?.count, 1);
  });

  test("EnableBans=0 stops automatic bans but not an administrator's", () => {
    const s = initialBans({ ...config, enableBans: false }, 0);
    for (let i = 0; i < 10; i++) assert.deepEqual(kinds(stepBans(s, { kind: "credit", nowMs: i, pnn: 1, reason: "x", nodeCount: 2 }).effects), []);
    assert.deepEqual(kinds(stepBans(s, { kind: "ban", nowMs: 10, seconds: 5, reason: "admin" }).effects), [{ kind: "banned", on: true }]);
  });

  test("an event timeout bans this node for RecoveryBanPeriod", () => {
    const s = initialBans(config, 0);
    assert.deepEqual(kinds(stepBans(s, { kind: "ban-self", nowMs: 0, reason: "takeip timed out" }).effects), [{ kind: "banned", on: true }]);
    assert.equal(banTime(s), 300);
  });
});
