// The leader election under each way of guarding it: CTDB's own fcntl mutex
// helper as the cluster lock, and no lock with Tandem's majority rule.

import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, test } from "node:test";
import { Flag, UNKNOWN_PNN } from "../../src/cluster/types.ts";
import { run, CTDB, hasRealCtdb, startCluster } from "../support/cluster.ts";
import { observe } from "../../src/local/ready.ts";
import { sleep } from "../../src/local/cluster.ts";

const HELPER = "/usr/libexec/ctdb/ctdb_mutex_fcntl_helper";

describe("lock modes", () => {
  test("removing the lock file makes the leader step down, and the cluster elects again", async () => {
    const cluster = await startCluster("lost", 34382);
    try {
      const { leader } = await cluster.waitHealthy();
      fs.rmSync(cluster.layout.lockFile);
      // The holder rechecks the file's inode every 5 s (as CTDB's fcntl helper).
      const log = `${cluster.layout.nodeBase(leader)}/log.ctdb`;
      const deadline = Date.now() + 15_000;
      while (!/Cluster lock lost/.test(fs.readFileSync(log, "utf8"))) {
        assert.ok(Date.now() < deadline, "the leader never noticed its lock file was removed");
        await sleep(100);
      }
      assert.match(fs.readFileSync(log, "utf8"), /no longer the leader: cluster lock lost/);
      const view = await cluster.waitHealthy(15_000, (leader + 1) % 3);
      assert.notEqual(view.leader, UNKNOWN_PNN);
      assert.ok(fs.existsSync(cluster.layout.lockFile), "the new holder recreated the lock file");
    } finally {
      await cluster.stop();
    }
  });

  test("CTDB's fcntl helper as `!helper`: the holder leads, and a successor takes over after kill -9", async () => {
    if (!hasRealCtdb) return;
    const cluster = await startCluster("mutex", 34379, { lock: { helper: HELPER, args: ["1"] } });
    try {
      const { leader } = await cluster.waitHealthy();
      assert.match((await run(CTDB, ["getreclock"], cluster.env(0))).stdout, /ctdb_mutex_fcntl_helper/);
      const survivor = leader === 0 ? 1 : 0;
      cluster.kill(leader);
      // The dead leader's helper notices its parent is gone only at its next
      // check (every second here), so the successor may wait that long.
      const view = await cluster.waitFor(
        (v) => v.leader !== UNKNOWN_PNN && v.leader !== leader,
        survivor,
        20_000,
      );
      assert.notEqual(view.leader, leader);
    } finally {
      await cluster.stop();
    }
  });

  test("no lock, majority required: two of three elect; a lone survivor elects nobody", async () => {
    const cluster = await startCluster("majority", 34380, { lock: "none" });
    try {
      const { leader } = await cluster.waitHealthy();
      const others = [0, 1, 2].filter((p) => p !== leader);
      cluster.kill(leader);
      const view = await cluster.waitFor((v) => v.leader !== UNKNOWN_PNN && v.leader !== leader, others[0]!);
      assert.ok(others.includes(view.leader));
      const lone = others.find((p) => p !== view.leader)!;
      cluster.kill(view.leader);
      await cluster.waitFor((v) => (v.flags[view.leader]! & Flag.DISCONNECTED) !== 0, lone);
      await sleep(1500);
      const after = await observe(cluster.layout.socket(lone), 1500);
      assert.equal(after?.leader, UNKNOWN_PNN, "a minority must not elect a leader");
    } finally {
      await cluster.stop();
    }
  });

  test("no lock, majority not required: a lone survivor elects itself (CTDB's behaviour)", async () => {
    const cluster = await startCluster("nomajority", 34381, { lock: "none", tandem: ["require majority = false"] });
    try {
      const { leader } = await cluster.waitHealthy();
      const lone = (leader + 1) % 3;
      const third = (leader + 2) % 3;
      cluster.kill(leader);
      cluster.kill(third);
      const view = await cluster.waitFor((v) => v.leader === lone, lone);
      assert.equal(view.leader, lone);
    } finally {
      await cluster.stop();
    }
  });
});
