// Table tests of the volatile record migration core.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lmasterOf } from "../../src/database/hash.ts";
import {
  type Copy,
  initialMigrationState,
  MAX_HOPS,
  type MigrationEffect,
  type MigrationInput,
  type MigrationState,
  stepMigration,
} from "../../src/database/migration.ts";
import { CallFlag, FETCH_FUNC, FETCH_WITH_HEADER_FUNC, NULL_FUNC } from "../../src/protocol/constants.ts";

const VNNMAP = [0, 1, 2];
const GEN = 77;
const DB = 0x1234;
const MIGRATE = CallFlag.IMMEDIATE_MIGRATION;

/** A key whose lmaster is `pnn` in VNNMAP. */
function keyOn(pnn: number): Buffer {
  for (let i = 0; ; i++) {
    const k = Buffer.from(`key-${i}`);
    if (lmasterOf(k, VNNMAP) === pnn) return k;
  }
}

function copy(rsn: bigint, dmaster: number, value = "v", flags = 0): Copy {
  return { header: { rsn, dmaster, reserved1: 0, flags }, value: Buffer.from(value) };
}

function node(pnn: number): MigrationState {
  return initialMigrationState(pnn, GEN, VNNMAP);
}

const packet = (from: number, p: Extract<MigrationInput, { kind: "packet" }>["packet"], local: Copy | null, generation = GEN): MigrationInput => ({
  kind: "packet",
  from,
  generation,
  packet: p,
  local,
});

const noLogs = (fx: MigrationEffect[]) => fx.filter((e) => e.kind !== "log" && e.kind !== "hop");

describe("migration core", () => {
  const key = keyOn(1); // lmaster is node 1

  it("a client on the dmaster is answered at once, nothing sent", () => {
    const s = node(0);
    const fx = stepMigration(s, { kind: "client-call", callId: 9, dbId: DB, key, flags: MIGRATE, func: FETCH_FUNC, local: copy(5n, 0, "here") });
    assert.deepEqual(noLogs(fx), [{ kind: "reply-client", callId: 9, status: 0, data: Buffer.from("here") }]);
    assert.equal(s.waiting.size, 0);
  });

  it("a client elsewhere asks the lmaster and waits", () => {
    const s = node(0);
    const fx = stepMigration(s, { kind: "client-call", callId: 9, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, local: copy(3n, 2) });
    assert.deepEqual(noLogs(fx), [
      { kind: "send", to: 1, generation: GEN, packet: { op: "req-call", origin: 0, reqid: 1, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 1 } },
    ]);
    assert.equal(s.waiting.size, 1);
  });

  it("the lmaster creates a key it has never seen, for the caller", () => {
    const s = node(1);
    const fx = stepMigration(s, packet(0, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 1 }, null));
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 0n, dmaster: 0, reserved1: 0, flags: 0 }, value: Buffer.alloc(0) },
      { kind: "send", to: 0, generation: GEN, packet: { op: "reply-dmaster", reqid: 4, dbId: DB, key, rsn: 0n, data: Buffer.alloc(0) } },
    ]);
  });

  it("a client on the lmaster creates a new key locally", () => {
    const s = node(1);
    const fx = stepMigration(s, { kind: "client-call", callId: 2, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, local: null });
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 1n, dmaster: 1, reserved1: 0, flags: 0 }, value: Buffer.alloc(0) },
      { kind: "reply-client", callId: 2, status: 0, data: Buffer.alloc(0) },
    ]);
  });

  it("the caller stores the record one RSN above the one sent, and answers its client", () => {
    const s = node(0);
    stepMigration(s, { kind: "client-call", callId: 9, dbId: DB, key, flags: MIGRATE, func: FETCH_FUNC, local: null });
    const fx = stepMigration(s, packet(1, { op: "reply-dmaster", reqid: 1, dbId: DB, key, rsn: 6n, data: Buffer.from("d") }, copy(2n, 2)));
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 7n, dmaster: 0, reserved1: 0, flags: 0x10000 }, value: Buffer.from("d") },
      { kind: "reply-client", callId: 9, status: 0, data: Buffer.from("d") },
    ]);
    assert.equal(s.waiting.size, 0);
  });

  it("a new copy outranks a stale local copy with a higher RSN", () => {
    const s = node(0);
    const fx = stepMigration(s, packet(1, { op: "reply-dmaster", reqid: 99, dbId: DB, key, rsn: 3n, data: Buffer.alloc(0) }, copy(8n, 2)));
    assert.deepEqual(noLogs(fx), [{ kind: "store", dbId: DB, key, header: { rsn: 9n, dmaster: 0, reserved1: 0, flags: 0 }, value: Buffer.alloc(0) }]);
  });

  it("the lmaster forwards a call to the dmaster it knows of", () => {
    const s = node(1);
    const fx = stepMigration(s, packet(0, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 1 }, copy(2n, 2)));
    assert.deepEqual(noLogs(fx), [
      { kind: "send", to: 2, generation: GEN, packet: { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 2 } },
    ]);
  });

  it("a node that is neither sends the call on to the lmaster", () => {
    const s = node(2);
    const fx = stepMigration(s, packet(1, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 2 }, copy(2n, 0)));
    assert.deepEqual(noLogs(fx), [
      { kind: "send", to: 1, generation: GEN, packet: { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 3 } },
    ]);
  });

  it("the dmaster hands the record over through the lmaster, keeping a copy that points at the new dmaster", () => {
    const s = node(2);
    const fx = stepMigration(s, packet(1, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 2 }, copy(5n, 2, "data")));
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 5n, dmaster: 0, reserved1: 0, flags: 0 }, value: Buffer.from("data") },
      { kind: "send", to: 1, generation: GEN, packet: { op: "req-dmaster", reqid: 4, dbId: DB, key, rsn: 5n, dmaster: 0, data: Buffer.from("data") } },
    ]);
    assert.ok(fx.some((e) => e.kind === "hop" && e.hopcount === 2), "the hop count is reported");
  });

  it("a dmaster that is also the lmaster replies to the caller directly", () => {
    const s = node(1);
    const fx = stepMigration(s, packet(0, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 1 }, copy(5n, 1, "x")));
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 5n, dmaster: 0, reserved1: 0, flags: 0 }, value: Buffer.from("x") },
      { kind: "send", to: 0, generation: GEN, packet: { op: "reply-dmaster", reqid: 4, dbId: DB, key, rsn: 5n, data: Buffer.from("x") } },
    ]);
  });

  it("the lmaster records the new location and passes the record on", () => {
    const s = node(1);
    const fx = stepMigration(s, packet(2, { op: "req-dmaster", reqid: 4, dbId: DB, key, rsn: 5n, dmaster: 0, data: Buffer.from("data") }, copy(5n, 2)));
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 5n, dmaster: 0, reserved1: 0, flags: 0 }, value: Buffer.from("data") },
      { kind: "send", to: 0, generation: GEN, packet: { op: "reply-dmaster", reqid: 4, dbId: DB, key, rsn: 5n, data: Buffer.from("data") } },
    ]);
  });

  it("an lmaster that asked itself becomes the dmaster on REQ_DMASTER", () => {
    const s = node(1);
    stepMigration(s, { kind: "client-call", callId: 3, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, local: copy(5n, 2) });
    const fx = stepMigration(s, packet(2, { op: "req-dmaster", reqid: 1, dbId: DB, key, rsn: 5n, dmaster: 1, data: Buffer.from("d") }, copy(5n, 2)));
    assert.deepEqual(noLogs(fx), [
      { kind: "store", dbId: DB, key, header: { rsn: 6n, dmaster: 1, reserved1: 0, flags: 0x10000 }, value: Buffer.from("d") },
      { kind: "reply-client", callId: 3, status: 0, data: Buffer.alloc(0) },
    ]);
  });

  it("REQ_DMASTER to a node that is not the key's lmaster is dropped", () => {
    const s = node(2);
    const fx = stepMigration(s, packet(0, { op: "req-dmaster", reqid: 1, dbId: DB, key, rsn: 5n, dmaster: 0, data: Buffer.alloc(0) }, null));
    assert.deepEqual(noLogs(fx), []);
    assert.ok(fx.some((e) => e.kind === "log" && e.level === "error"));
  });

  it("a fetch without migration is answered by the dmaster and the record stays", () => {
    const s = node(2);
    const fx = stepMigration(s, packet(1, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: 0, func: FETCH_FUNC, hopcount: 2 }, copy(5n, 2, "val")));
    assert.deepEqual(noLogs(fx), [{ kind: "send", to: 0, generation: GEN, packet: { op: "reply-call", reqid: 4, status: 0, data: Buffer.from("val") } }]);
    const h = stepMigration(s, packet(1, { op: "req-call", origin: 0, reqid: 5, dbId: DB, key, flags: 0, func: FETCH_WITH_HEADER_FUNC, hopcount: 2 }, copy(5n, 2, "val")));
    const sent = h.find((e) => e.kind === "send");
    assert.ok(sent?.kind === "send" && sent.packet.op === "reply-call");
    assert.equal(sent.packet.data.length, 24 + 3);
    assert.equal(sent.packet.data.readBigUInt64LE(0), 5n);
  });

  it("the caller's client gets the answer of a REPLY_CALL or REPLY_ERROR", () => {
    const s = node(0);
    stepMigration(s, { kind: "client-call", callId: 9, dbId: DB, key, flags: 0, func: FETCH_FUNC, local: null });
    stepMigration(s, { kind: "client-call", callId: 10, dbId: DB, key, flags: 0, func: FETCH_FUNC, local: null });
    assert.deepEqual(noLogs(stepMigration(s, packet(2, { op: "reply-call", reqid: 1, status: 0, data: Buffer.from("x") }, null))), [
      { kind: "reply-client", callId: 9, status: 0, data: Buffer.from("x") },
    ]);
    assert.deepEqual(noLogs(stepMigration(s, packet(2, { op: "reply-error", reqid: 2, status: -1, errmsg: "no" }, null))), [
      { kind: "reply-client", callId: 10, status: -1, data: Buffer.alloc(0) },
    ]);
    assert.deepEqual(noLogs(stepMigration(s, packet(2, { op: "reply-call", reqid: 1, status: 0, data: Buffer.alloc(0) }, null))), [], "answered once");
  });

  it("a call that keeps being forwarded ends in an error for the caller", () => {
    const s = node(2);
    const fx = stepMigration(s, packet(1, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: MAX_HOPS }, copy(1n, 0)));
    const sent = fx.find((e) => e.kind === "send");
    assert.ok(sent?.kind === "send" && sent.to === 0 && sent.packet.op === "reply-error");
    const below = stepMigration(s, packet(1, { op: "req-call", origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: MAX_HOPS - 1 }, copy(1n, 0)));
    const fwd = below.find((e) => e.kind === "send");
    assert.ok(fwd?.kind === "send" && fwd.packet.op === "req-call", "one hop below the limit is still forwarded");
  });

  it("a packet of another generation waits once for the next membership, then is dropped", () => {
    const s = node(1);
    const p = { op: "req-call" as const, origin: 0, reqid: 4, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 1 };
    assert.deepEqual(stepMigration(s, packet(0, p, null, GEN + 1)), [{ kind: "defer" }]);
    const again = stepMigration(s, { ...(packet(0, p, null, GEN + 1) as Extract<MigrationInput, { kind: "packet" }>), deferred: true });
    assert.deepEqual(noLogs(again), []);
  });

  it("after a membership change, waiting calls go to the new lmaster", () => {
    const s = node(0);
    stepMigration(s, { kind: "client-call", callId: 9, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, local: null });
    const fx = stepMigration(s, { kind: "membership", generation: 88, vnnmap: [0, 2] });
    assert.deepEqual(fx, [{ kind: "refetch", reqid: 1, dbId: DB, key }]);
    const lm = lmasterOf(key, [0, 2]);
    const re = stepMigration(s, { kind: "resend", reqid: 1, local: lm === 0 ? null : copy(1n, 2) });
    if (lm === 0) {
      assert.deepEqual(noLogs(re).map((e) => e.kind), ["store", "reply-client"]);
    } else {
      assert.deepEqual(noLogs(re), [
        { kind: "send", to: 2, generation: 88, packet: { op: "req-call", origin: 0, reqid: 1, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, hopcount: 1 } },
      ]);
    }
  });

  it("with no vnnmap a client call fails at once", () => {
    const s = initialMigrationState(0, GEN, []);
    assert.deepEqual(stepMigration(s, { kind: "client-call", callId: 1, dbId: DB, key, flags: MIGRATE, func: NULL_FUNC, local: null }), [
      { kind: "reply-client", callId: 1, status: -1, data: Buffer.alloc(0) },
    ]);
  });
});
