// The `!helper args` cluster lock: CTDB's real fcntl helper and small fake
// helpers covering every answer of the helper protocol.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { type ClusterLock, createClusterLock } from "../../src/lock/cluster-lock.ts";
import { HelperLock } from "../../src/lock/helper-lock.ts";
import { eventsOf, Holder, killPid, nextEvent, pidAlive, REAL_HELPER, sleep, tempDir, waitPidGone, writeScript } from "./harness.ts";

const haveHelper = fs.existsSync(REAL_HELPER);

function helperPid(lock: ClusterLock): number {
  assert.ok(lock instanceof HelperLock);
  const pid = lock.helperPid;
  assert.ok(pid !== undefined, "a helper is running");
  return pid;
}

/** The helper PID from the lock's debug log. */
function startedPid(logs: string[]): number {
  for (const m of logs) {
    const hit = /started helper pid (\d+)/.exec(m);
    if (hit) return Number(hit[1]);
  }
  assert.fail(`no helper started: ${JSON.stringify(logs)}`);
}

test("real helper through helper-lock: held, contended, lost on removal, release kills it", { skip: !haveHelper && "no CTDB helper" }, async () => {
  const dir = tempDir("real");
  const file = path.join(dir, "reclock");
  const pids: number[] = [];
  const logs: string[] = [];
  const a = createClusterLock(`!${REAL_HELPER} ${file} 1`, { log: (_l, m) => logs.push(m) });
  const b = createClusterLock(`!ctdb_mutex_fcntl_helper ${file}`);
  try {
    assert.equal(a.description, `helper ${REAL_HELPER} ${file} 1`);
    assert.equal(b.description, `helper ${REAL_HELPER} ${file}`);
    const ea = eventsOf(a);
    const eb = eventsOf(b);
    a.take();
    assert.equal((await nextEvent(ea)).kind, "held");
    const pa = helperPid(a);
    pids.push(pa);
    assert.ok(pidAlive(pa));

    b.take();
    assert.equal((await nextEvent(eb)).kind, "contended");

    const removedAt = Date.now();
    fs.rmSync(file);
    const lost = await nextEvent(ea, 5000);
    assert.equal(lost.kind, "lost");
    console.log(`real helper: removal -> lost after ${lost.t - removedAt} ms (recheck 1 s): ${(lost as { reason: string }).reason}`);
    await waitPidGone(pa, 2000);
    assert.ok(
      logs.some((m) => m.includes("lock lost")),
      `the helper's stderr reached the log: ${JSON.stringify(logs)}`,
    );

    b.take();
    assert.equal((await nextEvent(eb)).kind, "held");
    const pb = helperPid(b);
    pids.push(pb);
    b.release();
    const ms = await waitPidGone(pb, 3000);
    console.log(`real helper gone ${ms} ms after release`);
    await sleep(200);
    assert.deepEqual(eb.unclaimed, [], "no lost after release");
    a.take();
    assert.equal((await nextEvent(ea)).kind, "held", "released for real");
    pids.push(helperPid(a));
  } finally {
    a.close();
    b.close();
    for (const p of pids) killPid(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("daemon killed with -9: its helper dies at once (parent-death signal), the lock is free", { skip: !haveHelper && "no CTDB helper" }, async () => {
  const dir = tempDir("pdeath");
  const file = path.join(dir, "reclock");
  let holder: Holder | undefined;
  let hpid: number | undefined;
  try {
    holder = await Holder.start(`!${REAL_HELPER} ${file}`);
    const held = await holder.take();
    assert.equal(held.ev, "held");
    hpid = held.helperPid;
    assert.ok(hpid !== undefined && pidAlive(hpid));
    const killedAt = Date.now();
    await holder.kill("SIGKILL");
    const ms = await waitPidGone(hpid, 7000);
    console.log(`helper gone ${ms} ms after kill -9 of its parent (CTDB's own polling: up to 5000 ms)`);
    assert.ok(ms < 1000, `helper outlived its parent by ${ms} ms`);
    const l = createClusterLock(file);
    try {
      const ev = eventsOf(l);
      l.take();
      assert.equal((await nextEvent(ev)).kind, "held");
      console.log(`lock free ${Date.now() - killedAt} ms after the kill`);
    } finally {
      l.close();
    }
  } finally {
    await holder?.kill();
    killPid(hpid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("without the parent-death signal (as under ctdbd) the real helper outlives a killed parent for seconds", { skip: !haveHelper && "no CTDB helper" }, async () => {
  const dir = tempDir("nopdeath");
  const file = path.join(dir, "reclock");
  let holder: Holder | undefined;
  let hpid: number | undefined;
  try {
    holder = await Holder.start(`!${REAL_HELPER} ${file}`, { noParentDeathSignal: true });
    const held = await holder.take();
    assert.equal(held.ev, "held");
    hpid = held.helperPid;
    assert.ok(hpid !== undefined);
    await holder.kill("SIGKILL");
    await sleep(1000);
    assert.ok(pidAlive(hpid), "helper still running 1 s after its parent died");
    const l = createClusterLock(file);
    try {
      const ev = eventsOf(l);
      l.take();
      assert.equal((await nextEvent(ev)).kind, "contended", "and still holding the lock");
    } finally {
      l.close();
    }
    // It polls kill(ppid, 0) every 5 s from when it took the lock.
    const ms = await waitPidGone(hpid, 6000);
    console.log(`without parent-death signal: helper gone ${1000 + ms} ms after kill -9 of its parent`);
  } finally {
    await holder?.kill();
    killPid(hpid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fake helpers: each status byte, silence, no answer, crash after '0'", async () => {
  const dir = tempDir("fake");
  const pids: number[] = [];
  try {
    const cases: [string, string, string, RegExp | null][] = [
      ["contended", "printf 1; exit 0", "contended", null],
      ["timeout", "printf 2", "timeout", null],
      ["error", "printf 3", "error", /reported an error \(status '3'\)/],
      ["strange", "printf x", "error", /reported an error \(status 'x'\)/],
      ["silent", "echo 'about to fail' >&2; exit 1", "error", /ended without writing a status/],
      // Answers, then lingers: still stopped after its answer.
      ["lingering", "printf 1; exec sleep 30", "contended", null],
    ];
    for (const [name, body, want, reason] of cases) {
      const logs: string[] = [];
      const script = writeScript(dir, name, body);
      const lock = createClusterLock(`!${script} arg1  arg2`, { log: (_l, m) => logs.push(m) });
      try {
        const ev = eventsOf(lock);
        lock.take();
        const e = await nextEvent(ev);
        const pid = startedPid(logs);
        pids.push(pid);
        assert.equal(e.kind, want, name);
        if (reason) assert.match((e as { reason: string }).reason, reason, name);
        await waitPidGone(pid, 3000);
        await sleep(50);
        if (name === "silent") assert.ok(logs.includes("cluster lock helper: about to fail"), JSON.stringify(logs));
        assert.deepEqual(ev.unclaimed, [], `${name}: exactly one event`);
      } finally {
        lock.close();
      }
    }
  } finally {
    for (const p of pids) killPid(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fake helper that never answers: timeout after takeTimeoutMs, and it is killed", async () => {
  const dir = tempDir("noanswer");
  const lock = createClusterLock(`!${writeScript(dir, "mute", "exec sleep 30")}`, { takeTimeoutMs: 300 });
  let pid: number | undefined;
  try {
    const ev = eventsOf(lock);
    const start = Date.now();
    lock.take();
    await sleep(50);
    pid = helperPid(lock);
    const e = await nextEvent(ev, 3000);
    assert.equal(e.kind, "timeout");
    assert.ok(e.t - start >= 290 && e.t - start < 1500, `after ${e.t - start} ms`);
    await waitPidGone(pid, 2000);
  } finally {
    lock.close();
    killPid(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fake helper crashing after '0': held, then lost", async () => {
  const dir = tempDir("crash");
  const lock = createClusterLock(`!${writeScript(dir, "crash", "printf 0; sleep 0.3; kill -9 $$")}`);
  let pid: number | undefined;
  try {
    const ev = eventsOf(lock);
    lock.take();
    assert.equal((await nextEvent(ev)).kind, "held");
    pid = helperPid(lock);
    const lost = await nextEvent(ev, 3000);
    assert.equal(lost.kind, "lost");
    assert.match((lost as { reason: string }).reason, /SIGKILL|end of output/);
    await sleep(100);
    assert.deepEqual(ev.unclaimed, [], "lost only once");
  } finally {
    lock.close();
    killPid(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fake helper ignoring SIGTERM is SIGKILLed about 1 s after release; no lost", async () => {
  const dir = tempDir("stubborn");
  const logs: string[] = [];
  const lock = createClusterLock(`!${writeScript(dir, "stubborn", "trap '' TERM; printf 0; exec sleep 30")}`, {
    log: (_l, m) => logs.push(m),
  });
  let pid: number | undefined;
  try {
    const ev = eventsOf(lock);
    lock.take();
    assert.equal((await nextEvent(ev)).kind, "held");
    pid = helperPid(lock);
    lock.release();
    await sleep(500);
    assert.ok(pidAlive(pid), "SIGTERM is ignored");
    const ms = await waitPidGone(pid, 2000);
    assert.ok(ms > 300, `gone ${ms} ms after the check`);
    assert.ok(logs.some((m) => m.includes("ignored SIGTERM, sending SIGKILL")));
    await sleep(50);
    assert.deepEqual(ev.unclaimed, [], "no lost after release");
  } finally {
    lock.close();
    killPid(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("release during a take cancels it silently and stops the helper", async () => {
  const dir = tempDir("cancel");
  const lock = createClusterLock(`!${writeScript(dir, "slow", "sleep 0.5; printf 0; exec sleep 30")}`);
  let pid: number | undefined;
  try {
    const ev = eventsOf(lock);
    lock.take();
    await sleep(100);
    pid = helperPid(lock);
    lock.release();
    await waitPidGone(pid, 3000);
    await sleep(600);
    assert.deepEqual(ev.unclaimed, []);
  } finally {
    lock.close();
    killPid(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bad helper settings give an error event naming the problem", async () => {
  const dir = tempDir("badhelper");
  try {
    fs.writeFileSync(path.join(dir, "notexec"), "#!/bin/sh\nprintf 0\n", { mode: 0o644 });
    const table: [string, RegExp][] = [
      ["!", /mutex helper command is empty/],
      ["!  \t", /mutex helper command is empty/],
      ["!/nonexistent/helper arg", /cannot run cluster lock helper \/nonexistent\/helper: ENOENT/],
      ["!no_such_helper x", new RegExp(`cannot run cluster lock helper ${dir}/no_such_helper: ENOENT`)],
      [`!${dir}/notexec`, /cannot run cluster lock helper .*notexec: EACCES/],
    ];
    for (const [setting, want] of table) {
      const lock = createClusterLock(setting, { helperBindir: dir });
      try {
        const ev = eventsOf(lock);
        lock.take();
        const e = await nextEvent(ev);
        assert.equal(e.kind, "error", setting);
        assert.match((e as { reason: string }).reason, want, setting);
        // It can be asked again and answers the same way.
        lock.take();
        assert.equal((await nextEvent(ev)).kind, "error");
      } finally {
        lock.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
