// Real daemons on 127.0.0.x: formation, failover, admin flags, the lock.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Flag, UNKNOWN_PNN } from "../../src/cluster/types.ts";
import { startCluster, type TestCluster } from "../support/cluster.ts";

describe("a 3-node cluster with a cluster lock file", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster("cluster", 14379, { tunables: ["KeepaliveInterval=1", "KeepaliveLimit=2"] });
  });
  after(async () => {
    await cluster.stop();
  });

  test("forms: every node OK and all agree on one leader", async () => {
    await cluster.waitHealthy();
    const views = await Promise.all([0, 1, 2].map((p) => cluster.waitHealthy(10_000, p)));
    const leaders = new Set(views.map((v) => v.leader));
    assert.equal(leaders.size, 1);
    assert.notEqual([...leaders][0], UNKNOWN_PNN);
  });

  test("kill -9 of the leader: survivors see it DISCONNECTED and elect another", async () => {
    const { leader } = await cluster.waitHealthy();
    const survivor = leader === 0 ? 1 : 0;
    cluster.kill(leader);
    const view = await cluster.waitFor(
      (v) => v.leader !== UNKNOWN_PNN && v.leader !== leader && (v.flags[leader]! & Flag.DISCONNECTED) !== 0,
      survivor,
    );
    assert.notEqual(view.leader, leader);
    // The restarted node joins without unseating the new leader.
    cluster.start(leader);
    const healed = await cluster.waitHealthy(20_000, survivor);
    assert.equal(healed.leader, view.leader);
  });

  test("SIGSTOP of a node is seen as DISCONNECTED after the keepalive limit", async () => {
    await cluster.waitHealthy();
    const { leader } = await cluster.waitHealthy();
    const frozen = leader === 2 ? 1 : 2;
    const watcher = [0, 1, 2].find((p) => p !== frozen)!;
    cluster.kill(frozen, "SIGSTOP");
    try {
      // Keepalives are tuned down for this cluster (1 s × 2); CTDB's defaults give 25-30 s.
      const view = await cluster.waitFor((v) => (v.flags[frozen]! & Flag.DISCONNECTED) !== 0, watcher, 15_000);
      assert.equal(view.flags[frozen]! & Flag.DISCONNECTED, Flag.DISCONNECTED);
    } finally {
      cluster.kill(frozen, "SIGCONT");
    }
    await cluster.waitHealthy(20_000, watcher);
  });
});
