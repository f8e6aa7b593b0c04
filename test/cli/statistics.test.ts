// The statistics record decoder and ctdb's two statistics layouts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeStatistics, decodeStatisticsList, formatStatistics, formatStatisticsMachine, STATISTICS_SIZE } from "../../src/cli/format/statistics.ts";

/** A wire record whose 25 leading counters are 1..25 and with a few distinctive values elsewhere. */
function record(start: number, now: number): Buffer {
  const b = Buffer.alloc(STATISTICS_SIZE);
  for (let i = 0; i < 25; i++) b.writeUInt32LE(i + 1, i * 4);
  // reclock.ctdbd latency at 104: num 2, min 0.5, max 1.5, total 2.0
  b.writeInt32LE(2, 104);
  b.writeDoubleLE(0.5, 112);
  b.writeDoubleLE(1.5, 120);
  b.writeDoubleLE(2.0, 128);
  // locks.num_calls..num_failed at 168
  for (let i = 0; i < 4; i++) b.writeUInt32LE(100 + i, 168 + i * 4);
  // lock buckets at 216
  b.writeUInt32LE(7, 216);
  // total_calls .. max_hop_count at 280 (memory_used at 296)
  b.writeUInt32LE(78912, 296);
  b.writeUInt32LE(9, 304);
  // hop count buckets at 308
  b.writeUInt32LE(3, 308 + 15 * 4);
  // num_recoveries at 440, times at 448 / 464, ro counters at 480
  b.writeUInt32LE(4, 440);
  b.writeBigInt64LE(BigInt(start), 448);
  b.writeBigInt64LE(BigInt(now), 464);
  b.writeUInt32LE(11, 480);
  b.writeUInt32LE(12, 484);
  return b;
}

describe("statistics", () => {
  const s = decodeStatistics(record(1000, 1000 + 3661));

  it("decodes every field from its place", () => {
    assert.equal(s.counters.get("num_clients"), 1);
    assert.equal(s.counters.get("keepalive_packets_recv"), 9);
    assert.equal(s.counters.get("node.req_call"), 10);
    assert.equal(s.counters.get("timeouts.traverse"), 25);
    assert.equal(s.counters.get("locks.num_failed"), 103);
    assert.equal(s.counters.get("memory_used"), 78912);
    assert.equal(s.counters.get("max_hop_count"), 9);
    assert.equal(s.counters.get("num_recoveries"), 4);
    assert.equal(s.counters.get("total_ro_revokes"), 12);
    assert.deepEqual(s.reclockCtdbd, { num: 2, min: 0.5, max: 1.5, total: 2 });
    assert.equal(s.lockBuckets[0], 7);
    assert.equal(s.hopCountBuckets[15], 3);
    assert.equal(s.startTime, 1000);
    assert.equal(s.currentTime, 4661);
  });

  it("plain layout", () => {
    const text = formatStatistics(s, (sec) => `T${sec}\n`);
    const lines = text.split("\n");
    assert.equal(lines[0], "CTDB version 1");
    assert.equal(lines[1], "Current time of statistics  :                T4661");
    assert.equal(lines[2], "Statistics collected since  : (000 01:01:01) T1000");
    assert.equal(lines[3], " num_clients                        1");
    assert.equal(lines[6], " num_recoveries                     4");
    assert.equal(lines[13], " node");
    assert.equal(lines[14], "     req_call                      10");
    assert.ok(lines.includes(" pending_childwrite_calls             0"));
    assert.ok(lines.includes(" hop_count_buckets: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 3"));
    assert.ok(lines.includes(" lock_buckets: 7 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"));
    assert.ok(lines.includes(" reclock_ctdbd      MIN/AVG/MAX     0.500000/1.000000/1.500000 sec out of 2"));
    assert.equal(lines.at(-2), " childwrite_latency MIN/AVG/MAX     0.000000/0.000000/0.000000 sec out of 0");
  });

  it("machine layout: header without a leading separator, then values", () => {
    const text = formatStatisticsMachine(s, "|", true);
    const [header, values] = text.split("\n");
    assert.ok(header!.startsWith("CTDB version|Current time of statistics|Statistics collected since|num_clients|frozen|"));
    assert.ok(header!.endsWith("|max_childwrite_latency|"));
    assert.ok(values!.startsWith("1|4661|1000|1|2|3|4|"));
    assert.ok(values!.includes("|2|0.500000|1.000000|1.500000|"));
    assert.equal(formatStatisticsMachine(s, ":", false).split("\n").length, 2);
  });

  it("history list and short buffers", () => {
    const list = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), record(1, 2), record(3, 4)]);
    assert.deepEqual(
      decodeStatisticsList(list).map((x) => x.startTime),
      [1, 3],
    );
    assert.throws(() => decodeStatistics(Buffer.alloc(100)), RangeError);
  });
});
