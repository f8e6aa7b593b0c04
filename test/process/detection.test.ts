// How fast a hung node is declared gone: Tandem's peer timeout by default,
// CTDB's keepalive tunables exactly when they are set.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Flag } from "../../src/cluster/types.ts";
import { startCluster, type TestCluster } from "../support/cluster.ts";

const disconnected = (v: { flags: number[] }, pnn: number) => ((v.flags[pnn] ?? 0) & Flag.DISCONNECTED) !== 0;

/** SIGSTOPs a node that does not lead; returns it and a node that watches. */
async function freezeFollower(cluster: TestCluster): Promise<{ frozen: number; watcher: number }> {
  const { leader } = await cluster.waitHealthy();
  const frozen = leader === 2 ? 1 : 2;
  const watcher = [0, 1, 2].find((p) => p !== frozen) as number;
  cluster.kill(frozen, "SIGSTOP");
  return { frozen, watcher };
}

describe("hung node detection", () => {
  test("at Tandem's defaults a SIGSTOPped node is DISCONNECTED on the others within seconds", async (t) => {
    const cluster = await startCluster("detect-default", 41000);
    try {
      const { frozen, watcher } = await freezeFollower(cluster);
      const began = Date.now();
      try {
        // With CTDB's default keepalives (5 s × 5) this would take 25 s.
        await cluster.waitFor((v) => disconnected(v, frozen), watcher, 8000);
        t.diagnostic(`DISCONNECTED seen after ${Date.now() - began} ms`);
        const other = [0, 1, 2].find((p) => p !== frozen && p !== watcher) as number;
        await cluster.waitFor((v) => disconnected(v, frozen), other, 8000);
      } finally {
        cluster.kill(frozen, "SIGCONT");
      }
      await cluster.waitHealthy(20_000, watcher);
    } finally {
      await cluster.stop();
    }
  });

  test("with KeepaliveInterval set in ctdb.tunables, CTDB's keepalives apply (5 s × 5)", async () => {
    const cluster = await startCluster("detect-ctdb", 41010, { tunables: ["KeepaliveInterval=5"] });
    try {
      const { frozen, watcher } = await freezeFollower(cluster);
      try {
        // Well past Tandem's 1.5 s, far short of CTDB's 25 s.
        await new Promise((resolve) => setTimeout(resolve, 5000));
        const view = await cluster.waitFor(() => true, watcher);
        assert.ok(!disconnected(view, frozen), "still connected: CTDB's keepalive limit is not reached");
      } finally {
        cluster.kill(frozen, "SIGCONT");
      }
    } finally {
      await cluster.stop();
    }
  });
});
