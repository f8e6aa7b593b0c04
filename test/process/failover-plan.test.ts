// `tandem failover plan` against real tandemd nodes: the plan it prints is
// the allocation core's answer for exactly what the nodes report over the
// client socket (GET_PUBLIC_IPS, with and without the available-only flag,
// and the allocation tunables), with the asked-for nodes taken out.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CtdbClient } from "../../src/client/client.ts";
import * as C from "../../src/client/controls.ts";
import type { ReportedIp } from "../../src/failover/alloc/index.ts";
import { planFailover } from "../../src/failover/alloc/plan.ts";
import { ControlFlag } from "../../src/protocol/constants.ts";
import { run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const PUBLIC_ADDRESSES = "198.51.100.1/24 eth0\n198.51.100.2/24 eth0\n198.51.100.3/24 eth0\n2001:db8::1/64 eth0\n";

describe("tandem failover plan on a live cluster", () => {
  let cluster: TestCluster;
  const tandem = (args: string[]) => run(process.execPath, [TANDEM, ...args], cluster.env(0));

  before(async () => {
    cluster = await startCluster("failover-plan", 42000, {
      setup: (layout) => {
        for (let pnn = 0; pnn < layout.nodeCount; pnn++) fs.writeFileSync(path.join(layout.nodeBase(pnn), "public_addresses"), PUBLIC_ADDRESSES);
      },
    });
    await cluster.waitHealthy();
  });
  after(async () => {
    await cluster.stop();
  });

  /** What the nodes report, fetched directly with the client library. */
  async function reports() {
    const client = await CtdbClient.connect(cluster.layout.socket(0), { timeoutMs: 5000 });
    try {
      const nodes = (await C.getNodemap(client, 0)).nodes.map((n) => ({ pnn: n.pnn, flags: n.flags }));
      const toReported = (l: { addr: string; pnn: number }[]): ReportedIp[] => l.map((ip) => ({ address: ip.addr, pnn: ip.pnn | 0 }));
      const known = await Promise.all(nodes.map(async (n) => toReported(await C.getPublicIps(client, n.pnn))));
      const available = await Promise.all(nodes.map(async (n) => toReported(await C.getPublicIps(client, n.pnn, ControlFlag.PUBLIC_IP_ONLY_AVAILABLE))));
      const algorithm = await C.getTunable(client, 0, "IPAllocAlgorithm");
      const noIpFailback = (await C.getTunable(client, 0, "NoIPFailback")) !== 0;
      const noIpTakeover = (await C.getTunable(client, 0, "NoIPTakeover")) !== 0;
      return { nodes, known, available: available.map((l, pnn) => ((known[pnn]?.length ?? 0) > 0 ? l : undefined)), options: { algorithm, noIpFailback, noIpTakeover } };
    } finally {
      client.close();
    }
  }

  test("--json gives the core's plan for what the nodes report", async () => {
    for (const [args, change] of [
      [["--down", "1"], { down: [1], disable: [], unhealthy: [] }],
      [["--disable=0", "--unhealthy", "2"], { down: [], disable: [0], unhealthy: [2] }],
      [[], { down: [], disable: [], unhealthy: [] }],
    ] as const) {
      const r = await tandem(["failover", "plan", ...args, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      const plan = planFailover(await reports(), change);
      assert.deepEqual(doc.whatIf, change);
      assert.equal(doc.algorithm, "LCP2");
      assert.deepEqual(doc.addresses, plan.rows, args.join(" "));
    }
  });

  test("text output names the change and the algorithm", async () => {
    const r = await tandem(["failover", "plan", "--down", "1", "--down", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^What if: nodes 1, 2 down; algorithm LCP2\n/);
  });

  test("bad arguments are refused with a clear message", async () => {
    for (const [args, want] of [
      [["plan", "--down"], /--down needs a node number/],
      [["plan", "--down", "x"], /--down needs a node number, not "x"/],
      [["plan", "--drop", "1"], /unknown option "--drop"/],
      [["plan", "--down", "7"], /node 7 does not exist/],
      [["simulate"], /Usage: tandem failover plan/],
    ] as const) {
      const r = await tandem(["failover", ...args]);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, want);
    }
  });
});
