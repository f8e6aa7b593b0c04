// Database recovery between real tandemd processes, driven by the real
// `ctdb` tool: records written into one node's TDB file reach every node,
// volatile copies merge by RSN with deleted records dropped, `ctdb recover`
// works through any node, and persistent data outlives a restart of every
// daemon.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { tdbFlagsFor } from "../../src/database/local.ts";
import { Tdb, TdbFlag, tdbSupportsMutexes } from "../../src/database/tdb.ts";
import { DB_SEQNUM_KEY } from "../../src/protocol/constants.ts";
import { decodeLtdbHeader, encodeLtdbHeader, LTDB_HEADER_SIZE } from "../../src/protocol/types.ts";
import { CTDB, hasRealCtdb, run, startCluster, type TestCluster } from "../support/cluster.ts";

const skip = hasRealCtdb ? false : "Debian's ctdb package is not installed";

interface Rec {
  rsn: bigint;
  dmaster: number;
  value: string;
}

describe("database recovery between daemons", { skip }, () => {
  let cluster: TestCluster;
  const ctdb = (args: string[], pnn = 0) => run(CTDB, args, cluster.env(pnn), 30_000);
  const file = (pnn: number, name: string, kind: "volatile" | "persistent") =>
    path.join(cluster.layout.nodeBase(pnn), "var", kind, `${name}.${pnn}`);

  /** Opens a node's database file as smbd would, alongside the daemon. */
  function withTdb<T>(pnn: number, name: string, kind: "volatile" | "persistent", use: (t: Tdb) => T): T {
    const t = Tdb.open(file(pnn, name, kind), { hashSize: 0, tdbFlags: tdbFlagsFor(kind, kind === "volatile" && tdbSupportsMutexes()) & ~TdbFlag.CLEAR_IF_FIRST });
    try {
      return use(t);
    } finally {
      t.close();
    }
  }
  function put(t: Tdb, key: string, rsn: number, dmaster: number, value: Buffer | string): void {
    const header = encodeLtdbHeader({ rsn: BigInt(rsn), dmaster, reserved1: 0, flags: 0 });
    t.store(Buffer.from(key), Buffer.concat([header, typeof value === "string" ? Buffer.from(value) : value]));
  }
  function get(pnn: number, name: string, kind: "volatile" | "persistent", key: string): Rec | undefined {
    return withTdb(pnn, name, kind, (t) => {
      const v = t.fetch(Buffer.from(key));
      if (v === null) return undefined;
      const h = decodeLtdbHeader(v.subarray(0, LTDB_HEADER_SIZE));
      return { rsn: h.rsn, dmaster: h.dmaster, value: v.subarray(LTDB_HEADER_SIZE).toString() };
    });
  }
  const seq = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  async function attachEverywhere(name: string, persistent: boolean): Promise<void> {
    const r = await ctdb(persistent ? ["attach", name, "persistent"] : ["attach", name]);
    assert.equal(r.code, 0, r.stderr);
    for (const pnn of [0, 1, 2]) {
      for (let i = 0; i < 50; i++) {
        if ((await ctdb(["getdbmap"], pnn)).stdout.includes(name)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  async function generation(pnn = 0): Promise<string> {
    const r = await ctdb(["status"], pnn);
    return /Generation:(\d+)/.exec(r.stdout)?.[1] ?? r.stdout;
  }

  before(async () => {
    cluster = await startCluster("recovery", 46000);
    await cluster.waitHealthy();
  });
  after(async () => {
    await cluster.stop();
  });

  test("a persistent database is taken whole from the node with the highest sequence number, through ctdb recover on a follower", async () => {
    await attachEverywhere("tandem_rec.tdb", true);
    withTdb(1, "tandem_rec.tdb", "persistent", (t) => {
      put(t, "user", 1, 1, "alice");
      put(t, DB_SEQNUM_KEY, 1, 1, seq(2));
    });
    withTdb(2, "tandem_rec.tdb", "persistent", (t) => {
      put(t, "user", 7, 2, "older");
      put(t, "other", 1, 2, "only-on-2");
      put(t, DB_SEQNUM_KEY, 1, 2, seq(1));
    });
    const before = await generation();
    const leader = (await ctdb(["leader"])).stdout.trim();
    const follower = leader === "2" ? 1 : 2;
    const r = await ctdb(["recover"], follower);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(await generation(), before);
    for (const pnn of [0, 1, 2]) {
      assert.equal(get(pnn, "tandem_rec.tdb", "persistent", "user")?.value, "alice", `node ${pnn}`);
      assert.equal(get(pnn, "tandem_rec.tdb", "persistent", "other"), undefined, `node ${pnn}: not in the newest copy`);
    }
  });

  test("volatile copies merge by RSN, the leader becomes dmaster, deleted records stay deleted", async () => {
    await attachEverywhere("tandem_vol.tdb", false);
    withTdb(1, "tandem_vol.tdb", "volatile", (t) => {
      put(t, "k", 5, 1, "new");
      put(t, "gone", 9, 1, "");
    });
    withTdb(2, "tandem_vol.tdb", "volatile", (t) => {
      put(t, "k", 3, 1, "old");
      put(t, "gone", 2, 2, "zombie");
    });
    const r = await ctdb(["recover"]);
    assert.equal(r.code, 0, r.stderr);
    const leader = Number((await ctdb(["leader"])).stdout.trim());
    for (const pnn of [0, 1, 2]) {
      assert.deepEqual(get(pnn, "tandem_vol.tdb", "volatile", "k"), { rsn: 5n, dmaster: leader, value: "new" }, `node ${pnn}`);
      assert.equal(get(pnn, "tandem_vol.tdb", "volatile", "gone"), undefined, `node ${pnn}`);
    }
  });

  test("persistent data is intact after every daemon is killed and started again", async () => {
    for (const pnn of [0, 1, 2]) cluster.kill(pnn);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const pnn of [0, 1, 2]) cluster.start(pnn);
    await cluster.waitHealthy(30_000);
    for (const pnn of [0, 1, 2]) {
      assert.match((await ctdb(["getdbmap"], pnn)).stdout, /name:tandem_rec\.tdb .* PERSISTENT/, `node ${pnn}`);
      assert.equal(get(pnn, "tandem_rec.tdb", "persistent", "user")?.value, "alice", `node ${pnn}`);
    }
  });
});
