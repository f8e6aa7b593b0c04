// The failover plan core: what-if changes applied to the nodes' reports,
// then the same allocation the takeover run makes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { IpAllocAlgorithm, type ReportedIp } from "../../../src/failover/alloc/index.ts";
import { changedFlags, type PlanInput, planFailover } from "../../../src/failover/alloc/plan.ts";
import { NodeFlag } from "../../../src/protocol/constants.ts";

const NO_CHANGE = { down: [], disable: [], unhealthy: [] };
const LCP2 = { algorithm: IpAllocAlgorithm.LCP2, noIpFailback: false, noIpTakeover: false };

// Three nodes listing the same four addresses, hosted 2 + 1 + 1.
const hosts: Record<string, number> = { "192.0.2.1": 0, "192.0.2.2": 1, "192.0.2.3": 2, "192.0.2.4": 0 };
const list = (): ReportedIp[] => Object.entries(hosts).map(([address, pnn]) => ({ address, pnn }));
const input = (over: Partial<PlanInput> = {}): PlanInput => ({
  nodes: [0, 1, 2].map((pnn) => ({ pnn, flags: 0 })),
  known: [list(), list(), list()],
  available: [list(), list(), list()],
  options: LCP2,
  ...over,
});

test("no change: the next run would move nothing in a balanced cluster", () => {
  const plan = planFailover(input(), NO_CHANGE);
  assert.equal(plan.canHost, true);
  assert.deepEqual(
    plan.rows.map((r) => [r.address, r.now, r.planned]),
    [
      ["192.0.2.4", 0, 0],
      ["192.0.2.3", 2, 2],
      ["192.0.2.2", 1, 1],
      ["192.0.2.1", 0, 0],
    ],
  );
});

test("--down, --disable and --unhealthy each take the node's addresses elsewhere", () => {
  for (const change of [
    { ...NO_CHANGE, down: [2] },
    { ...NO_CHANGE, disable: [2] },
    { ...NO_CHANGE, unhealthy: [2] },
  ]) {
    const plan = planFailover(input(), change);
    const row = plan.rows.find((r) => r.address === "192.0.2.3");
    assert.equal(row?.now, 2, JSON.stringify(change));
    assert.equal(row?.planned, 1, JSON.stringify(change));
    assert.ok(
      plan.rows.every((r) => r.planned !== 2),
      JSON.stringify(change),
    );
  }
});

test("a downed node's own reports are not used: an address only it knows goes unhosted", () => {
  const known = [list(), list(), [...list(), { address: "192.0.2.9", pnn: 2 }]];
  const plan = planFailover(input({ known, available: known }), { ...NO_CHANGE, down: [2] });
  assert.deepEqual(plan.rows[0], { address: "192.0.2.9", now: 2, planned: -1 });
});

test("what nodes report as available limits the plan (a node whose links are down)", () => {
  const plan = planFailover(input({ available: [list(), [], list()] }), NO_CHANGE);
  // LCP2: 192.0.2.2 is nearer 192.0.2.3 (node 2) than 192.0.2.1 and .4 (node 0) together.
  assert.equal(plan.rows.find((r) => r.address === "192.0.2.2")?.planned, 2);
});

test("when no node could host anything nothing moves, as CTDB skips the allocation", () => {
  const plan = planFailover(input(), { down: [], disable: [0, 1], unhealthy: [2] });
  assert.equal(plan.canHost, true, "the nodes still report hosting their addresses");
  const nobody = planFailover(input({ known: [[], [], []].map(() => list().map((r) => ({ ...r, pnn: -1 }))) }), { down: [], disable: [0, 1, 2], unhealthy: [] });
  assert.equal(nobody.canHost, false);
  assert.ok(nobody.rows.every((r) => r.planned === r.now));
});

test("changedFlags adds the flag of each change", () => {
  const got = changedFlags([0, 1, 2].map((pnn) => ({ pnn, flags: 0 })), { down: [0], disable: [1], unhealthy: [1, 2] });
  assert.deepEqual(
    got.map((n) => n.flags),
    [NodeFlag.DISCONNECTED, NodeFlag.PERMANENTLY_DISABLED | NodeFlag.UNHEALTHY, NodeFlag.UNHEALTHY],
  );
});
