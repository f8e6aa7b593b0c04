// Clustered databases through the REAL Debian `ctdb` tool against tandemd:
// attach reaches every node, the files are real TDB files with CTDB's record
// header that the real tdb tools read, and `tandem` prints what `ctdb` prints.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { dbIdOf } from "../../src/database/hash.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const skip = hasRealCtdb ? false : "Debian's ctdb package is not installed";

describe("databases through the real ctdb tool", { skip }, () => {
  let cluster: TestCluster;
  const ctdb = (args: string[], pnn = 0) => run(CTDB, args, cluster.env(pnn));
  const tandem = (args: string[], pnn = 0) => run(process.execPath, [TANDEM, ...args], cluster.env(pnn));
  const same = async (args: string[], pnn = 0) => {
    const want = await ctdb(args, pnn);
    const got = await tandem(args, pnn);
    assert.deepEqual(got, want, `tandem ${args.join(" ")} on node ${pnn}`);
    return want;
  };
  const volatileDir = (pnn: number) => path.join(cluster.layout.nodeBase(pnn), "var", "volatile");

  before(async () => {
    cluster = await startCluster("databases", 45000);
    await cluster.waitHealthy();
  });
  after(async () => {
    await cluster.stop();
  });

  test("ctdb attach creates the database on every node, with CTDB's id and path", async () => {
    const r = await ctdb(["attach", "tandem_test.tdb"]);
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
    const id = `0x${dbIdOf("tandem_test.tdb").toString(16).padStart(8, "0")}`;
    for (const pnn of [0, 1, 2]) {
      let map = await ctdb(["getdbmap"], pnn);
      for (let i = 0; i < 50 && !map.stdout.includes("tandem_test.tdb"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        map = await ctdb(["getdbmap"], pnn);
      }
      const file = path.join(volatileDir(pnn), `tandem_test.tdb.${pnn}`);
      assert.equal(map.stdout, `Number of databases:1\ndbid:${id} name:tandem_test.tdb path:${file}\n`, `node ${pnn}`);
      assert.ok(fs.existsSync(file));
    }
  });

  test("persistent, replicated, sticky and read-only databases show in getdbmap and getdbstatus", async () => {
    assert.equal((await ctdb(["attach", "tandem_p.tdb", "persistent"])).code, 0);
    assert.equal((await ctdb(["attach", "tandem_r.tdb", "replicated"])).code, 0);
    assert.equal((await ctdb(["attach", "tandem_s.tdb", "sticky"])).code, 0);
    assert.equal((await ctdb(["attach", "tandem_ro.tdb", "readonly"])).code, 0);
    const map = await same(["getdbmap"]);
    assert.match(map.stdout, /name:tandem_p\.tdb path:\S+\/persistent\/tandem_p\.tdb\.0 PERSISTENT\n/);
    assert.match(map.stdout, /name:tandem_r\.tdb path:\S+\/volatile\/tandem_r\.tdb\.0 REPLICATED\n/);
    assert.match(map.stdout, /name:tandem_s\.tdb path:\S+ STICKY\n/);
    assert.match(map.stdout, /name:tandem_ro\.tdb path:\S+ READONLY\n/);
    await same(["-X", "getdbmap"]);
    const status = await same(["getdbstatus", "tandem_p.tdb"]);
    assert.match(status.stdout, /PERSISTENT: yes\n.*HEALTH: OK\n/s);
    await same(["getdbstatus", "tandem_test.tdb"], 1);
    await same(["getdbstatus", "nosuch.tdb"]);
    await same(["getdbseqnum", "tandem_p.tdb"]);
    await same(["setdbsticky", "tandem_p.tdb"]);
    assert.equal((await tandem(["setdbsticky", "tandem_test.tdb"])).code, 0);
    assert.match((await ctdb(["getdbstatus", "tandem_test.tdb"])).stdout, /STICKY: yes\n/);
  });

  test("catdb and cattdb of an empty database; the file is a TDB the real tools read", async () => {
    assert.deepEqual(await same(["catdb", "tandem_test.tdb"]), { code: 0, stdout: "Dumped 0 records\n", stderr: "" });
    await same(["cattdb", "tandem_test.tdb"]);
    const file = path.join(volatileDir(0), "tandem_test.tdb.0");
    assert.equal(execFileSync("/usr/bin/tdbdump", [file], { encoding: "utf8" }), "");
    const info = execFileSync("/usr/bin/tdbtool", [file, "info"], { encoding: "utf8" });
    assert.match(info, /Number of records: 0/);
  });

  test("a record written through one node is read through every other, migrating with RSN+1", async () => {
    assert.equal((await ctdb(["attach", "tandem_mig.tdb"])).code, 0);
    assert.deepEqual(await ctdb(["writekey", "tandem_mig.tdb", "shared", "from-node-0"]), { code: 0, stdout: "", stderr: "" });
    for (const pnn of [1, 2]) {
      assert.deepEqual(await ctdb(["readkey", "tandem_mig.tdb", "shared"], pnn), {
        code: 0,
        stdout: "Data: size:11 ptr:[from-node-0]\n",
        stderr: "",
      });
    }
    // Node 2 read last: it holds the record now, one RSN above every other copy.
    const dump = (pnn: number) => ctdb(["cattdb", "tandem_mig.tdb"], pnn);
    const rsnOf = (text: string) => Number(/rsn: ([0-9]+)\n/.exec(text)?.[1]);
    const two = (await dump(2)).stdout;
    assert.match(two, /dmaster: 2\n/);
    for (const pnn of [0, 1]) {
      const other = (await dump(pnn)).stdout;
      if (other.includes("shared")) assert.ok(rsnOf(other) < rsnOf(two), `node ${pnn}: ${other}`);
    }
    assert.equal((await ctdb(["writekey", "tandem_mig.tdb", "shared", "from-node-1"], 1)).code, 0);
    assert.equal((await ctdb(["readkey", "tandem_mig.tdb", "shared"], 0)).stdout, "Data: size:11 ptr:[from-node-1]\n");
    // The cluster-wide dump shows the record once, from its dmaster.
    const cat = await same(["catdb", "tandem_mig.tdb"], 2);
    assert.match(cat.stdout, /^key\(6\) = "shared"\ndmaster: 0\nrsn: [0-9]+\nflags: 0x00010000 MIGRATED_WITH_DATA\ndata\(11\) = "from-node-1"\n\nDumped 1 records\n$/);
    const file = path.join(volatileDir(0), "tandem_mig.tdb.0");
    assert.match(execFileSync("/usr/bin/tdbdump", [file], { encoding: "utf8" }), /key\(6\) = "shared"\ndata\(35\) = /);
  });

  test("detach removes a volatile database on every node", async () => {
    assert.equal((await ctdb(["attach", "tandem_gone.tdb"])).code, 0);
    assert.equal((await ctdb(["setvar", "AllowClientDBAttach", "0"])).code, 0);
    for (const pnn of [1, 2]) assert.equal((await ctdb(["-n", String(pnn), "setvar", "AllowClientDBAttach", "0"])).code, 0);
    try {
      const r = await ctdb(["detach", "tandem_gone.tdb"]);
      assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
      for (const pnn of [0, 1, 2]) {
        let map = await ctdb(["getdbmap"], pnn);
        for (let i = 0; i < 50 && map.stdout.includes("tandem_gone.tdb"); i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          map = await ctdb(["getdbmap"], pnn);
        }
        assert.doesNotMatch(map.stdout, /tandem_gone\.tdb/, `node ${pnn}`);
      }
      await same(["detach", "tandem_p.tdb"]);
    } finally {
      for (const pnn of [0, 1, 2]) await ctdb(["-n", String(pnn), "setvar", "AllowClientDBAttach", "1"]);
    }
  });
});
