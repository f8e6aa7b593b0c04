// Node versions: a node announcing an older minor of the transport joins (a
// rolling upgrade), one announcing another major is refused with a log line
// naming both versions, and `tandem versions` shows what each node speaks.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { sleep, startNode } from "../../src/local/cluster.ts";
import { formatVersion, TRANSPORT_VERSION } from "../../src/transport/version.ts";
import { run, startCluster, TANDEM } from "../support/cluster.ts";

const OURS = formatVersion(TRANSPORT_VERSION);

test("rolling upgrade within a major; another major is refused and shown", async () => {
  const cluster = await startCluster("versions", 47040, { skipNodes: [2] });
  try {
    // Node 2 still runs the previous minor (a hello without a version, as before versions were announced, is 1.0).
    cluster.pids[2] = startNode(cluster.layout, 2, { TANDEM_TEST_TRANSPORT_VERSION: "1.0" });
    await cluster.waitHealthy();
    const mixed = await run(process.execPath, [TANDEM, "versions"], cluster.env(0));
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.match(mixed.stdout, new RegExp(`^pnn:0 127\\.0\\.0\\.1 +transport ${OURS.replace(".", "\\.")} \\(this node\\)$`, "m"));
    assert.match(mixed.stdout, /^pnn:2 127\.0\.0\.3 +transport 1\.0 \(joined\)$/m);
    // `status` stays ctdb's: no versions in it.
    assert.doesNotMatch((await run(process.execPath, [TANDEM, "status"], cluster.env(0))).stdout, /transport/);

    // Node 2 "upgraded" to an incompatible major: it must not join.
    cluster.kill(2);
    await cluster.waitFor((v) => (v.flags[2]! & 1) !== 0, 0);
    cluster.pids[2] = startNode(cluster.layout, 2, { TANDEM_TEST_TRANSPORT_VERSION: "2.0" });
    const log2 = path.join(cluster.layout.nodeBase(2), "log.ctdb");
    const log0 = path.join(cluster.layout.nodeBase(0), "log.ctdb");
    const wanted = new RegExp(`Node 0 speaks Tandem transport version ${OURS.replace(".", "\\.")}, incompatible with this node's 2\\.0: not joining it`);
    const deadline = Date.now() + 10_000;
    while (!(fs.existsSync(log2) && wanted.test(fs.readFileSync(log2, "utf8"))) && Date.now() < deadline) await sleep(100);
    assert.match(fs.readFileSync(log2, "utf8"), wanted);
    assert.match(fs.readFileSync(log0, "utf8"), /Node 2 speaks Tandem transport version 2\.0, incompatible with this node's/);
    await sleep(500);
    const view = await cluster.waitFor((v) => (v.flags[2]! & 1) !== 0 && v.flags[0] === 0 && v.flags[1] === 0, 0);
    assert.equal(view.flags[2]! & 1, 1, "node 2 stays disconnected");
    const refused = await run(process.execPath, [TANDEM, "--json", "versions"], cluster.env(0));
    const rows = (JSON.parse(refused.stdout) as { nodes: { pnn: number; transport: string; state: string }[] }).nodes;
    assert.deepEqual(rows.find((r) => r.pnn === 2), { pnn: 2, address: "127.0.0.3", transport: "2.0", state: "incompatible, not joined" });
  } finally {
    await cluster.stop();
  }
});
