// A leader left alone with the lock file: both followers are SIGSTOPped, so
// the leader sees them fall silent exactly as it would across a cut link,
// while it still reaches the lock file. It must give the lock up (so that a
// larger part could elect), and the cluster must have a leader again once the
// followers run.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Flag } from "../../src/cluster/types.ts";
import { sleep } from "../../src/local/cluster.ts";
import { createClusterLock, type LockEvent } from "../../src/lock/cluster-lock.ts";
import { startCluster } from "../support/cluster.ts";

/** One attempt at the cluster lock from this process: held or not. */
async function tryLock(file: string): Promise<{ held: boolean; release: () => void }> {
  const lock = createClusterLock(file);
  const outcome = await new Promise<LockEvent>((resolve) => {
    lock.onEvent = resolve;
    lock.take();
  });
  if (outcome.kind !== "held") lock.close();
  return { held: outcome.kind === "held", release: () => lock.close() };
}

describe("a leader cut off from the rest", () => {
  test("gives the cluster lock up although it still reaches it, and the cluster leads again after", async () => {
    const cluster = await startCluster("cut-leader", 41020);
    const stopped: number[] = [];
    const resume = () => {
      for (const p of stopped.splice(0)) cluster.kill(p, "SIGCONT");
    };
    try {
      const { leader } = await cluster.waitHealthy();
      const followers = [0, 1, 2].filter((p) => p !== leader);
      assert.equal((await tryLock(cluster.layout.lockFile)).held, false, "the leader holds the lock");
      for (const p of followers) {
        cluster.kill(p, "SIGSTOP");
        stopped.push(p);
      }
      // The leader sees both go (1.5 s at the defaults) and must give the lock up.
      await cluster.waitFor((v) => followers.every((p) => ((v.flags[p] ?? 0) & Flag.DISCONNECTED) !== 0), leader, 10_000);
      let attempt = await tryLock(cluster.layout.lockFile);
      for (let i = 0; !attempt.held && i < 50; i++) {
        await sleep(100);
        attempt = await tryLock(cluster.layout.lockFile);
      }
      assert.ok(attempt.held, "the lone leader still holds the lock");
      attempt.release();
      // Alone, it does not take the lock back.
      await sleep(2000);
      const again = await tryLock(cluster.layout.lockFile);
      assert.ok(again.held, "the lone node raced for the lock again");
      again.release();
      resume();
      await cluster.waitHealthy(20_000);
    } finally {
      resume();
      await cluster.stop();
    }
  });
});
