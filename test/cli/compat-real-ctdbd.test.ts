// The real CTDB daemon (when installed, and we are root) on a private
// CTDB_BASE, queried by the real `ctdb` tool and by `tandem`: outputs and
// exit codes must be identical. This checks our client and formatting
// against CTDB itself, independently of our own daemon.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Out, REAL_CTDB, runRealCtdb, runTandem } from "../support/cli-run.ts";

const CTDB = REAL_CTDB;
const CTDBD = "/usr/sbin/ctdbd";
const runnable = existsSync(CTDB) && existsSync(CTDBD) && process.getuid?.() === 0;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs whose command line mentions our private directory (lock helpers, event daemon). */
function leftovers(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmd.includes(dir)) out.push(Number(name));
    } catch {
      // Gone already.
    }
  }
  return out;
}

describe("compared with the real ctdb against the real ctdbd", { skip: runnable ? false : "needs ctdb, ctdbd and root" }, () => {
  let dir = "";
  let env: Record<string, string> = {};
  let daemon: ChildProcess | undefined;

  const real = (argv: string[]): Out => runRealCtdb(argv, env, 30_000);
  const ours = (argv: string[]): Promise<Out> => runTandem(argv, env);
  const same = async (argv: string[], normalise: (s: string) => string = (s) => s) => {
    const want = real(argv);
    const got = await ours(argv);
    const n = (o: Out) => ({ ...o, stdout: normalise(o.stdout) });
    assert.deepEqual(n(got), n(want), `tandem ${argv.join(" ")}`);
    return got;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tandem-cli-ctdbd-"));
    for (const d of ["events/legacy", "run", "var/db/volatile", "var/db/persistent", "var/db/state"]) {
      mkdirSync(join(dir, d), { recursive: true });
    }
    // A loopback address of our own, so that other CTDB daemons on this host do not collide with ours.
    const address = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    writeFileSync(join(dir, "nodes"), `${address}\n`);
    writeFileSync(
      join(dir, "ctdb.conf"),
      `[logging]\n\tlocation = file:${dir}/log.ctdb\n\tlog level = NOTICE\n` +
        `[cluster]\n\tnode address = ${address}\n\tcluster lock = ${dir}/cluster.lock\n` +
        `[database]\n\tvolatile database directory = ${dir}/var/db/volatile\n` +
        `\tpersistent database directory = ${dir}/var/db/persistent\n\tstate database directory = ${dir}/var/db/state\n` +
        "[failover]\n\tdisabled = true\n[legacy]\n\trealtime scheduling = false\n",
    );
    env = { CTDB_TEST_MODE: "yes", CTDB_BASE: dir };
    daemon = spawn(CTDBD, ["-i"], { env: { PATH: "/usr/bin:/bin:/usr/sbin", ...env }, stdio: "ignore" });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = real(["runstate", "running"]);
      const s = real(["status"]);
      // Healthy (first monitor event passed), recovered, and the leader broadcast is flowing.
      const healthy = real(["nodestatus"]).rc === 0;
      if (r.rc === 0 && healthy && /Recovery mode:NORMAL/.test(s.stdout) && /Leader:0/.test(s.stdout)) break;
      if (Date.now() > deadline || daemon.exitCode !== null) {
        throw new Error(`ctdbd did not reach RUNNING: ${r.stdout}${r.stderr}`);
      }
      await sleep(500);
    }
  });

  after(async () => {
    if (daemon?.pid !== undefined && daemon.exitCode === null) {
      daemon.kill("SIGTERM");
      for (let i = 0; i < 50 && alive(daemon.pid); i++) await sleep(100);
      if (alive(daemon.pid)) daemon.kill("SIGKILL");
    }
    // The event daemon and lock helpers leave when ctdbd does; make sure.
    for (let i = 0; i < 30 && leftovers(dir).length > 0; i++) await sleep(100);
    for (const pid of leftovers(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const plain: string[][] = [
    ["status"],
    ["-X", "status"],
    ["-Y", "status"],
    ["-x", ",", "-Y", "status"],
    ["-n", "0", "status"],
    ["-n", "1", "status"],
    ["status", "extra"],
    ["nodestatus"],
    ["nodestatus", "all"],
    ["-X", "nodestatus", "all"],
    ["nodestatus", "0"],
    ["nodestatus", "1"],
    ["nodestatus", "x"],
    ["pnn"],
    ["-n", "0", "pnn"],
    ["leader"],
    ["getpid"],
    ["runstate"],
    ["runstate", "running"],
    ["runstate", "init", "startup"],
    ["runstate", "foo", "running"],
    ["runstate", "running", "foo"],
    ["getcapabilities"],
    ["-X", "getcapabilities"],
    ["getreclock"],
    ["getvar", "RecoverInterval"],
    ["getvar", "recoverinterval"],
    ["getvar", "NoSuchTunable"],
    ["getvar"],
    ["listvars"],
    ["ifaces"],
    ["-X", "ifaces"],
    ["setvar"],
    ["setvar", "NoSuchTunable", "1"],
    ["setvar", "RecoverInterval", "abc"],
    ["listnodes"],
    ["-X", "listnodes"],
    ["ip"],
    ["ip", "all"],
    ["-X", "ip"],
    ["-v", "ip"],
    ["-X", "-v", "ip", "all"],
    ["ip", "bogus"],
    ["ipinfo", "10.0.0.1"],
    ["ipinfo", "10.0.0"],
    ["getdebug"],
    ["setdebug", "foobar"],
    ["setdebug"],
    ["setifacelink", "eth0", "down"],
    ["setifacelink", "a-very-long-interface-name", "down"],
    ["unban"],
    ["continue"],
    ["enable"],
    ["checktcpport"],
    ["gettickles", "10.0.0.1"],
    ["-X", "gettickles", "10.0.0.1", "445"],
    ["gettickles", "bogus"],
    ["gettickles"],
    ["addtickle", "10.0.0.1:445", "10.0.0.2:5000"],
    ["deltickle", "10.0.0.1:445", "10.0.0.2:5000"],
    ["addtickle", "10.0.0.1", "10.0.0.2:5000"],
    ["deltickle", "10.0.0.1:445"],
    ["delip", "10.0.0.99"],
    ["delip", "bogus"],
    ["addip", "10.0.0.99", "eth0"],
    ["addip", "10.0.0.99/24"],
    ["moveip", "10.0.0.99", "x"],
    ["moveip", "bogus", "0"],
    ["moveip", "10.0.0.99", "4294967295"],
    ["reloadnodes"],
    ["-T", "5", "ipreallocate"],
    ["ipreallocate", "x"],
    ["-T", "5", "sync"],
    ["-T", "5", "reloadips"],
    ["reloadips", "7"],
    ["reloadips", "a", "b"],
  ];
  for (const argv of plain) {
    it(`same output: ${argv.join(" ")}`, async () => {
      await same(argv);
    });
  }

  it("same layout: statistics and stats (counters normalised)", async () => {
    const digits = (s: string) => s.replace(/[0-9]+(\.[0-9]+)?/g, "N");
    await same(["statistics"], digits);
    await same(["-X", "statistics"], digits);
    await same(["stats", "2"], digits);
    await same(["-X", "stats", "1"], digits);
    await same(["statistics", "x"]);
    await same(["statisticsreset"]);
  });

  it("same output: uptime and ping (times normalised)", async () => {
    await same(["uptime"], (s) => s.replace(/[0-9]/g, "9"));
    await same(["ping"], (s) => s.replace(/time=[0-9.]+/, "time=T"));
  });

  it("setvar by tandem is seen by ctdb", async () => {
    const before = real(["getvar", "RecoverInterval"]);
    assert.equal((await ours(["setvar", "RecoverInterval", "3"])).rc, 0);
    assert.equal(real(["getvar", "RecoverInterval"]).stdout, "RecoverInterval            = 3\n");
    assert.equal((await ours(["setvar", "RecoverInterval", before.stdout.split("=")[1]!.trim()])).rc, 0);
    assert.deepEqual(real(["getvar", "RecoverInterval"]), before);
  });

  it("setdebug by tandem is seen by ctdb", async () => {
    const before = real(["getdebug"]).stdout.trim();
    assert.deepEqual(await ours(["setdebug", "DEBUG"]), { rc: 0, stdout: "", stderr: "" });
    assert.equal(real(["getdebug"]).stdout, "DEBUG\n");
    await same(["getdebug"]);
    assert.equal((await ours(["setdebug", before])).rc, 0);
    assert.equal(real(["getdebug"]).stdout, `${before}\n`);
  });

  it("database metadata: same output once databases are attached", async () => {
    assert.equal(real(["attach", "tandem_volatile.tdb"]).rc, 0);
    assert.equal(real(["attach", "tandem_persistent.tdb", "persistent"]).rc, 0);
    await same(["getdbmap"]);
    await same(["-X", "getdbmap"]);
    await same(["getdbstatus", "tandem_volatile.tdb"]);
    await same(["getdbstatus", "tandem_persistent.tdb"]);
    await same(["getdbstatus", "0xdeadc0de"]);
    await same(["getdbstatus", "nosuch.tdb"]);
    await same(["getdbseqnum", "tandem_persistent.tdb"]);
    await same(["setdbreadonly", "tandem_persistent.tdb"]);
    await same(["setdbsticky", "tandem_persistent.tdb"]);
    assert.deepEqual(await ours(["setdbsticky", "tandem_volatile.tdb"]), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(await ours(["setdbreadonly", "tandem_volatile.tdb"]), { rc: 0, stdout: "", stderr: "" });
    assert.match(real(["getdbstatus", "tandem_volatile.tdb"]).stdout, /STICKY: yes\nREADONLY: yes\n/);
    await same(["getdbmap"]);
    const id = /dbid: (0x[0-9a-f]+)/.exec(real(["getdbstatus", "tandem_volatile.tdb"]).stdout)?.[1];
    assert.ok(id !== undefined);
    await same(["getdbstatus", id]);
  });

  it("attach / detach by tandem, as ctdb sees them", async () => {
    assert.deepEqual(await ours(["attach", "tandem_attach.tdb"]), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(await ours(["attach", "tandem_attach_p.tdb", "persistent"]), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(await ours(["attach", "tandem_attach_r.tdb", "readonly"]), { rc: 0, stdout: "", stderr: "" });
    assert.match(real(["getdbstatus", "tandem_attach.tdb"]).stdout, /PERSISTENT: no\n/);
    assert.match(real(["getdbstatus", "tandem_attach_p.tdb"]).stdout, /PERSISTENT: yes\n/);
    assert.match(real(["getdbstatus", "tandem_attach_r.tdb"]).stdout, /READONLY: yes\n/);
    await same(["attach", "tandem_attach.tdb", "bogus"]);
    await same(["attach"]);
    await same(["detach", "tandem_attach.tdb"]);
    assert.equal(real(["setvar", "AllowClientDBAttach", "0"]).rc, 0);
    try {
      await same(["detach", "tandem_attach_p.tdb"]);
      await same(["detach", "nosuch.tdb"]);
      // Not the readonly one: CTDB 4.17's daemon crashes detaching a database with read-only records enabled.
      assert.deepEqual(await ours(["detach", "tandem_attach.tdb"]), { rc: 0, stdout: "", stderr: "" });
      assert.doesNotMatch(real(["getdbmap"]).stdout, /tandem_attach\.tdb/);
    } finally {
      real(["setvar", "AllowClientDBAttach", "1"]);
    }
  });

  it("catdb: same dump of volatile and persistent databases", async () => {
    assert.equal(real(["attach", "tandem_cat.tdb"]).rc, 0);
    assert.equal(real(["writekey", "tandem_cat.tdb", "alpha", "one"]).rc, 0);
    assert.equal(real(["writekey", "tandem_cat.tdb", "quote\"back\\slash", "x\ty"]).rc, 0);
    assert.equal(real(["attach", "tandem_cat_p.tdb", "persistent"]).rc, 0);
    assert.equal(real(["pstore", "tandem_cat_p.tdb", "k1", "v1"]).rc, 0);
    await same(["catdb", "tandem_cat.tdb"]);
    await same(["catdb", "tandem_cat_p.tdb"]);
    await same(["catdb", "nosuch.tdb"]);
    await same(["catdb"]);
    await same(["-n", "0", "catdb", "tandem_cat.tdb"]);
  });

  it("wipedb by tandem empties the database as ctdb sees it", async () => {
    assert.equal(real(["attach", "tandem_wipe.tdb", "persistent"]).rc, 0);
    assert.equal(real(["pstore", "tandem_wipe.tdb", "k1", "v1"]).rc, 0);
    assert.match(real(["catdb", "tandem_wipe.tdb"]).stdout, /key\(2\) = "k1"\n/);
    assert.deepEqual(await ours(["wipedb", "tandem_wipe.tdb"]), { rc: 0, stdout: "Database tandem_wipe.tdb wiped\n", stderr: "" });
    assert.match(real(["catdb", "tandem_wipe.tdb"]).stdout, /^Dumped 0 records\n$/);
    await same(["wipedb", "tandem_wipe.tdb"]);
    await same(["wipedb", "nosuch.tdb"]);
    await same(["wipedb"]);
  });

  it("process-exists and roles: same output", async () => {
    const pid = String(daemon?.pid);
    await same(["process-exists", pid]);
    await same(["process-exists", "999999"]);
    await same(["process-exists", pid, "0x1234"]);
    await same(["process-exists"]);
    await same(["setlmasterrole", "on"]);
    await same(["setleaderrole", "on"]);
    await same(["setleaderrole", "maybe"]);
    await same(["getcapabilities"]);
  });

  it("recover by tandem starts a new generation", async () => {
    const gen = () => /Generation:([0-9]+)/.exec(real(["status"]).stdout)?.[1];
    const before = gen();
    assert.deepEqual(await ours(["recover"]), { rc: 0, stdout: "", stderr: "" });
    assert.notEqual(gen(), before);
    await same(["recover", "x"]);
  });

  it("memory reports: same first line", async () => {
    const first = (o: Out) => ({ rc: o.rc, line: o.stdout.split("\n")[0]?.replace(/[0-9]+/g, "N"), stderr: o.stderr });
    assert.deepEqual(first(await ours(["dumpmemory"])), first(real(["dumpmemory"])));
    assert.deepEqual(first(await ours(["-T", "10", "rddumpmemory"])), first(real(["-T", "10", "rddumpmemory"])));
  });

  it("disable / enable by tandem, as ctdb reports them", async () => {
    const d = await ours(["disable"]);
    assert.deepEqual(d, { rc: 0, stdout: "", stderr: "" });
    const n = real(["nodestatus"]);
    assert.equal(n.rc, 4);
    assert.match(n.stdout, /^pnn:0 127\.[0-9.]+ +DISABLED \(THIS NODE\)\n$/);
    await same(["nodestatus"]);
    await same(["-X", "status"]);
    await same(["disable"]);
    const e = await ours(["enable"]);
    assert.deepEqual(e, { rc: 0, stdout: "", stderr: "" });
    assert.equal(real(["nodestatus"]).rc, 0);
    await same(["enable"]);
  });
});
