// Client messaging, statistics and the record commands on a local cluster:
// the REAL Debian `ctdb` tool and our client library against tandemd, and
// `tandem` printing what `ctdb` prints.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CtdbClient } from "../../src/client/client.ts";
import { attachDb, closeDb, fetchLock, fetchRecord, storeRecord, traverseDb } from "../../src/client/db.ts";
import { BROADCAST_ALL, Control, TunnelFlag } from "../../src/protocol/constants.ts";
import { encodeU32 } from "../../src/protocol/types.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const skip = hasRealCtdb ? false : "Debian's ctdb package is not installed";
/** Counters move between two runs, and their width with them. */
const digits = (s: string) => s.replace(/ *[0-9]+(\.[0-9]+)?/g, " N");

describe("messaging, statistics and records", { skip }, () => {
  let cluster: TestCluster;
  const clients: CtdbClient[] = [];
  const ctdb = (args: string[], pnn = 0) => run(CTDB, args, cluster.env(pnn));
  const tandem = (args: string[], pnn = 0) => run(process.execPath, [TANDEM, ...args], cluster.env(pnn));
  const same = async (args: string[], pnn = 0, normalise: (s: string) => string = (s) => s) => {
    const want = await ctdb(args, pnn);
    const got = await tandem(args, pnn);
    assert.deepEqual({ ...got, stdout: normalise(got.stdout) }, { ...want, stdout: normalise(want.stdout) }, `tandem ${args.join(" ")}`);
    return want;
  };
  const connect = async (pnn: number) => {
    const c = await CtdbClient.connect(cluster.layout.socket(pnn));
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await startCluster("messaging", 45040);
    await cluster.waitHealthy();
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster.stop();
  });

  test("statistics, statisticsreset and dumpmemory answer the real ctdb", async () => {
    const stats = await ctdb(["statistics"], 1);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^CTDB version 1\n/);
    assert.match(stats.stdout, /\n num_recoveries +[1-9][0-9]*\n/);
    assert.match(stats.stdout, /\n keepalive_packets_recv +[1-9][0-9]*\n/);
    await same(["statistics"], 1, digits);
    await same(["-X", "statistics"], 1, digits);
    assert.deepEqual(await ctdb(["statisticsreset"], 1), { code: 0, stdout: "", stderr: "" });
    const after = await ctdb(["statistics"], 1);
    assert.match(after.stdout, /\n num_recoveries +0\n/, "counters start again from zero");
    assert.match(after.stdout, /Statistics collected since {2}: \(000 00:00:0[0-9]\)/);
    assert.deepEqual(await tandem(["statisticsreset"], 1), { code: 0, stdout: "", stderr: "" });
    const mem = await ctdb(["dumpmemory"], 2);
    assert.equal(mem.code, 0, mem.stderr);
    assert.match(mem.stdout, /^full talloc report on 'null_context' \(total +[0-9]+ bytes in +[0-9]+ blocks\)\n/);
    await same(["dumpmemory"], 2, (s) => digits(s.split("\n")[0]!));
  });

  test("ctdb process-exists PID SRVID asks the node the client is connected to", async () => {
    const c = await connect(1);
    await c.registerSrvid(0xae00000000001234n, () => {});
    const pid = String(process.pid);
    assert.deepEqual(await ctdb(["-n", "1", "process-exists", pid, "0xae00000000001234"]), {
      code: 0,
      stdout: `PID ${pid} with SRVID 0xae00000000001234 exists\n`,
      stderr: "",
    });
    assert.equal((await ctdb(["-n", "1", "process-exists", pid, "0xae00000000009999"])).code, 1);
    assert.equal((await ctdb(["-n", "2", "process-exists", pid, "0xae00000000001234"])).code, 1, "not registered on node 2");
    await same(["-n", "1", "process-exists", pid, "0xae00000000001234"]);
    await c.deregisterSrvid(0xae00000000001234n);
    assert.equal((await ctdb(["-n", "1", "process-exists", pid, "0xae00000000001234"])).code, 1);
  });

  test("CHECK_SRVIDS reports which server ids have a client", async () => {
    const c = await connect(0);
    await c.registerSrvid(0xae000000000000a1n, () => {});
    const ids = Buffer.alloc(16);
    ids.writeBigUInt64LE(0xae000000000000a2n, 0);
    ids.writeBigUInt64LE(0xae000000000000a1n, 8);
    const r = await c.control(0, Control.CHECK_SRVIDS, ids);
    assert.equal(r.status, 0);
    assert.deepEqual([...r.data], [0b10]);
  });

  test("messages and tunnels reach a client on another node", async () => {
    const sender = await connect(0);
    const receiver = await connect(2);
    const got = new Promise<Buffer>((resolve) => void receiver.registerSrvid(0xae00000000000b01n, (data) => resolve(data)));
    await new Promise((r) => setTimeout(r, 50));
    sender.sendMessage(2, 0xae00000000000b01n, Buffer.from("hello node 2"));
    assert.equal((await got).toString(), "hello node 2");

    const tunnel = 0xae00000000000c01n;
    const received: { data: string; pnn: number }[] = [];
    const other = await connect(1);
    const arrived = (n: number) =>
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (received.length >= n) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
    await receiver.registerTunnel(tunnel, (data, from) => received.push({ data: data.toString(), pnn: from.pnn }));
    await other.registerTunnel(tunnel, (data, from) => received.push({ data: `node1:${data.toString()}`, pnn: from.pnn }));
    const stolen = await sender.control(0, Control.TUNNEL_REGISTER, Buffer.alloc(0), { srvid: tunnel });
    assert.equal(stolen.status, 0, "the id is free on node 0");
    const third = await connect(2);
    const taken = await third.control(2, Control.TUNNEL_REGISTER, Buffer.alloc(0), { srvid: tunnel });
    assert.equal(taken.status, -1, "one client per tunnel id on a node");
    sender.sendTunnel(2, tunnel, Buffer.from("one"), TunnelFlag.REQUEST);
    await arrived(1);
    assert.deepEqual(received, [{ data: "one", pnn: 0 }]);
    sender.sendTunnel(BROADCAST_ALL, tunnel, Buffer.from("all"), TunnelFlag.REQUEST | TunnelFlag.NOREPLY);
    await arrived(3);
    assert.deepEqual(received.slice(1).map((r) => r.data).sort(), ["all", "node1:all"]);
    await receiver.deregisterTunnel(tunnel);
    const again = await receiver.control(2, Control.TUNNEL_DEREGISTER, Buffer.alloc(0), { srvid: tunnel });
    assert.equal(again.status, -1, "deregistered already");
  });

  test("the client library: attach, store, fetch-lock moves the record, fetch reads it in place, traverse sees it", async () => {
    const c0 = await connect(0);
    const c1 = await connect(1);
    const c2 = await connect(2);
    const d0 = await attachDb(c0, "tandem_lib.tdb");
    await new Promise((r) => setTimeout(r, 200)); // the attach reaches the other nodes
    const d1 = await attachDb(c1, "tandem_lib.tdb");
    const d2 = await attachDb(c2, "tandem_lib.tdb");
    try {
      await storeRecord(d0, Buffer.from("k"), Buffer.from("v0"));
      const held = await fetchLock(d1, Buffer.from("k"));
      assert.equal(held.value.toString(), "v0");
      assert.equal(held.header.dmaster, 1);
      assert.ok(held.migrations >= 1);
      held.store(Buffer.from("v1"));
      held.unlock();
      assert.equal((await fetchRecord(d2, Buffer.from("k"))).toString(), "v1");
      const local = d1.tdb.fetch(Buffer.from("k"));
      assert.equal(local?.readUInt32LE(8), 1, "a fetch leaves the record where it is");
      const seen: string[] = [];
      assert.equal(await traverseDb(c2, d2.dbId, (key, header, value) => seen.push(`${key}=${value}@${header.dmaster}`)), 1);
      assert.deepEqual(seen, ["k=v1@1"]);
      const stats = await c1.control(1, Control.GET_DB_STATISTICS, encodeU32(d1.dbId));
      assert.equal(stats.status, 0);
    } finally {
      closeDb(d0);
      closeDb(d1);
      closeDb(d2);
    }
  });

  test("readkey, writekey, deletekey and dbstatistics: tandem prints what ctdb prints", async () => {
    assert.equal((await ctdb(["attach", "tandem_rec.tdb"])).code, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await tandem(["writekey", "tandem_rec.tdb", "key1", "by-tandem"]), { code: 0, stdout: "", stderr: "" });
    assert.equal((await ctdb(["readkey", "tandem_rec.tdb", "key1"], 1)).stdout, "Data: size:9 ptr:[by-tandem]\n");
    assert.equal((await ctdb(["writekey", "tandem_rec.tdb", "key1", "by-ctdb"], 2)).code, 0);
    await same(["readkey", "tandem_rec.tdb", "key1"], 0);
    await same(["readkey", "tandem_rec.tdb", "0x6b657931"], 1);
    await same(["readkey", "tandem_rec.tdb", "0xZZ"], 1);
    await same(["readkey", "tandem_rec.tdb", "nokey"], 2);
    await same(["readkey", "tandem_rec.tdb"]);
    await same(["readkey", "tandem_rec.tdb", "key1", "bogus"]);
    await same(["writekey", "tandem_rec.tdb", "key2", "0x41004243"], 0);
    await same(["readkey", "tandem_rec.tdb", "key2"], 1);
    await same(["writekey", "nosuch.tdb", "k", "v"]);
    assert.equal((await ctdb(["attach", "tandem_rec_p.tdb", "persistent"])).code, 0);
    await same(["readkey", "tandem_rec_p.tdb", "k"]);
    await same(["writekey", "tandem_rec_p.tdb", "k", "v"]);
    await same(["deletekey", "tandem_rec_p.tdb", "k"]);
    const stats = await same(["dbstatistics", "tandem_rec.tdb"], 1, digits);
    assert.match(stats.stdout, /^DB Statistics tandem_rec\.tdb\n db_ro_delegations +0\n/);
    await same(["dbstatistics", "nosuch.tdb"]);
    await same(["dbstatistics"]);
  });

  test("tstore writes a record with CTDB's header into a TDB file", async () => {
    const file = `${cluster.layout.nodeBase(0)}/tstore.tdb`;
    const { Tdb } = await import("../../src/database/tdb.ts");
    Tdb.open(file, { tdbFlags: 0 }).close();
    assert.deepEqual(await tandem(["tstore", file, "k", "v"]), { code: 0, stdout: "", stderr: "" });
    const t = Tdb.open(file, { tdbFlags: 0, create: false });
    const stored = t.fetch(Buffer.from("k"));
    t.close();
    assert.equal(stored?.length, 25);
    assert.equal(stored?.readBigUInt64LE(0), 0n);
    assert.equal(stored?.subarray(24).toString(), "v");
    await same(["tstore", `${file}.missing`, "k", "v"]);
    await same(["tstore", file, "k"]);
  });
});
