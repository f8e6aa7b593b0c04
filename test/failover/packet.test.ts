// Failover messages between nodes: well-formed ones pass, bad ones are refused by name.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseClusterPacket } from "../../src/cluster/packet.ts";

describe("failover packets", () => {
  test("a well-formed message passes unchanged", () => {
    const m = {
      k: "ips",
      run: 3,
      ips: [{ address: "10.0.0.1", prefix: 24, interfaces: ["eth0"], available: true, hostedOn: null }],
    };
    assert.deepEqual(parseClusterPacket({ t: "failover", m }), { t: "failover", m });
    const r = { k: "release", run: 1, ips: [{ address: "10.0.0.1", prefix: 24 }], assignment: [["10.0.0.1", -1]] };
    assert.deepEqual(parseClusterPacket({ t: "failover", m: r }), { t: "failover", m: r });
  });

  const bad: [string, unknown, RegExp][] = [
    ["unknown kind", { k: "explode" }, /unknown failover message "explode"/],
    ["missing run", { k: "gather" }, /field m.run is not a u32/],
    ["bad stage", { k: "ack", run: 1, stage: "later", status: 0 }, /field m.stage is not a takeover stage/],
    ["bad prefix", { k: "take", run: 1, ips: [{ address: "10.0.0.1", prefix: 200 }], grace: true }, /field m.ips\[0\].prefix is not a prefix length/],
    ["bad pair", { k: "done", run: 1, assignment: [["10.0.0.1"]] }, /field m.assignment\[0\] is not an \[address, pnn\] pair/],
    ["not an object", 7, /field m is not an object/],
    ["hostedOn", { k: "ips", run: 1, ips: [{ address: "a", prefix: 1, interfaces: [], available: true, hostedOn: 5 }] }, /field m.ips\[0\].hostedOn is not a string/],
  ];
  for (const [name, m, error] of bad) {
    test(`refuses ${name}`, () => assert.throws(() => parseClusterPacket({ t: "failover", m }), error));
  }
});
