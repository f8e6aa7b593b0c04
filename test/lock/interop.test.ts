// Our in-process fcntl lock against CTDB's real ctdb_mutex_fcntl_helper on
// the same file: they must exclude each other.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { createClusterLock } from "../../src/lock/cluster-lock.ts";
import { eventsOf, killPid, nextEvent, REAL_HELPER, sleep, tempDir, waitPidGone } from "./harness.ts";

const haveHelper = fs.existsSync(REAL_HELPER);

/** Runs the real helper; resolves with its first stdout byte (or "" at EOF). */
function runRealHelper(args: string[]): { child: ChildProcess; status: Promise<string> } {
  const child = spawn(REAL_HELPER, args, { stdio: ["ignore", "pipe", "inherit"] });
  const status = new Promise<string>((resolve) => {
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString("latin1", 0, 1)));
    child.stdout!.once("end", () => resolve(""));
  });
  return { child, status };
}

test("real helper sees our in-process lock as contention ('1')", { skip: !haveHelper && "no CTDB helper" }, async () => {
  const dir = tempDir("interop1");
  const file = path.join(dir, "reclock");
  const ours = createClusterLock(file);
  let pid: number | undefined;
  try {
    const ev = eventsOf(ours);
    ours.take();
    assert.equal((await nextEvent(ev)).kind, "held");
    const h = runRealHelper([file]);
    pid = h.child.pid;
    assert.equal(await h.status, "1");
    ours.release();
    // Once we let go, the real helper wins.
    const h2 = runRealHelper([file]);
    const pid2 = h2.child.pid;
    try {
      assert.equal(await h2.status, "0");
    } finally {
      killPid(pid2, "SIGTERM");
      if (pid2 !== undefined) await waitPidGone(pid2, 3000);
    }
  } finally {
    ours.close();
    killPid(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("real helper holding -> ours contended; kill the helper -> ours held", { skip: !haveHelper && "no CTDB helper" }, async () => {
  const dir = tempDir("interop2");
  const file = path.join(dir, "reclock");
  const ours = createClusterLock(file);
  let pid: number | undefined;
  try {
    // Recheck every second so its byte-1 probe runs during the test.
    const h = runRealHelper([file, "1"]);
    pid = h.child.pid;
    assert.equal(await h.status, "0");
    const ev = eventsOf(ours);
    ours.take();
    assert.equal((await nextEvent(ev)).kind, "contended");
    await sleep(1200);
    ours.take();
    assert.equal((await nextEvent(ev)).kind, "contended", "still contended after the helper's recheck");

    const killedAt = Date.now();
    killPid(pid, "SIGKILL");
    ours.take();
    let e = await nextEvent(ev);
    while (e.kind === "contended" && Date.now() - killedAt < 2000) {
      await sleep(5);
      ours.take();
      e = await nextEvent(ev);
    }
    assert.equal(e.kind, "held");
    console.log(`kill -9 of real helper -> ours held after ${e.t - killedAt} ms`);
  } finally {
    ours.close();
    killPid(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
