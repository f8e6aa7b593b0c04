// Our client against the REAL ctdbd 4.17 (Debian's), started here in CTDB's
// test mode on a private loopback address: the decoders must read what the
// genuine daemon sends. Skipped when ctdbd is not installed or cannot start.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CtdbClient } from "../../src/client/client.ts";
import * as C from "../../src/client/controls.ts";
import { Capability, Control, Runstate, TUNABLE_LIST_ORDER, UNKNOWN_PNN } from "../../src/protocol/constants.ts";

const CTDBD = "/usr/sbin/ctdbd";
let dir = "";
let child: ChildProcess | undefined;
let client: CtdbClient | undefined;
let skipReason: string | undefined = existsSync(CTDBD) ? undefined : "ctdbd is not installed";

/** Waits for p, at most ms, without leaving a timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

before(async () => {
  if (skipReason) return;
  dir = mkdtempSync(join(tmpdir(), "tandem-real-ctdbd-"));
  const addr = `127.0.0.${200 + (process.pid % 50)}`;
  for (const d of ["run", "var/db/volatile", "var/db/persistent", "var/db/state", "events/legacy"]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  writeFileSync(join(dir, "nodes"), `${addr}\n`);
  writeFileSync(
    join(dir, "ctdb.conf"),
    [
      "[logging]",
      `\tlocation = file:${join(dir, "log.ctdb")}`,
      "\tlog level = NOTICE",
      "[cluster]",
      `\tnode address = ${addr}`,
      "[database]",
      `\tvolatile database directory = ${join(dir, "var/db/volatile")}`,
      `\tpersistent database directory = ${join(dir, "var/db/persistent")}`,
      `\tstate database directory = ${join(dir, "var/db/state")}`,
      "[failover]",
      "\tdisabled = true",
      "[legacy]",
      "\trealtime scheduling = false",
      "",
    ].join("\n"),
  );
  child = spawn(CTDBD, ["-i"], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", CTDB_TEST_MODE: "yes", CTDB_BASE: dir },
    stdio: "ignore",
  });
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const sock = join(dir, "run", "ctdbd.socket");
  if (!(await waitFor(() => exited || existsSync(sock), 10_000)) || exited) {
    skipReason = "ctdbd did not start here";
    return;
  }
  for (let i = 0; i < 50 && !client; i++) {
    try {
      client = await CtdbClient.connect(sock, { timeoutMs: 5000 });
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!client) skipReason = "could not connect to the started ctdbd";
});

after(async () => {
  client?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child!.once("exit", r));
    child.kill("SIGTERM");
    await within(gone, 5000);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function log(): string {
  try {
    return readFileSync(join(dir, "log.ctdb"), "utf8").slice(-2000);
  } catch {
    return "(no log)";
  }
}

test("GET_PNN, node map, vnn map, recmode, pid, capabilities from a real ctdbd", async (t) => {
  if (skipReason || !client) return t.skip(skipReason);
  const c = client;
  assert.equal(c.pnn, 0);
  assert.equal(await C.getPnn(c, 0), 0);
  const nm = await C.getNodemap(c, 0);
  assert.deepEqual(nm.nodes.map((n) => n.pnn), [0]);
  assert.match(nm.nodes[0]!.addr, /^127\.0\.0\.\d+$/);
  assert.equal(await C.getPid(c, 0), child!.pid);
  assert.ok((await C.ping(c, 0)) >= 1);
  assert.equal(await C.getCapabilities(c, 0), Capability.DEFAULT);
  const rs = await C.getRunstate(c, 0);
  assert.ok(rs >= Runstate.INIT && rs <= Runstate.RUNNING, `runstate ${rs}`);
  const vnn = await C.getVnnmap(c, 0);
  assert.ok(Array.isArray(vnn.map));
  assert.ok([0, 1].includes(await C.getRecmode(c, 0)));
  const up = await C.getUptime(c, 0);
  assert.ok(up.currentTime.sec >= up.ctdbdStartTime.sec && up.ctdbdStartTime.sec > 1_000_000_000, log());
  assert.equal(await C.getReclockFile(c, 0), "");
  assert.deepEqual(await C.getPublicIps(c, 0), []);
});

test("tunables from a real ctdbd", async (t) => {
  if (skipReason || !client) return t.skip(skipReason);
  const c = client;
  const names = await C.listTunables(c, 0);
  assert.ok(names.includes("MonitorInterval") && names.includes("AllowMixedVersions"));
  for (const n of names) assert.ok(TUNABLE_LIST_ORDER.includes(n), n);
  const all = await C.getAllTunables(c, 0);
  assert.equal(all.length, 62);
  assert.equal(all[TUNABLE_LIST_ORDER.indexOf("MonitorInterval")], await C.getTunable(c, 0, "MonitorInterval"));
  assert.equal(await C.setTunable(c, 0, "MonitorInterval", 17), 0);
  assert.equal(await C.getTunable(c, 0, "MonitorInterval"), 17);
  assert.equal(await C.setTunable(c, 0, "NoSuchTunable", 1), -1);
  await assert.rejects(C.getTunable(c, 0, "NoSuchTunable"), (e: unknown) => e instanceof C.ControlError && e.opcode === Control.GET_TUNABLE);
});

test("a real ctdbd broadcasts the leader and delivers our own messages", async (t) => {
  if (skipReason || !client) return t.skip(skipReason);
  const c = client;
  assert.equal(await c.waitForLeader(15_000), 0, log());
  const got: string[] = [];
  const srvid = 0xbe00000000000000n | BigInt(process.pid);
  await c.registerSrvid(srvid, (d) => got.push(d.toString()));
  c.sendMessage(0, srvid, Buffer.from("ping"));
  assert.ok(await waitFor(() => got.length > 0, 3000));
  assert.deepEqual(got, ["ping"]);
  await c.deregisterSrvid(srvid);
  assert.notEqual(await c.waitForLeader(100), UNKNOWN_PNN);
});

test("SHUTDOWN stops the real ctdbd", async (t) => {
  if (skipReason || !client) return t.skip(skipReason);
  const exited = new Promise((r) => child!.once("exit", r));
  try {
    await C.shutdown(client, 0, 10_000);
  } catch (e) {
    // ctdbd may exit before its reply is flushed
    assert.match((e as Error).message, /closed/);
  }
  await within(exited, 15_000);
  assert.ok(child!.exitCode !== null || child!.signalCode !== null, "ctdbd exited");
});
