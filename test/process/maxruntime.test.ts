// -T ends what the tool started: a helper (here standing in for ctdb_natgw,
// started through CTDB_NATGW_HELPER as ctdb allows) and its own children are
// ended with it, and nothing they print later leaks into the output. The real
// ctdb is run the same way, side by side.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { alive, sleep } from "../../src/local/cluster.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM } from "../support/cluster.ts";

test("-T ends the helper and its children; only the timeout message is printed", async () => {
  const cluster = await startCluster("maxruntime", 47060, { nodes: 1 });
  try {
    await cluster.waitHealthy();
    const dir = cluster.layout.root;
    const helper = path.join(dir, "slow-natgw");
    // A helper that starts a child of its own, then is slow to answer.
    fs.writeFileSync(
      helper,
      `#!/bin/sh\nsleep 30 &\necho $$ $! > "$PIDS"\nsleep 3\necho "late error" >&2\necho "late output"\n`,
      { mode: 0o755 },
    );
    const tools: [string, string, string[]][] = [["tandem", process.execPath, [TANDEM]]];
    if (hasRealCtdb) tools.push(["ctdb", CTDB, []]);
    const results: Record<string, { code: number; stdout: string; stderr: string }> = {};
    for (const [name, program, pre] of tools) {
      const pidsFile = path.join(dir, `${name}.pids`);
      const env = { ...cluster.env(0), CTDB_NATGW_HELPER: helper, PIDS: pidsFile };
      const r = await run(program, [...pre, "-T", "1", "natgw", "leader"], env);
      results[name] = r;
      const pids = fs.readFileSync(pidsFile, "utf8").trim().split(" ").map(Number);
      const deadline = Date.now() + 3000;
      while (pids.some(alive) && Date.now() < deadline) await sleep(50);
      for (const pid of pids) {
        const still = alive(pid);
        if (still) process.kill(pid, "SIGKILL");
        assert.equal(still, false, `${name}: process ${pid} started by the helper outlived -T`);
      }
    }
    assert.deepEqual(results["tandem"], { code: 1, stdout: "", stderr: "Maximum runtime exceeded - exiting\n" });
    if (results["ctdb"] !== undefined) assert.deepEqual(results["tandem"], results["ctdb"]);
  } finally {
    await cluster.stop();
  }
});
