// tandemd in the network bed: three nodes in their own namespaces form a
// cluster over the bridge, and the real ctdb tool reaches each node from its
// namespace. Needs root.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { allHealthy, waitUntil } from "../../src/local/ready.ts";
import { hasRealCtdb } from "../support/cluster.ts";
import { type BedCluster, startBedCluster } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const skip = bedUnavailable();
let bed: Bed | undefined;
let cluster: BedCluster | undefined;

before(() => {
  if (skip !== undefined) return;
  bed = makeBed();
  cluster = startBedCluster(bed, { impl: "tandem" });
  for (let pnn = 0; pnn < 3; pnn++) cluster.start(pnn);
});
after(async () => {
  await cluster?.stop();
  await bed?.remove();
});

test("tandemd forms a cluster across the bed's namespaces", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !cluster) return t.skip(skip);
  const c = cluster;
  const view = await waitUntil(c.layout.socket(0), allHealthy, 30_000);
  assert.ok(view, c.log(0));
  if (!hasRealCtdb) return;
  for (let pnn = 0; pnn < 3; pnn++) {
    const r = await c.tool(pnn, ["pnn"]);
    assert.equal(r.stdout.trim(), String(pnn), r.stderr);
  }
  const list = await c.tool(2, ["listnodes"]);
  assert.equal(list.stdout, "192.0.2.10\n192.0.2.11\n192.0.2.12\n");
});
