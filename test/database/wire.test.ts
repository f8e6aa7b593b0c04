import assert from "node:assert/strict";
import { test } from "node:test";
import type { RecordCopy } from "../../src/database/recovery.ts";
import { type DbMessage, DbWireError, decodeDbMessage, encodeDbMessage } from "../../src/database/wire.ts";

const recs: RecordCopy[] = [
  { key: Buffer.from("k1"), rsn: 2n ** 40n + 3n, dmaster: 2, flags: 0x10000, data: Buffer.from("value") },
  { key: Buffer.alloc(0), rsn: 0n, dmaster: 0xffffffff, flags: 0, data: Buffer.alloc(0) },
];

const samples: DbMessage[] = [
  { t: "rec-req", run: 1, reqId: 2, req: { op: "dbmap" } },
  { t: "rec-req", run: 1, reqId: 3, req: { op: "attach", db: { dbId: 0xdeadbeef, name: "passdb.tdb", flags: 1 } } },
  { t: "rec-req", run: 1, reqId: 4, req: { op: "freeze", dbId: 5, generation: 0x12345678 } },
  { t: "rec-req", run: 1, reqId: 5, req: { op: "pull", dbId: 5 } },
  { t: "rec-req", run: 1, reqId: 6, req: { op: "push", dbId: 5, generation: 9, records: recs } },
  { t: "rec-req", run: 1, reqId: 7, req: { op: "thaw", dbId: 5, generation: 9 } },
  { t: "rec-ok", run: 1, reqId: 2, result: { op: "dbmap", dbs: [{ dbId: 1, name: "a.tdb", flags: 0 }, { dbId: 2, name: "b.tdb", flags: 1 }] } },
  { t: "rec-ok", run: 1, reqId: 3, result: { op: "attach" } },
  { t: "rec-ok", run: 1, reqId: 4, result: { op: "freeze", seqnum: 77n } },
  { t: "rec-ok", run: 1, reqId: 5, result: { op: "pull", records: recs } },
  { t: "rec-ok", run: 1, reqId: 6, result: { op: "push", count: 2 } },
  { t: "rec-ok", run: 1, reqId: 7, result: { op: "thaw" } },
  { t: "rec-fail", run: 1, reqId: 7, error: "database x.tdb is not frozen" },
  { t: "store", commitId: 3, dbId: 8, records: recs },
  { t: "stored", commitId: 3, ok: false, error: "I/O error" },
  { t: "recovered", generation: 42 },
];

test("every database message survives encoding", () => {
  for (const m of samples) assert.deepEqual(decodeDbMessage(encodeDbMessage(m)), m);
});

test("malformed database messages are refused by name", () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.alloc(0), /truncated type/],
    [Buffer.from([99]), /unknown type 99/],
    [Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 42]), /unknown recovery operation 42/],
    [Buffer.concat([encodeDbMessage({ t: "recovered", generation: 1 }), Buffer.from([0])]), /1 bytes left over after recovered/],
    [Buffer.from([4, 1, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f]), /records claims 268435455 entries/],
  ];
  for (const [buf, re] of cases) {
    assert.throws(() => decodeDbMessage(buf), (e: unknown) => e instanceof DbWireError && re.test(e.message), re.source);
  }
  const full = encodeDbMessage(samples[4]!);
  for (let cut = 0; cut < full.length; cut++) assert.throws(() => decodeDbMessage(full.subarray(0, cut)), DbWireError);
});
