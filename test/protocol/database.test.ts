// Codecs of the database payloads and of the statistics record.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeStatistics, encodeStatistics, STATS_FIELDS } from "../../src/cli/format/statistics.ts";
import {
  decodeDbStatistics,
  decodeKeyData,
  decodeRecData,
  decodeTraverseAll,
  emptyDbStatistics,
  encodeDbStatistics,
  encodeKeyData,
  encodeRecData,
  encodeTraverseAllExt,
  isTraverseEnd,
  MAX_HOT_KEYS,
} from "../../src/protocol/database.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";

describe("database payloads", () => {
  it("rec_data round-trips and refuses lengths that do not fit", () => {
    const b = encodeRecData({ reqid: 7, key: Buffer.from("key"), data: Buffer.from("data!") });
    assert.equal(b.readUInt32LE(0), 16 + 3 + 5);
    assert.deepEqual(decodeRecData(b), { reqid: 7, key: Buffer.from("key"), data: Buffer.from("data!") });
    assert.ok(isTraverseEnd(decodeRecData(encodeRecData({ reqid: 1, key: Buffer.alloc(0), data: Buffer.alloc(0) }))));
    assert.throws(() => decodeRecData(b.subarray(0, 20)), ProtocolError);
    const short = Buffer.from(b);
    short.writeUInt32LE(10, 0);
    assert.throws(() => decodeRecData(short), /shorter than/);
  });

  it("traverse_all_ext and key_data round-trip", () => {
    const t = { dbId: 0x11223344, reqid: 5, pnn: 2, clientReqid: 9, srvid: 0xbe00000000000001n, withEmptyRecords: true };
    const b = encodeTraverseAllExt(t);
    assert.equal(b.length, 32);
    assert.deepEqual(decodeTraverseAll(b, true), t);
    const k = { dbId: 3, header: { rsn: 9n, dmaster: 1, reserved1: 0, flags: 0x10000 }, key: Buffer.from("abc") };
    const kb = encodeKeyData(k);
    assert.equal(kb.length, 8 + 24 + 4 + 3);
    assert.deepEqual(decodeKeyData(kb), k);
  });

  it("db_statistics carries every hot key slot, empty ones with no key", () => {
    const s = emptyDbStatistics();
    s.locks.numCalls = 4;
    s.hopCountBuckets[2] = 6;
    s.hotKeys = [{ count: 3, key: Buffer.from("hot") }];
    const b = encodeDbStatistics(s);
    const d = decodeDbStatistics(b);
    assert.equal(d.locks.numCalls, 4);
    assert.equal(d.hopCountBuckets[2], 6);
    assert.equal(d.hotKeys.length, MAX_HOT_KEYS);
    assert.deepEqual(d.hotKeys[0], { count: 3, key: Buffer.from("hot") });
    assert.deepEqual(d.hotKeys[1], { count: 0, key: Buffer.alloc(0) });
    assert.throws(() => decodeDbStatistics(b.subarray(0, 100)), ProtocolError);
  });

  it("the statistics record round-trips through the tool's decoder", () => {
    const counters = new Map<string, number>(STATS_FIELDS.map((name, i) => [name, i + 1]));
    const lat = (n: number) => ({ num: n, min: n / 10, max: n, total: n * 2 });
    const s = {
      counters,
      reclockCtdbd: lat(1),
      reclockRecd: lat(2),
      locksLatency: lat(3),
      lockBuckets: Array.from({ length: 16 }, (_, i) => i),
      hopCountBuckets: Array.from({ length: 16 }, (_, i) => 100 + i),
      callLatency: lat(4),
      childwriteLatency: lat(5),
      startTime: 1_700_000_000,
      currentTime: 1_700_000_100,
    };
    const d = decodeStatistics(encodeStatistics(s));
    for (const name of STATS_FIELDS) assert.equal(d.counters.get(name), counters.get(name), name);
    assert.deepEqual(d.reclockRecd, lat(2));
    assert.deepEqual(d.childwriteLatency, lat(5));
    assert.deepEqual(d.hopCountBuckets, s.hopCountBuckets);
    assert.equal(d.startTime, s.startTime);
    assert.equal(d.currentTime, s.currentTime);
  });
});
