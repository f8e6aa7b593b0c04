// Issue 8's acceptance in the namespace bed, with tandemd and CTDB's shipped
// 00.ctdb and 10.interface: after a fault the address ends on another healthy
// node, the client's next connection is answered there, its held connection
// is reset rather than left hanging, and no address is ever configured on two
// nodes (followed throughout). Needs root.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type AddrWatch, watchAddresses } from "../support/netbed/addr-watch.ts";
import { allHosted, type BedClient, type BedCluster, FLOATING, startBedCluster, startClient } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const skip = bedUnavailable();
let bed: Bed | undefined;
let cluster: BedCluster | undefined;
let client: BedClient | undefined;
let watch: AddrWatch | undefined;

before(async () => {
  if (skip !== undefined) return;
  bed = makeBed();
  cluster = startBedCluster(bed, { impl: "tandem", iface: "ctdb", basePort: 44010, servicePort: 44011 });
  watch = await watchAddresses(bed);
  for (let pnn = 0; pnn < 3; pnn++) cluster.start(pnn);
  client = startClient(bed, cluster.servicePort);
});
after(async () => {
  client?.stop();
  watch?.stop();
  await cluster?.stop();
  await bed?.remove();
});

test("kill -9 of the daemon hosting an address: it moves, the client is answered elsewhere and its old connection reset", { timeout: 120_000 }, async (t) => {
  if (skip !== undefined || !cluster || !client || !watch) return t.skip(skip);
  const c = cluster;
  // The first node to be healthy hosts everything until the others are: wait for a spread.
  let map: Map<string, number> | undefined;
  let leader = -1;
  const deadline = Date.now() + 60_000;
  do {
    map = await allHosted(c, 0, 60_000);
    leader = Number((await c.tool(0, ["leader"])).stdout.trim());
  } while (map !== undefined && !FLOATING.some((a) => map!.get(a) !== leader) && Date.now() < deadline);
  assert.ok(map, c.log(0));
  const addr = FLOATING.find((a) => map!.get(a) !== leader);
  assert.ok(addr, `an address away from the leader: ${JSON.stringify([...map])}`);
  const victim = map.get(addr)!;
  const held = await client.waitFor((e) => e.kind === "held" && e.addr === addr && e.node === `node${victim}`, 10_000);
  assert.ok(held, `a held connection to ${addr} on node ${victim}`);
  const t0 = Date.now();
  c.signal(victim, "SIGKILL");
  const end = await client.waitFor((e) => e.kind === "held-end" && e.addr === addr && e.t >= t0, 30_000, t0);
  assert.equal(end?.error, "ECONNRESET", "the old connection is reset");
  const moved = await client.waitFor((e) => e.kind === "answer" && e.addr === addr && e.node !== `node${victim}`, 30_000, t0);
  assert.ok(moved, `${addr} answered by another node`);
  const survivor = (victim + 1) % 3;
  const after = await allHosted(c, survivor, 30_000);
  assert.ok(after && after.get(addr) !== victim, "the cluster names another host");
  assert.equal(watch.hostOf(addr), after.get(addr), "configured where the cluster says");
  t.diagnostic(`reset after ${end!.t - t0} ms, answered by ${moved.node} after ${moved.t - t0} ms`);
  assert.deepEqual(watch.overlaps, [], "no address on two nodes");
  assert.deepEqual(watch.verify(), []);
});
