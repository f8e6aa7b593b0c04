// The in-process fcntl cluster lock, raced between real processes.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { createClusterLock } from "../../src/lock/cluster-lock.ts";
import { queryLock } from "../../src/lock/fcntl.ts";
import { eventsOf, Holder, nextEvent, sleep, tempDir } from "./harness.ts";

/** How many descriptors of process pid are open on file. */
function fdsOn(pid: number, file: string): number {
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).filter((fd) => {
    try {
      return fs.readlinkSync(`${dir}/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

test("two processes on one file: held / contended; SIGKILL of the holder frees it at once; release frees it", async () => {
  const dir = tempDir("race");
  const file = path.join(dir, "reclock");
  const holders: Holder[] = [];
  try {
    const a = await Holder.start(file);
    holders.push(a);
    const b = await Holder.start(file);
    holders.push(b);
    assert.equal(a.description, `fcntl lock on ${file}`);

    assert.equal((await a.take()).ev, "held");
    assert.equal((await b.take()).ev, "contended");
    assert.equal((await b.take()).ev, "contended", "still contended on retry");
    assert.equal(fdsOn(a.pid, file), 1, "the holder keeps one descriptor");
    assert.equal(fdsOn(b.pid, file), 0, "a contended take leaves none");

    // The kernel drops a dead process's record locks: no helper to outlive it.
    const killedAt = Date.now();
    await a.kill("SIGKILL");
    let got = await b.take();
    while (got.ev === "contended" && Date.now() - killedAt < 2000) {
      await sleep(5);
      got = await b.take();
    }
    assert.equal(got.ev, "held");
    const ms = got.t - killedAt;
    console.log(`kill -9 of holder -> other process held after ${ms} ms`);
    assert.ok(ms < 1000, `took ${ms} ms`);

    const c = await Holder.start(file);
    holders.push(c);
    assert.equal((await c.take()).ev, "contended");
    b.send("release");
    await b.inbox.wait((m) => m.ev === "released", 5000, "released");
    assert.equal((await c.take()).ev, "held");
    // A released holder never reports lost, even if the file then goes away.
    fs.rmSync(file);
    await sleep(300);
    assert.deepEqual(
      b.inbox.unclaimed.filter((m) => m.ev === "lost"),
      [],
    );
  } finally {
    for (const h of holders) await h.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("F_GETLK from another process sees the holder's pid on byte 0, length 1 (struct flock layout)", async () => {
  const dir = tempDir("getlk");
  const file = path.join(dir, "reclock");
  let holder: Holder | undefined;
  const fd = fs.openSync(path.join(dir, "reclock"), "a+");
  try {
    assert.equal(queryLock(fd), null, "nobody holds it yet");
    holder = await Holder.start(file);
    assert.equal((await holder.take()).ev, "held");
    assert.deepEqual(queryLock(fd), { type: "write", pid: holder.pid, start: 0, len: 1 });
    assert.equal(queryLock(fd, 1, 1), null, "byte 1 is free");
  } finally {
    fs.closeSync(fd);
    await holder?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("lock file removed while held -> lost within the recheck interval, and the lock is dropped", async () => {
  const dir = tempDir("removed");
  const file = path.join(dir, "reclock");
  const holders: Holder[] = [];
  let oldInode: number | undefined;
  try {
    const a = await Holder.start(file, { recheckIntervalMs: 200 });
    holders.push(a);
    assert.equal((await a.take()).ev, "held");
    // Still held across several rechecks while nothing changes.
    await sleep(500);
    assert.deepEqual(a.inbox.unclaimed.filter((m) => m.ev === "lost"), []);
    oldInode = fs.openSync(file, "r");
    assert.equal((queryLock(oldInode) as { pid: number }).pid, a.pid);
    const removedAt = Date.now();
    fs.rmSync(file);
    const lost = await a.outcome(3000);
    assert.equal(lost.ev, "lost");
    assert.match(lost.reason!, /reclock was removed/);
    const ms = lost.t - removedAt;
    console.log(`removal -> lost after ${ms} ms (recheck 200 ms)`);
    assert.ok(ms <= 200 + 500, `took ${ms} ms`);

    // The removed file's lock was dropped, not just reported.
    assert.equal(queryLock(oldInode), null);
    // Another process gets the recreated file.
    const b = await Holder.start(file);
    holders.push(b);
    assert.equal((await b.take()).ev, "held", "new file takes fine");
  } finally {
    if (oldInode !== undefined) fs.closeSync(oldInode);
    for (const h of holders) await h.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("lock file replaced (renamed over) while held -> lost", async () => {
  const dir = tempDir("replaced");
  const file = path.join(dir, "reclock");
  let a: Holder | undefined;
  try {
    a = await Holder.start(file, { recheckIntervalMs: 200 });
    assert.equal((await a.take()).ev, "held");
    fs.writeFileSync(path.join(dir, "other"), "");
    const at = Date.now();
    fs.renameSync(path.join(dir, "other"), file);
    const lost = await a.outcome(3000);
    assert.equal(lost.ev, "lost");
    assert.match(lost.reason!, /was replaced \(inode changed\)/);
    assert.ok(lost.t - at <= 200 + 500, `took ${lost.t - at} ms`);
    // It can take the new file again.
    assert.equal((await a.take()).ev, "held");
  } finally {
    await a?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a take stuck in the filesystem times out; the late open is discarded", async () => {
  const dir = tempDir("stuck");
  const file = path.join(dir, "reclock");
  const fifo = path.join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  let h: Holder | undefined;
  let writer: number | undefined;
  try {
    h = await Holder.start(file, { takeTimeoutMs: 300 }, { env: { ...process.env, UV_THREADPOOL_SIZE: "1" } });
    h.send(`jam ${fifo}`);
    await sleep(100);
    const start = Date.now();
    const e = await h.take();
    assert.equal(e.ev, "timeout");
    assert.ok(e.t - start >= 290, `after ${e.t - start} ms`);
    // Unblock the filesystem: the stale open completes and must not turn into a "held".
    writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    await h.inbox.wait((m) => m.ev === "unjammed", 3000, "unjammed");
    await sleep(200);
    assert.deepEqual(
      h.inbox.unclaimed.filter((m) => m.ev !== "log"),
      [],
    );
    assert.equal((await h.take()).ev, "held");
    // The stale descriptor was closed: exactly one open on the lock file.
    assert.equal(fdsOn(h.pid, file), 1);
  } finally {
    if (writer !== undefined) fs.closeSync(writer);
    await h?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("two locks in one process on one file: second is contended and does not break the first", async () => {
  const dir = tempDir("inproc");
  const file = path.join(dir, "reclock");
  const l1 = createClusterLock(file);
  const l2 = createClusterLock(file);
  let other: Holder | undefined;
  try {
    const e1 = eventsOf(l1);
    const e2 = eventsOf(l2);
    l1.take();
    assert.equal((await nextEvent(e1)).kind, "held");
    l2.take();
    assert.equal((await nextEvent(e2)).kind, "contended");
    l2.release();
    l2.close();
    // l1 still holds the kernel lock: another process is contended.
    other = await Holder.start(file);
    assert.equal((await other.take()).ev, "contended");
    l1.release();
    assert.equal((await other.take()).ev, "held");
  } finally {
    l1.close();
    l2.close();
    await other?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("take while held answers held again; release is idempotent; closed lock reports an error", async () => {
  const dir = tempDir("idem");
  const file = path.join(dir, "reclock");
  const l = createClusterLock(file, { recheckIntervalMs: 100 });
  try {
    const ev = eventsOf(l);
    l.take();
    assert.equal((await nextEvent(ev)).kind, "held");
    l.take();
    assert.equal((await nextEvent(ev)).kind, "held");
    l.release();
    l.release();
    fs.rmSync(file);
    await sleep(300);
    assert.deepEqual(ev.unclaimed, [], "no lost after release");
    l.close();
    l.take();
    const e = await nextEvent(ev);
    assert.equal(e.kind, "error");
  } finally {
    l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bad lock file paths give an error event naming the problem", async () => {
  const dir = tempDir("bad");
  try {
    fs.writeFileSync(path.join(dir, "plainfile"), "");
    const table: [string, RegExp][] = [
      [path.join(dir, "no-such-dir", "reclock"), /cannot open lock file .*no-such-dir\/reclock: ENOENT/],
      [path.join(dir, "plainfile", "reclock"), /cannot open lock file .*plainfile\/reclock: ENOTDIR/],
      [dir, /cannot open lock file .*: EISDIR/],
      ["", /cluster lock setting is empty/],
    ];
    for (const [setting, want] of table) {
      const logs: string[] = [];
      const l = createClusterLock(setting, { log: (_lvl, msg) => logs.push(msg) });
      try {
        const ev = eventsOf(l);
        l.take();
        const e = await nextEvent(ev);
        assert.equal(e.kind, "error", setting);
        assert.match((e as { reason: string }).reason, want);
        assert.ok(logs.some((m) => want.test(m)), "the error is logged too");
      } finally {
        l.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("unreadable directory (as an unprivileged user) gives EACCES, no crash", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to run the fixture as another user");
    return;
  }
  const dir = tempDir("eacces");
  const locked = path.join(dir, "locked");
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(locked, { mode: 0o000 });
  let h: Holder | undefined;
  try {
    h = await Holder.start(path.join(locked, "reclock"), {}, { uid: 65534, gid: 65534 });
    const e = await h.take();
    assert.equal(e.ev, "error");
    assert.match(e.reason!, /cannot open lock file .*locked\/reclock: EACCES/);
    // The process is still alive and answering.
    assert.equal((await h.take()).ev, "error");
  } finally {
    await h?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
