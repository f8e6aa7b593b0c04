// `tandem failover plan` against three REAL ctdbd 4.17 nodes (Debian's, in
// CTDB's test mode on private loopback addresses, public addresses that are
// never configured): the plan it prints must be the map real CTDB then
// makes when the node is in fact disabled or killed. Skipped when ctdbd is
// not installed.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { alive, sleep, stopPid } from "../../src/local/cluster.ts";
import { CTDB, run, TANDEM } from "../support/cluster.ts";

const CTDBD = "/usr/sbin/ctdbd";
const skip = fs.existsSync(CTDBD) && fs.existsSync(CTDB) ? false : "Debian's ctdb package is not installed";
const NODES = 3;
const PUBLIC_ADDRESSES = ["198.51.100.1/24 lo", "198.51.100.2/24 lo", "198.51.100.3/24 lo", "198.51.100.4/24 lo", "198.51.100.5/24 lo", "2001:db8::1/64 lo", "2001:db8::2/64 lo"];

/** A process and everything it started (ctdbd runs its event daemon and recovery daemon as children). */
function processTree(pid: number): number[] {
  const all = [pid];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) all.push(...processTree(Number(c)));
    }
  } catch {
    // gone meanwhile
  }
  return all;
}

describe("tandem failover plan predicts real CTDB", { skip }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-plan-ctdbd-"));
  // Loopback addresses of this test's own, so other tests' ctdbds do not meet ours.
  const first = 10 + (process.pid % 80) * 3;
  const address = (pnn: number) => `127.0.42.${first + pnn}`;
  const base = (pnn: number) => path.join(root, `node${pnn}`);
  const env = (pnn: number) => ({ CTDB_TEST_MODE: "yes", CTDB_BASE: base(pnn), CTDB_SOCKET: path.join(base(pnn), "run", "ctdbd.socket") });
  const children: (ChildProcess | undefined)[] = [];
  const started: number[] = [];

  const ipAll = async (): Promise<Record<string, number>> => {
    const r = await run(CTDB, ["-X", "ip", "all"], env(0));
    const out: Record<string, number> = {};
    for (const line of r.stdout.split("\n").slice(1)) {
      const [, ip, pnn] = line.split("|");
      if (ip !== undefined && pnn !== undefined) out[ip] = Number(pnn);
    }
    return out;
  };
  const plan = async (args: string[]): Promise<Record<string, number>> => {
    const r = await run(process.execPath, [TANDEM, "failover", "plan", ...args, "--json"], env(0));
    assert.equal(r.code, 0, r.stderr);
    return Object.fromEntries((JSON.parse(r.stdout).addresses as { address: string; planned: number }[]).map((a) => [a.address, a.planned]));
  };
  const waitFor = async (want: Record<string, number>, what: string) => {
    let got: Record<string, number> = {};
    for (let i = 0; i < 120; i++) {
      got = await ipAll();
      if (isDeepStrictEqual(got, want)) return;
      await sleep(500);
    }
    assert.deepEqual(got, want, what);
  };
  const allHosted = (m: Record<string, number>) => Object.keys(m).length === PUBLIC_ADDRESSES.length && Object.values(m).every((p) => p >= 0);

  before(async () => {
    const nodes = Array.from({ length: NODES }, (_, p) => address(p)).join("\n");
    for (let p = 0; p < NODES; p++) {
      const b = base(p);
      for (const d of ["run", "var/db/volatile", "var/db/persistent", "var/db/state", "events/legacy"]) fs.mkdirSync(path.join(b, d), { recursive: true });
      fs.writeFileSync(path.join(b, "nodes"), `${nodes}\n`);
      fs.writeFileSync(path.join(b, "public_addresses"), `${PUBLIC_ADDRESSES.join("\n")}\n`);
      fs.writeFileSync(
        path.join(b, "ctdb.conf"),
        [
          "[logging]",
          `\tlocation = file:${path.join(b, "log.ctdb")}`,
          "\tlog level = NOTICE",
          "[cluster]",
          `\tnode address = ${address(p)}`,
          "[database]",
          `\tvolatile database directory = ${path.join(b, "var/db/volatile")}`,
          `\tpersistent database directory = ${path.join(b, "var/db/persistent")}`,
          `\tstate database directory = ${path.join(b, "var/db/state")}`,
          "[legacy]",
          "\trealtime scheduling = false",
          "",
        ].join("\n"),
      );
      const child = spawn(CTDBD, ["-i"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env(p) }, stdio: "ignore" });
      children[p] = child;
      if (child.pid !== undefined) started.push(child.pid);
    }
    for (let i = 0; i < 120; i++) {
      if (allHosted(await ipAll())) break;
      await sleep(500);
    }
    // Everything any of our ctdbds started, to end it all by PID afterwards.
    for (const c of children) if (c?.pid !== undefined) started.push(...processTree(c.pid).slice(1));
  });

  after(async () => {
    for (const c of children) if (c?.pid !== undefined && alive(c.pid)) c.kill("SIGTERM");
    await Promise.all(started.map((pid) => (alive(pid) ? stopPid(pid, 5000) : undefined)));
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("--disable 1: the plan is the map CTDB makes after ctdb disable", async () => {
    const before = await ipAll();
    assert.ok(allHosted(before), JSON.stringify(before));
    const want = await plan(["--disable", "1"]);
    assert.ok(Object.values(want).every((p) => p !== 1));
    const r = await run(CTDB, ["disable", "-n", "1"], env(0));
    assert.equal(r.code, 0, r.stderr);
    await waitFor(want, "after ctdb disable -n 1");
    assert.equal((await run(CTDB, ["enable", "-n", "1"], env(0))).code, 0);
    // CTDB moves addresses back onto node 1; the plan with no change is then a no-op.
    for (let i = 0; i < 60; i++) {
      if (Object.values(await ipAll()).includes(1)) break;
      await sleep(500);
    }
    await sleep(2000);
    const now = await ipAll();
    assert.deepEqual(await plan([]), now);
  });

  test("--down 2: the plan is the map CTDB makes after node 2's daemon is killed", async () => {
    const want = await plan(["--down", "2"]);
    assert.ok(Object.values(want).every((p) => p !== 2));
    const pid = children[2]?.pid;
    assert.ok(pid !== undefined);
    for (const p of processTree(pid)) process.kill(p, "SIGKILL");
    await waitFor(want, "after kill -9 of node 2");
  });
});
