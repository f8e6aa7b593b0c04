import assert from "node:assert/strict";
import { test } from "node:test";
import type { DbInfo } from "../../src/database/recovery.ts";
import { decideRecoveryRequest, initialNodeState, invalidateVolatile, writable } from "../../src/database/recovery-node.ts";
import { DbFlag } from "../../src/protocol/constants.ts";

const VOL: DbInfo = { dbId: 1, name: "locking.tdb", flags: 0 };
const PERS: DbInfo = { dbId: 2, name: "secrets.tdb", flags: DbFlag.PERSISTENT };
const lookup = (id: number) => [VOL, PERS].find((d) => d.dbId === id);

test("freeze, pull, push, thaw for one generation; writes refused while frozen", () => {
  const s = initialNodeState();
  assert.equal(writable(s, 1), true);
  assert.deepEqual(decideRecoveryRequest(s, { op: "pull", dbId: 1 }, lookup), { ok: false, error: "database locking.tdb is not frozen" });
  assert.deepEqual(decideRecoveryRequest(s, { op: "freeze", dbId: 1, generation: 9 }, lookup), {
    ok: true,
    work: { kind: "freeze", dbId: 1, generation: 9 },
  });
  assert.equal(writable(s, 1), false);
  assert.equal(writable(s, 2), true);
  assert.deepEqual(decideRecoveryRequest(s, { op: "pull", dbId: 1 }, lookup), { ok: true, work: { kind: "pull", dbId: 1 } });
  assert.deepEqual(decideRecoveryRequest(s, { op: "push", dbId: 1, generation: 8, records: [] }, lookup), {
    ok: false,
    error: "database locking.tdb is frozen for generation 9, not 8",
  });
  assert.deepEqual(decideRecoveryRequest(s, { op: "push", dbId: 1, generation: 9, records: [] }, lookup), {
    ok: true,
    work: { kind: "push", dbId: 1, records: [] },
  });
  assert.deepEqual(decideRecoveryRequest(s, { op: "thaw", dbId: 1, generation: 8 }, lookup).ok, false);
  assert.deepEqual(decideRecoveryRequest(s, { op: "thaw", dbId: 1, generation: 9 }, lookup), { ok: true, work: { kind: "thaw", dbId: 1 } });
  assert.equal(writable(s, 1), true);
  assert.equal(decideRecoveryRequest(s, { op: "thaw", dbId: 1, generation: 9 }, lookup).ok, false, "a second thaw is refused");
});

test("a newer recovery's freeze takes over; the older one can no longer push", () => {
  const s = initialNodeState();
  decideRecoveryRequest(s, { op: "freeze", dbId: 2, generation: 3 }, lookup);
  decideRecoveryRequest(s, { op: "freeze", dbId: 2, generation: 4 }, lookup);
  assert.equal(decideRecoveryRequest(s, { op: "push", dbId: 2, generation: 3, records: [] }, lookup).ok, false);
  assert.equal(decideRecoveryRequest(s, { op: "push", dbId: 2, generation: 4, records: [] }, lookup).ok, true);
});

test("unknown databases are refused by id; attach and dbmap always go to the shell", () => {
  const s = initialNodeState();
  assert.deepEqual(decideRecoveryRequest(s, { op: "freeze", dbId: 0xabc, generation: 1 }, lookup), {
    ok: false,
    error: "database 0x00000abc is not attached",
  });
  assert.deepEqual(decideRecoveryRequest(s, { op: "dbmap" }, lookup), { ok: true, work: { kind: "dbmap" } });
  const db = { dbId: 7, name: "new.tdb", flags: 0 };
  assert.deepEqual(decideRecoveryRequest(s, { op: "attach", db }, lookup), { ok: true, work: { kind: "attach", db } });
});

test("an inactive node offers no volatile records until a recovery thaws them; persistent ones still count", () => {
  const s = initialNodeState();
  invalidateVolatile(s, [VOL, PERS]);
  for (const db of [VOL, PERS]) decideRecoveryRequest(s, { op: "freeze", dbId: db.dbId, generation: 5 }, lookup);
  assert.deepEqual(decideRecoveryRequest(s, { op: "pull", dbId: 1 }, lookup), { ok: true, work: { kind: "pull-none", dbId: 1 } });
  assert.deepEqual(decideRecoveryRequest(s, { op: "pull", dbId: 2 }, lookup), { ok: true, work: { kind: "pull", dbId: 2 } });
  // A failed recovery does not clear the mark: a re-freeze still pulls nothing.
  decideRecoveryRequest(s, { op: "freeze", dbId: 1, generation: 6 }, lookup);
  assert.deepEqual(decideRecoveryRequest(s, { op: "pull", dbId: 1 }, lookup), { ok: true, work: { kind: "pull-none", dbId: 1 } });
  decideRecoveryRequest(s, { op: "thaw", dbId: 1, generation: 6 }, lookup);
  decideRecoveryRequest(s, { op: "freeze", dbId: 1, generation: 7 }, lookup);
  assert.deepEqual(decideRecoveryRequest(s, { op: "pull", dbId: 1 }, lookup), { ok: true, work: { kind: "pull", dbId: 1 } });
});
