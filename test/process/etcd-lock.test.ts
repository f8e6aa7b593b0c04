// Leader election with the cluster lock in a real 3-member etcd cluster: the
// built-in lock (tandem.conf `etcd lock`), and CTDB's own Python helper
// `ctdb_etcd_lock` as a `!helper` cluster lock.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { UNKNOWN_PNN } from "../../src/cluster/types.ts";
import { sleep } from "../../src/local/cluster.ts";
import { observe } from "../../src/local/ready.ts";
import { type TestCluster, startCluster } from "../support/cluster.ts";
import { hasEtcd, startEtcd } from "../support/etcd.ts";

const TTL = 3;
const ETCD_HELPER = "/usr/libexec/ctdb/ctdb_etcd_lock";
// The helper imports python-etcd (Debian's python3-etcd) into the system python3.
const helperUsable = fs.existsSync(ETCD_HELPER) && spawnSync("/usr/bin/python3", ["-c", "import etcd"]).status === 0;

/** Every node's view of the leader; undefined where a node did not answer. */
async function leaders(cluster: TestCluster, pnns = [0, 1, 2]): Promise<(number | undefined)[]> {
  return Promise.all(pnns.map(async (p) => (await observe(cluster.layout.socket(p), 1500))?.leader));
}

function logOf(cluster: TestCluster, pnn: number): string {
  return fs.readFileSync(path.join(cluster.layout.nodeBase(pnn), "log.ctdb"), "utf8");
}

describe("etcd as the cluster lock", { skip: !hasEtcd }, () => {
  test("built-in: one leader; holder killed → another leads within the TTL; quorum lost → nobody; quorum back → one", async () => {
    const etcd = await startEtcd("proc", 48010);
    let cluster: TestCluster | undefined;
    try {
      const endpoints = etcd.endpoints.join(" ");
      cluster = await startCluster("etcdlock", 48030, { lock: "none", tandem: [`etcd lock = ${endpoints}`, `etcd lock ttl = ${TTL}`] });
      const { leader } = await cluster.waitHealthy(30_000);
      assert.deepEqual(await leaders(cluster), [leader, leader, leader]);
      assert.match(logOf(cluster, leader), /etcd lock tandem\/cluster-lock at .*: taken/);

      // kill -9: nothing revokes the lease, so the key stays until the TTL runs out.
      const survivors = [0, 1, 2].filter((p) => p !== leader);
      cluster.kill(leader);
      const next = await cluster.waitFor((v) => v.leader !== UNKNOWN_PNN && v.leader !== leader, survivors[0]!, TTL * 1000 + 3000);
      assert.ok(survivors.includes(next.leader));
      cluster.start(leader);
      await cluster.waitHealthy(30_000, leader);
      assert.deepEqual(await leaders(cluster), [next.leader, next.leader, next.leader]);

      // Two of three etcd members gone: the holder cannot keep its lease alive and steps down.
      await etcd.kill(1);
      await etcd.kill(2);
      for (const p of [0, 1, 2]) await cluster.waitFor((v) => v.leader === UNKNOWN_PNN, p, TTL * 1000 + 5000);
      assert.match(logOf(cluster, next.leader), /no longer the leader: cluster lock lost/);
      await sleep(TTL * 1000);
      assert.deepEqual(await leaders(cluster), [UNKNOWN_PNN, UNKNOWN_PNN, UNKNOWN_PNN], "no node may lead while etcd has no quorum");

      etcd.restart(1);
      etcd.restart(2);
      const back = await cluster.waitFor((v) => v.leader !== UNKNOWN_PNN, 0, 30_000);
      await cluster.waitHealthy(10_000);
      assert.deepEqual(await leaders(cluster), [back.leader, back.leader, back.leader]);
    } finally {
      await cluster?.stop();
      await etcd.stop();
    }
  });

  test("CTDB's ctdb_etcd_lock helper: the holder leads and its key is the lock; a killed holder's key goes at once", { skip: !helperUsable }, async () => {
    const etcd = await startEtcd("helper", 48020);
    let cluster: TestCluster | undefined;
    // The helper runs `#!/usr/bin/env python3` and needs Debian's python3-etcd
    // module; the system interpreter has it.
    const savedPath = process.env["PATH"];
    process.env["PATH"] = `/usr/bin:/bin:${savedPath ?? ""}`;
    try {
      const port = Number(new URL(etcd.endpoints[0]!).port);
      cluster = await startCluster("etcdhelper", 48034, {
        lock: "none",
        conf: { cluster: [`cluster lock = !${ETCD_HELPER}`] },
        setup: (layout) => {
          for (let p = 0; p < layout.nodeCount; p++) {
            // CTDB_BASE/etcd: the helper's own configuration file.
            // (The helper reads the refresh interval as `lock_refresh`; its man page says `refresh`.)
            fs.writeFileSync(path.join(layout.nodeBase(p), "etcd"), `host = 127.0.0.1\nport = ${port}\nlock_ttl = 3\nlock_refresh = 1\n`);
          }
        },
      });
      const { leader } = await cluster.waitHealthy(30_000);
      assert.deepEqual(await leaders(cluster), [leader, leader, leader]);
      // The helper's lock is a queue of keys (python-etcd's recipe); the
      // lowest is the holder's, its value "<uuid>_<pnn>". A contended take
      // leaves its key behind for lock_ttl, so wait for the start-up race's
      // keys to expire: then only the leader's key is left.
      const netbios = spawnSync("testparm", ["-s", "--parameter-name", "netbios name"], { encoding: "utf8" }).stdout.trim();
      const queueUrl = `${etcd.endpoints[0]}/v2/keys/_locks/_ctdb/${encodeURIComponent(netbios)}?recursive=true`;
      const queue = async () => ((await (await fetch(queueUrl)).json()) as { node?: { nodes?: { value: string }[] } }).node?.nodes ?? [];
      const settled = Date.now() + 20_000;
      let keys = await queue();
      while (keys.length !== 1) {
        assert.ok(Date.now() < settled, `the helper's lock queue never settled: ${JSON.stringify(keys)}`);
        await sleep(200);
        keys = await queue();
      }
      assert.match(keys[0]!.value, new RegExp(`_${leader}$`), "the leader's helper holds the etcd lock");
      // kill -9: the helper gets SIGTERM from the kernel (parent-death signal) and deletes its key.
      cluster.kill(leader);
      const gone = Date.now() + 5000;
      while ((await queue()).some((k) => k.value.endsWith(`_${leader}`))) {
        assert.ok(Date.now() < gone, "the killed leader's helper did not release its etcd lock");
        await sleep(50);
      }
    } finally {
      process.env["PATH"] = savedPath;
      await cluster?.stop();
      await etcd.stop();
    }
  });
});
