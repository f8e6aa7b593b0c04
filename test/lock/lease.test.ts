import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keepaliveAnswered, keepaliveSent, keepaliveStreamLost, leaseGranted, stepDownAtMs, stepDownMargin } from "../../src/lock/lease.ts";

describe("etcd lease clock", () => {
  it("margin is a fifth of the TTL, within 250 ms .. 2 s", () => {
    const table: [number, number][] = [
      [1000, 250],
      [2000, 400],
      [5000, 1000],
      [9000, 1800],
      [60_000, 2000],
    ];
    for (const [ttl, margin] of table) assert.equal(stepDownMargin(ttl), margin, `ttl ${ttl}`);
  });

  it("a grant lives TTL from when it was requested; step down a margin earlier", () => {
    const c = leaseGranted(10_000, 5);
    assert.equal(c.aliveUntilMs, 15_000);
    assert.equal(stepDownAtMs(c), 14_000);
  });

  it("an answer extends the lease from when its keep-alive was sent, not when the answer came", () => {
    let c = leaseGranted(0, 6);
    c = keepaliveSent(c, 2000);
    c = keepaliveSent(c, 4000);
    const a = keepaliveAnswered(c, 6);
    assert.ok(a !== null);
    assert.equal(a.aliveUntilMs, 8000); // sent at 2000, not the later 4000
    assert.deepEqual(a.unanswered, [4000]);
    const b = keepaliveAnswered(a, 6);
    assert.ok(b !== null);
    assert.equal(b.aliveUntilMs, 10_000);
    assert.equal(stepDownAtMs(b), 10_000 - 1200);
  });

  it("a TTL of 0 in an answer means the lease is gone", () => {
    assert.equal(keepaliveAnswered(keepaliveSent(leaseGranted(0, 5), 1), 0), null);
  });

  it("an answer never shortens the lease, and an unsolicited one proves nothing", () => {
    let c = leaseGranted(10_000, 5);
    c = keepaliveSent(c, 1000); // a keep-alive sent before the grant's time (clock jump)
    const a = keepaliveAnswered(c, 5);
    assert.equal(a?.aliveUntilMs, 15_000);
    assert.deepEqual(keepaliveAnswered(leaseGranted(0, 5), 5), leaseGranted(0, 5));
  });

  it("a broken stream forgets what it had in flight", () => {
    let c = keepaliveSent(keepaliveSent(leaseGranted(0, 5), 100), 200);
    c = keepaliveStreamLost(c);
    assert.deepEqual(c.unanswered, []);
    c = keepaliveSent(c, 3000);
    assert.equal(keepaliveAnswered(c, 5)?.aliveUntilMs, 8000);
  });
});
