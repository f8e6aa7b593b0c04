// `tandem natgw` and `tandem lvs` run CTDB's own helpers (ctdb_natgw,
// ctdb_lvs), which ask the daemon for node status through the tool; the
// output must be what the real ctdb prints, byte for byte, against the same
// Tandem cluster, including with a node disabled and for bad input.

import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM } from "../support/cluster.ts";

const FUNCTIONS = "/etc/ctdb/functions";
const skip = !hasRealCtdb || !fs.existsSync("/usr/libexec/ctdb/ctdb_natgw") || !fs.existsSync(FUNCTIONS) ? "CTDB's helpers are not installed" : false;

test("natgw and lvs print what ctdb prints, with CTDB's helpers", { skip }, async () => {
  const cluster = await startCluster("natgw-lvs", 47071, {
    setup: (layout) => {
      for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
        const base = layout.nodeBase(pnn);
        // The helpers source CTDB's functions file from CTDB_BASE.
        fs.copyFileSync(FUNCTIONS, `${base}/functions`);
        fs.writeFileSync(`${base}/natgw_nodes`, "127.0.0.1\n127.0.0.2\n127.0.0.3 follower-only\n");
        fs.writeFileSync(`${base}/lvs_nodes`, "127.0.0.1 follower-only\n127.0.0.2\n127.0.0.3\n");
      }
    },
  });
  try {
    await cluster.waitHealthy();
    const env = cluster.env(0);
    const compare = async (args: string[]) => {
      const ours = await run(process.execPath, [TANDEM, ...args], env);
      const theirs = await run(CTDB, args, env);
      assert.deepEqual(ours, theirs, args.join(" "));
      return ours;
    };
    assert.equal((await compare(["natgw", "leader"])).stdout, "0 127.0.0.1\n");
    assert.equal((await compare(["lvs", "leader"])).stdout, "1\n");
    await compare(["natgw", "list"]);
    await compare(["lvs", "list"]);
    assert.equal((await run(process.execPath, [TANDEM, "-n", "1", "disable"], env)).code, 0);
    await cluster.waitFor((v) => v.flags[1] === 4, 0);
    assert.match((await compare(["natgw", "status"])).stdout, /^pnn:1 127\.0\.0\.2 +DISABLED$/m);
    assert.equal((await compare(["lvs", "leader"])).stdout, "2\n");
    await compare(["lvs", "status"]);
    await compare(["natgw", "bogus"]);
    await compare(["lvs"]);
    fs.rmSync(`${cluster.layout.nodeBase(0)}/natgw_nodes`);
    assert.equal((await compare(["natgw", "list"])).code, 1);
  } finally {
    await cluster.stop();
  }
});
