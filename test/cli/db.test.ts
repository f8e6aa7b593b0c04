// Database metadata and small per-node commands against the in-memory
// daemon, with CTDB's tool test expectations (getdbmap, getdbstatus,
// getdbseqnum, setdbreadonly, setdbsticky, process-exists) as data.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FakeState, fakeState, runWithFake } from "./fake-daemon.ts";

const DBMAP = (): FakeState["dbs"] => [
  { dbId: 0x7a19d84d, name: "locking.tdb", flags: 0x2, seqnum: 0n, health: null },
  { dbId: 0x4e66c2b2, name: "brlock.tdb", flags: 0x4, seqnum: 0n, health: null },
  { dbId: 0x4d2a432b, name: "g_lock.tdb", flags: 0, seqnum: 0n, health: null },
  { dbId: 0x7132c184, name: "secrets.tdb", flags: 0x1, seqnum: 0n, health: null },
  { dbId: 0x6cf2837d, name: "registry.tdb", flags: 0x1, seqnum: 0x42n, health: null },
  { dbId: 0xbc57b384, name: "ctdb-ip.tdb", flags: 0x8, seqnum: 0n, health: null },
  { dbId: 0xbec75f0b, name: "ctdb-conn.tdb", flags: 0x8, seqnum: 0x23n, health: "NO-HEALTHY-NODES" },
];

describe("getdbmap / getdbstatus / getdbseqnum", () => {
  it("getdbmap plain and -X", async () => {
    const r = await runWithFake(["getdbmap"], fakeState({ dbs: DBMAP() }));
    assert.equal(
      r.stdout,
      "Number of databases:7\n" +
        "dbid:0x7a19d84d name:locking.tdb path:/var/db/locking.tdb.0 READONLY\n" +
        "dbid:0x4e66c2b2 name:brlock.tdb path:/var/db/brlock.tdb.0 STICKY\n" +
        "dbid:0x4d2a432b name:g_lock.tdb path:/var/db/g_lock.tdb.0\n" +
        "dbid:0x7132c184 name:secrets.tdb path:/var/db/secrets.tdb.0 PERSISTENT\n" +
        "dbid:0x6cf2837d name:registry.tdb path:/var/db/registry.tdb.0 PERSISTENT\n" +
        "dbid:0xbc57b384 name:ctdb-ip.tdb path:/var/db/ctdb-ip.tdb.0 REPLICATED\n" +
        "dbid:0xbec75f0b name:ctdb-conn.tdb path:/var/db/ctdb-conn.tdb.0 REPLICATED UNHEALTHY\n",
    );
    const x = await runWithFake(["-X", "getdbmap"], fakeState({ dbs: DBMAP().slice(0, 2) }));
    assert.equal(
      x.stdout,
      "|ID|Name|Path|Persistent|Sticky|Unhealthy|Readonly|Replicated|\n" +
        "|0x7A19D84D|locking.tdb|/var/db/locking.tdb.0|0|0|0|1|0|\n|0x4E66C2B2|brlock.tdb|/var/db/brlock.tdb.0|0|1|0|0|0|\n",
    );
  });

  it("getdbstatus by id and by name; unknown database", async () => {
    const st = fakeState({ dbs: DBMAP() });
    const want =
      "dbid: 0x4e66c2b2\nname: brlock.tdb\npath: /var/db/brlock.tdb.0\nPERSISTENT: no\nREPLICATED: no\nSTICKY: yes\nREADONLY: no\nHEALTH: OK\n";
    assert.equal((await runWithFake(["getdbstatus", "0x4e66c2b2"], st)).stdout, want);
    assert.equal((await runWithFake(["getdbstatus", "brlock.tdb"], st)).stdout, want);
    assert.match((await runWithFake(["getdbstatus", "ctdb-conn.tdb"], st)).stdout, /HEALTH: NO-HEALTHY-NODES\n$/);
    const none = await runWithFake(["getdbstatus", "0xdeadc0de"], st);
    assert.deepEqual([none.rc, none.stderr], [1, "No database matching '0xdeadc0de' found\n"]);
  });

  it("getdbseqnum in hex", async () => {
    const st = fakeState({ dbs: DBMAP() });
    assert.equal((await runWithFake(["getdbseqnum", "0x7a19d84d"], st)).stdout, "0x0\n");
    assert.equal((await runWithFake(["getdbseqnum", "0x6cf2837d"], st)).stdout, "0x42\n");
    assert.equal((await runWithFake(["getdbseqnum", "ctdb-conn.tdb"], st)).stdout, "0x23\n");
  });

  it("setdbreadonly / setdbsticky only on volatile databases", async () => {
    const st = fakeState({ dbs: DBMAP() });
    assert.deepEqual(await runWithFake(["setdbreadonly", "g_lock.tdb"], st), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(await runWithFake(["setdbsticky", "0x4d2a432b"], st), { rc: 0, stdout: "", stderr: "" });
    assert.match((await runWithFake(["getdbmap"], st)).stdout, /name:g_lock.tdb path:\/var\/db\/g_lock.tdb.0 STICKY READONLY\n/);
    const p = await runWithFake(["setdbreadonly", "secrets.tdb"], st);
    assert.deepEqual([p.rc, p.stderr], [1, "READONLY can be set only on volatile DB\n"]);
    const r = await runWithFake(["setdbsticky", "ctdb-ip.tdb"], st);
    assert.deepEqual([r.rc, r.stderr], [1, "STICKY can be set only on volatile DB\n"]);
  });
});

describe("process-exists, setlmasterrole, setleaderrole", () => {
  it("process-exists with and without srvid", async () => {
    const st = fakeState({ processes: [{ pid: 1234, srvids: [0xaebbccdd12345678n] }] });
    assert.deepEqual(await runWithFake(["process-exists", "1234"], st), { rc: 0, stdout: "PID 1234 exists\n", stderr: "" });
    assert.deepEqual(await runWithFake(["process-exists", "99"], st), { rc: 1, stdout: "PID 99 does not exist\n", stderr: "" });
    assert.equal((await runWithFake(["process-exists", "1234", "0xaebbccdd12345678"], st)).stdout, "PID 1234 with SRVID 0xaebbccdd12345678 exists\n");
    const no = await runWithFake(["process-exists", "1234", "0x1234567812345678"], st);
    assert.deepEqual([no.rc, no.stdout], [1, "PID 1234 with SRVID 0x1234567812345678 does not exist\n"]);
  });

  it("roles", async () => {
    const st = fakeState();
    assert.equal((await runWithFake(["setlmasterrole", "off"], st)).rc, 0);
    assert.equal(st.roles.lmaster, false);
    assert.equal((await runWithFake(["setleaderrole", "off"], st)).rc, 0);
    assert.equal(st.roles.leader, false);
    const bad = await runWithFake(["setleaderrole", "maybe"], st);
    assert.equal(bad.rc, 1);
    assert.ok(bad.stdout.endsWith("  setleaderrole   on|off                       set LEADER role\n"));
  });
});

describe("recover, dumpmemory, rddumpmemory", () => {
  it("recover waits for a new generation", async () => {
    const st = fakeState({ generation: 100 });
    assert.deepEqual(await runWithFake(["recover"], st), { rc: 0, stdout: "", stderr: "" });
    assert.equal(st.generation, 101);
    assert.ok(st.calls.includes("setRecmode:0"));
  });

  it("recover reports a leader it cannot ask", async () => {
    const st = fakeState({ timeouts: new Set(["getRecmode"]) });
    const r = await runWithFake(["recover"], st);
    assert.deepEqual(r, {
      rc: 110,
      stdout: "",
      stderr: "Control GET_RECMODE failed to node 0, ret=110\nFailed to get recovery mode from node 0\n",
    });
  });

  it("memory reports are printed as they come", async () => {
    assert.equal((await runWithFake(["dumpmemory"], fakeState())).stdout, "full talloc report on 'ctdb'\n");
    assert.equal((await runWithFake(["rddumpmemory"], fakeState())).stdout, "full talloc report on 'recoverd'\n");
  });
});

describe("attach / detach", () => {
  it("attach needs an openable TDB file; detach needs AllowClientDBAttach=0 and volatile databases", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "tandem-cli-attach-"));
    try {
      const st = fakeState({ dbDir: dir });
      st.tunables.push(["AllowClientDBAttach", 1]);
      const noFile = await runWithFake(["attach", "a.tdb"], st);
      assert.deepEqual(noFile, { rc: 12, stdout: "", stderr: "attach: a.tdb tdb_wrap_open failed\n" });
      writeFileSync(join(dir, "a.tdb.0"), "TDB file\n\0\0\0\0");
      writeFileSync(join(dir, "p.tdb.0"), "TDB file\n\0\0\0\0");
      assert.deepEqual(await runWithFake(["attach", "a.tdb"], st), { rc: 0, stdout: "", stderr: "" });
      assert.deepEqual(await runWithFake(["attach", "p.tdb", "persistent"], st), { rc: 0, stdout: "", stderr: "" });
      assert.equal(st.dbs.find((d) => d.name === "p.tdb")?.flags, 1);
      const active = await runWithFake(["detach", "a.tdb"], st);
      assert.deepEqual([active.rc, active.stderr], [1, "Database access is still active on node 0. Set AllowclientDBAttach=0 on all nodes.\n"]);
      st.tunables = st.tunables.map(([n, v]) => [n, n === "AllowClientDBAttach" ? 0 : v]);
      const p = await runWithFake(["detach", "p.tdb"], st);
      assert.deepEqual([p.rc, p.stderr], [1, "Only volatile databases can be detached\n"]);
      assert.deepEqual(await runWithFake(["detach", "a.tdb"], st), { rc: 0, stdout: "", stderr: "" });
      assert.equal(st.dbs.some((d) => d.name === "a.tdb"), false);
      const rec = await runWithFake(["detach", "a.tdb"], fakeState({ recmode: 1 }));
      assert.deepEqual([rec.rc, rec.stderr], [1, "Database cannot be detached when recovery is active\n"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
