// The real ctdbd in the network bed, as the failover figures of real CTDB were
// taken: three nodes with CTDB's shipped 00.ctdb and 10.interface, floating
// addresses on eth0, a client probing each address. Shows the bed runs the
// reference the same way it runs tandemd. Needs root and the ctdb package.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { watchAddresses, type AddrWatch } from "../support/netbed/addr-watch.ts";
import { allHosted, type BedClient, type BedCluster, ctdbdUnavailable, FLOATING, startBedCluster, startClient } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const skip = bedUnavailable() ?? ctdbdUnavailable();
let bed: Bed | undefined;
let cluster: BedCluster | undefined;
let client: BedClient | undefined;
let watch: AddrWatch | undefined;

before(async () => {
  if (skip !== undefined) return;
  bed = makeBed();
  cluster = startBedCluster(bed, { impl: "ctdb", iface: "ctdb" });
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

test("real ctdbd hosts every floating address and fails one over after kill -9", { timeout: 120_000 }, async (t) => {
  if (skip !== undefined || !cluster || !client || !watch) return t.skip(skip);
  const c = cluster;
  const map = await allHosted(c, 0, 60_000);
  assert.ok(map, c.log(0));
  for (const addr of FLOATING) {
    const host: number = map.get(addr)!;
    const seen = await client.waitFor((e) => e.kind === "answer" && e.addr === addr && e.node === `node${host}`, 10_000);
    assert.ok(seen, `${addr} answered by node${host}`);
    assert.equal(watch.hostOf(addr), host, `${addr} configured on node ${host}`);
  }
  const leader = Number((await c.tool(0, ["leader"])).stdout.trim());
  const addr = FLOATING.find((a) => map.get(a) !== leader)!;
  const victim = map.get(addr)!;
  assert.equal(watch.overlaps.length, 0, "no address on two nodes while forming");
  const t0 = Date.now();
  c.signal(victim, "SIGKILL");
  const moved = await client.waitFor((e) => e.kind === "answer" && e.addr === addr && e.node !== `node${victim}`, 30_000, t0);
  assert.ok(moved, `${addr} answered by another node after node ${victim} was killed`);
  t.diagnostic(`client answered by ${moved.node} ${moved.t - t0} ms after kill -9 of node ${victim}`);
  // Real CTDB leaves the dead daemon's addresses configured (Tandem's watchdog removes them).
  t.diagnostic(`addresses on two nodes after the kill: ${JSON.stringify(watch.overlaps.map((o) => [o.address, o.nodes]))}`);
});
