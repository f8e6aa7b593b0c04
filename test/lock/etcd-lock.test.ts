// The built-in etcd lock against a real 3-member etcd cluster on loopback.

import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import type { LockEvent } from "../../src/lock/cluster-lock.ts";
import { EtcdLock } from "../../src/lock/etcd-lock.ts";
import { sleep } from "../../src/local/cluster.ts";
import { testPort } from "../support/cluster.ts";
import { type EtcdCluster, hasEtcd, startEtcd } from "../support/etcd.ts";
import { Inbox } from "./harness.ts";

function lockOn(endpoints: string[], holder: string, key: string, ttlSec = 2) {
  const logs: string[] = [];
  const lock = new EtcdLock(
    { endpoints: endpoints.map((e) => e.replace(/^http:\/\//, "")), key, ttlSec },
    { holder, log: (level, msg) => logs.push(`${level}: ${msg}`) },
  );
  const events = new Inbox<LockEvent & { t: number }>();
  lock.onEvent = (e) => events.push({ ...e, t: Date.now() });
  return { lock, events, logs };
}

const outcome = (kinds: string[]) => (e: LockEvent) => kinds.includes(e.kind);

describe("etcd lock (real etcd)", { skip: !hasEtcd }, () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcd("lock", 48000);
  });
  after(async () => {
    await etcd?.stop();
  });

  test("one holder; the other is contended until the holder releases", async () => {
    const a = lockOn(etcd.endpoints, "node a", "t1/lock");
    const b = lockOn(etcd.endpoints.slice(1), "node b", "t1/lock");
    try {
      a.lock.take();
      assert.equal((await a.events.wait(outcome(["held", "contended", "error"]), 10_000, "a's take")).kind, "held");
      b.lock.take();
      assert.equal((await b.events.wait(outcome(["held", "contended", "error"]), 10_000, "b's take")).kind, "contended");
      assert.ok(b.logs.some((l) => /held by node a/.test(l)), b.logs.join("\n"));
      // Keep-alives keep a healthy holder's lease: no loss over two TTLs.
      await sleep(4500);
      assert.deepEqual(a.events.unclaimed.filter((e) => e.kind === "lost"), [], a.logs.join("\n"));
      // A second take while held answers "held" again, without a new attempt.
      a.lock.take();
      assert.equal((await a.events.wait(outcome(["held"]), 1000, "a's repeated take")).kind, "held");
      a.lock.release();
      // The revoke deletes the key at once; b's next try wins well within the TTL.
      const deadline = Date.now() + 1500;
      for (;;) {
        b.lock.take();
        const e = await b.events.wait(outcome(["held", "contended", "error"]), 5000, "b's retry");
        if (e.kind === "held") break;
        assert.ok(Date.now() < deadline, `b still ${e.kind} 1.5 s after a released`);
        await sleep(100);
      }
    } finally {
      a.lock.close();
      b.lock.close();
    }
  });

  test("quorum lost: the holder reports the lock lost before its lease can expire; quorum back: taken again", async () => {
    const a = lockOn(etcd.endpoints, "node a", "t2/lock", 3);
    const b = lockOn(etcd.endpoints, "node b", "t2/lock", 3);
    try {
      a.lock.take();
      assert.equal((await a.events.wait(outcome(["held", "contended", "error"]), 10_000, "a's take")).kind, "held");
      await etcd.kill(1);
      await etcd.kill(2);
      // No keep-alive can be answered after this moment.
      const cut = Date.now();
      const lost = await a.events.wait(outcome(["lost"]), 8000, "a losing the lock");
      // A raft leader left alone still renews leases until it notices it has
      // no quorum (the election timeout, 1 s here); the holder steps down
      // within the TTL of the last keep-alive answered, before any new etcd
      // leader (which restarts every lease's TTL when elected) could expire it.
      assert.ok(lost.t - cut <= 3000 + 1000, `lost after ${lost.t - cut} ms`);
      assert.match(lost.kind === "lost" ? lost.reason : "", /no keep-alive answered by etcd/);
      b.lock.take();
      assert.equal((await b.events.wait(outcome(["held", "contended", "error", "timeout"]), 10_000, "b without quorum")).kind, "error");
      assert.ok(b.logs.some((l) => /did not answer/.test(l)), b.logs.join("\n"));
      etcd.restart(1);
      etcd.restart(2);
      await etcd.waitHealthy(0);
      // a's lease could not be revoked without quorum, so it runs out first.
      const deadline = Date.now() + 15_000;
      let holder: string | undefined;
      while (holder === undefined) {
        assert.ok(Date.now() < deadline, "nobody took the lock after quorum came back");
        for (const [name, x] of [["a", a], ["b", b]] as const) {
          x.lock.take();
          const e = await x.events.wait(outcome(["held", "contended", "error", "timeout"]), 10_000, `${name}'s take`);
          if (e.kind === "held") {
            holder = name;
            break;
          }
        }
        await sleep(200);
      }
      const other = holder === "a" ? b : a;
      other.lock.take();
      assert.equal((await other.events.wait(outcome(["held", "contended", "error"]), 10_000, "the other's take")).kind, "contended");
    } finally {
      a.lock.close();
      b.lock.close();
    }
  });

  test("unreachable etcd: the take fails with an error naming the endpoint", async () => {
    const port = testPort(48040);
    const x = lockOn([`127.0.0.1:${port}`], "node x", "t3/lock");
    try {
      x.lock.take();
      const e = await x.events.wait(outcome(["held", "contended", "error", "timeout"]), 10_000, "the take");
      assert.equal(e.kind, "error");
      assert.match(e.kind === "error" ? e.reason : "", new RegExp(`etcd at 127\\.0\\.0\\.1:${port} did not answer`));
      assert.ok(x.logs.some((l) => l.startsWith("error:") && l.includes(`127.0.0.1:${port}`)), x.logs.join("\n"));
      // The cluster core retries; the same failure is not logged as an error again.
      x.lock.take();
      const again = await x.events.wait(outcome(["held", "contended", "error", "timeout"]), 10_000, "the second take");
      assert.equal(again.kind, "error");
      if (again.kind === "error" && e.kind === "error" && again.reason === e.reason) {
        assert.equal(x.logs.filter((l) => l.startsWith("error:")).length, 1, x.logs.join("\n"));
      }
    } finally {
      x.lock.close();
    }
  });

  test("something else than etcd at the endpoint: an error, not a hang or crash", async () => {
    const server = net.createServer((s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    const port = testPort(48041);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const x = lockOn([`127.0.0.1:${port}`], "node x", "t4/lock");
    try {
      x.lock.take();
      const e = await x.events.wait(outcome(["held", "contended", "error", "timeout"]), 10_000, "the take");
      assert.equal(e.kind, "error");
      assert.match(e.kind === "error" ? e.reason : "", new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      x.lock.close();
      server.close();
    }
  });
});
