// The allocation core's own rules beyond CTDB's cases: who may host, the
// interface and availability inputs, ordering, home nodes and bad input.

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseHomeNodes } from "../../../src/config/home-nodes.ts";
import {
  type AllocAddress,
  AllocInputError,
  type AllocNode,
  type AllocOptions,
  allocate,
  canHostAny,
  IpAllocAlgorithm,
  mergeNodeLists,
  NO_NODE,
} from "../../../src/failover/alloc/index.ts";
import { NodeFlag, Runstate } from "../../../src/protocol/constants.ts";

const LCP2: AllocOptions = { algorithm: IpAllocAlgorithm.LCP2, noIpFailback: false, noIpTakeover: false };
const DET: AllocOptions = { ...LCP2, algorithm: IpAllocAlgorithm.DETERMINISTIC };
const NONDET: AllocOptions = { ...LCP2, algorithm: IpAllocAlgorithm.NONDETERMINISTIC };

const running = (pnn: number, flags = 0): AllocNode => ({ pnn, flags, runstate: Runstate.RUNNING });
const addr = (address: string, current: number, allowed: number[], extra: Partial<AllocAddress> = {}): AllocAddress => ({ address, current, allowed, ...extra });

test("a node hosts only when RUNNING and neither inactive nor disabled", () => {
  const cases: [string, AllocNode][] = [
    ["disconnected", running(1, NodeFlag.DISCONNECTED)],
    ["banned", running(1, NodeFlag.BANNED)],
    ["stopped", running(1, NodeFlag.STOPPED)],
    ["deleted", running(1, NodeFlag.DELETED)],
    ["unhealthy", running(1, NodeFlag.UNHEALTHY)],
    ["disabled", running(1, NodeFlag.PERMANENTLY_DISABLED)],
    ["in STARTUP", { pnn: 1, flags: 0, runstate: Runstate.STARTUP }],
    ["shutting down", { pnn: 1, flags: 0, runstate: Runstate.SHUTDOWN }],
  ];
  for (const [what, node1] of cases) {
    for (const opts of [LCP2, DET, NONDET]) {
      const got = allocate([running(0), node1], [addr("10.0.0.1", 1, [0, 1]), addr("10.0.0.2", 1, [0, 1])], opts);
      assert.deepEqual([...got], [["10.0.0.2", 0], ["10.0.0.1", 0]], `${what}, algorithm ${opts.algorithm}`);
    }
  }
});

test("NoIPHostOnAllDisabled is obsolete as in CTDB 4.17: with every node unhealthy or disabled nothing is hosted", () => {
  const nodes = [running(0, NodeFlag.UNHEALTHY), running(1, NodeFlag.PERMANENTLY_DISABLED)];
  const got = allocate(nodes, [addr("10.0.0.1", 0, [0, 1]), addr("10.0.0.2", 1, [0, 1])], LCP2);
  assert.deepEqual([...got.values()], [NO_NODE, NO_NODE]);
  assert.equal(canHostAny(nodes, [addr("10.0.0.1", -1, [0, 1])]), false);
});

test("an address goes only to nodes that list it", () => {
  const got = allocate([running(0), running(1), running(2)], [addr("10.0.0.1", -1, [2]), addr("10.0.0.2", -1, [2]), addr("10.0.0.3", -1, [5])], LCP2);
  assert.deepEqual([...got], [["10.0.0.3", NO_NODE], ["10.0.0.2", 2], ["10.0.0.1", 2]]);
});

test("a node whose every interface for the address is down cannot host it", () => {
  const nodes = [running(0), { ...running(1), downInterfaces: ["eth1"] }];
  const a = [addr("10.0.0.1", 1, [0, 1], { interfaces: ["eth1"] }), addr("10.0.0.2", 1, [0, 1], { interfaces: ["eth1", "eth2"] })];
  const got = allocate(nodes, a, NONDET);
  assert.equal(got.get("10.0.0.1"), 0);
  assert.equal(got.get("10.0.0.2"), 1);
});

test("reported availability replaces the local check but never overrides the node map", () => {
  const a = [addr("10.0.0.1", 1, [0, 1], { available: [0] }), addr("10.0.0.2", 0, [0, 1], { available: [0, 1] })];
  // 10.0.0.1 must leave node 1, which does not report it available; the
  // rebalance then moves 10.0.0.2 over to node 1.
  assert.deepEqual([...allocate([running(0), running(1)], a, NONDET)], [["10.0.0.2", 1], ["10.0.0.1", 0]]);
  assert.deepEqual([...allocate([running(0, NodeFlag.UNHEALTHY), running(1)], a, NONDET)], [["10.0.0.2", 1], ["10.0.0.1", NO_NODE]]);
});

test("a current host is believed only if it lists the address itself", () => {
  // Node 2 is said to host it but does not list it: treated as unhosted,
  // so NoIPTakeover leaves it unhosted.
  const got = allocate([running(0), running(1), running(2)], [addr("10.0.0.1", 2, [0, 1])], { ...LCP2, noIpTakeover: true });
  assert.equal(got.get("10.0.0.1"), NO_NODE);
});

test("results come in CTDB's order: descending, IPv4 below IPv6, canonical text", () => {
  const a = [addr("10.0.0.9", -1, [0]), addr("2001:db8::1", -1, [0]), addr("2001:DB8:0::10", -1, [0]), addr("192.0.2.1", -1, [0])];
  assert.deepEqual([...allocate([running(0)], a, LCP2).keys()], ["2001:db8::10", "2001:db8::1", "192.0.2.1", "10.0.0.9"]);
});

test("LCP2 spreads an IPv6 subnet and an IPv4 subnet over the nodes", () => {
  const a: AllocAddress[] = [];
  for (let i = 1; i <= 4; i++) a.push(addr(`2001:db8::${i}`, -1, [0, 1]), addr(`192.0.2.${i}`, -1, [0, 1]));
  const got = allocate([running(0), running(1)], a, LCP2);
  const count = (family: string, node: number) => [...got].filter(([k, v]) => k.includes(family) && v === node).length;
  assert.deepEqual([count(":", 0), count(":", 1), count(".", 0), count(".", 1)], [2, 2, 2, 2]);
});

test("NoIPFailback keeps LCP2 and the non-deterministic algorithm from moving addresses onto a returning node", () => {
  const a = [addr("10.0.0.1", 0, [0, 1]), addr("10.0.0.2", 0, [0, 1]), addr("10.0.0.3", 0, [0, 1]), addr("10.0.0.4", 0, [0, 1])];
  for (const opts of [LCP2, NONDET]) {
    assert.deepEqual([...allocate([running(0), running(1)], a, { ...opts, noIpFailback: true }).values()], [0, 0, 0, 0]);
    assert.deepEqual([...allocate([running(0), running(1)], a, opts).values()].sort(), [0, 0, 1, 1]);
  }
  // Deterministic ignores it: every run starts from scratch.
  assert.deepEqual([...allocate([running(0), running(1)], a, { ...DET, noIpFailback: true }).values()], [0, 1, 0, 1]);
});

test("LCP2 rebalances onto a forced node although it already hosts an address", () => {
  const a = [addr("10.0.0.1", 0, [0, 1]), addr("10.0.0.2", 0, [0, 1]), addr("10.0.0.3", 0, [0, 1]), addr("10.0.0.4", 1, [0, 1])];
  assert.deepEqual([...allocate([running(0), running(1)], a, LCP2).values()], [1, 0, 0, 0]);
  assert.deepEqual([...allocate([running(0), running(1)], a, { ...LCP2, forceRebalanceNodes: [1] }).values()].sort(), [0, 0, 1, 1]);
});

test("home_nodes: the first line for an address wins; a node beyond the map is ignored", () => {
  const a = [addr("10.0.0.1", -1, [0, 1, 2]), addr("10.0.0.2", -1, [0, 1, 2]), addr("10.0.0.3", -1, [0, 1, 2])];
  const nodes = [running(0), running(1), running(2)];
  assert.deepEqual([...allocate(nodes, a, DET).values()], [0, 1, 2]);
  const home = [
    { address: "10.0.0.3", pnn: 2 },
    { address: "10.0.0.3", pnn: 1 },
    { address: "10.0.0.1", pnn: 7 },
  ];
  assert.deepEqual([...allocate(nodes, a, { ...DET, homeNodes: home }).values()], [2, 1, 2]);
  // Other algorithms do not read home_nodes.
  assert.deepEqual([...allocate(nodes, a, { ...NONDET, homeNodes: home }).values()], [...allocate(nodes, a, NONDET).values()]);
});

test("home_nodes file: IP PNN lines, short lines skipped, bad lines named", () => {
  const good = parseHomeNodes("10.0.0.1 2\n\n10.0.0.2\n2001:db8::1\t0 extra\n", "home_nodes");
  assert.deepEqual(good, { ok: true, value: [{ address: "10.0.0.1", pnn: 2 }, { address: "2001:db8::1", pnn: 0 }] });
  const bad = parseHomeNodes("10.0.0.1 x\nnot-an-ip 1\n", "home_nodes");
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.line), [1, 2]);
});

test("mergeNodeLists: a node is believed only about itself, and lists which nodes know each address", () => {
  const merged = mergeNodeLists(
    [[{ address: "10.0.0.1", pnn: 1 }], [{ address: "10.0.0.1", pnn: 1 }, { address: "10.0.0.2", pnn: 0 }], undefined],
    [[], [{ address: "10.0.0.1", pnn: 1 }], undefined],
  );
  assert.deepEqual(merged, [
    { address: "10.0.0.1", current: 1, allowed: [0, 1], available: [1] },
    { address: "10.0.0.2", current: -1, allowed: [1], available: [] },
  ]);
});

test("bad input is an AllocInputError naming the address", () => {
  assert.throws(() => allocate([running(0)], [addr("10.0.0.300", -1, [0])], LCP2), (e: unknown) => e instanceof AllocInputError && /10\.0\.0\.300/.test(e.message));
  assert.throws(() => allocate([running(0)], [addr("10.0.0.1", -1, [0]), addr("10.0.0.1", 0, [0])], LCP2), AllocInputError);
});

test("canHostAny, as CTDB's ipalloc_can_host_ips: a node's report of hosting counts even when nobody may host now", () => {
  const sick = [running(0, NodeFlag.UNHEALTHY), running(1, NodeFlag.UNHEALTHY)];
  assert.equal(canHostAny(sick, [addr("10.0.0.1", 1, [0, 1])]), true);
  // ...but only a report about itself: node 1 does not list this address.
  assert.equal(canHostAny(sick, [addr("10.0.0.1", 1, [0])]), false);
  assert.equal(canHostAny([running(0), running(1, NodeFlag.UNHEALTHY)], [addr("10.0.0.1", -1, [0, 1])]), true);
  assert.equal(canHostAny([running(0)], []), false);
});
