// CTDB's 11.natgw event script, unmodified, under tandemd and under the real
// ctdbd in the network bed: the NAT gateway leader gets the gateway's public
// address, the masquerading rule and the default route, every other node a
// default route through the leader's private address; when the leader dies
// another node takes the role. Both daemons must leave the same state.
// Needs root, iptables and the ctdb package.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { sleep } from "../../src/local/cluster.ts";
import { type BedCluster, ctdbdUnavailable, type Impl, startBedCluster } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const SCRIPT = "/usr/share/ctdb/events/legacy/11.natgw.script";
const GATEWAY_IP = "198.51.100.50";
const iptablesMissing = ["/usr/sbin/iptables", "/sbin/iptables"].every((f) => !fs.existsSync(f)) ? "iptables is not installed" : undefined;
const skip = bedUnavailable() ?? ctdbdUnavailable() ?? iptablesMissing ?? (fs.existsSync(SCRIPT) ? undefined : "CTDB's 11.natgw is not installed");

const OPTIONS = `CTDB_NATGW_NODES="\${CTDB_BASE}/natgw_nodes"
CTDB_NATGW_PRIVATE_NETWORK=192.0.2.0/24
CTDB_NATGW_PUBLIC_IP=${GATEWAY_IP}/24
CTDB_NATGW_PUBLIC_IFACE=eth0
CTDB_NATGW_DEFAULT_GATEWAY=198.51.100.254
`;

/** What 11.natgw leaves on one node: gateway address, NAT rule, the route it added. */
interface NodeState {
  gatewayAddress: boolean;
  masquerade: boolean;
  route: string;
}

async function nodeState(bed: Bed, pnn: number): Promise<NodeState> {
  const ns = bed.nodeNs[pnn]!;
  const addrs = await bed.exec(ns, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
  const nat = await bed.exec(ns, ["iptables", "-t", "nat", "-S", "POSTROUTING"]);
  const routes = await bed.exec(ns, ["ip", "-4", "route", "show", "default"]);
  return {
    gatewayAddress: addrs.stdout.includes(`inet ${GATEWAY_IP}/24`),
    masquerade: /-A POSTROUTING -s 192\.0\.2\.0\/24 ! -d 192\.0\.2\.0\/24 -j MASQUERADE/.test(nat.stdout),
    route: routes.stdout.trim().replace(/\s+/g, " "),
  };
}

async function natgwLeader(c: BedCluster, via: number): Promise<number> {
  const r = await c.tool(via, ["natgw", "leader"]);
  return Number(r.stdout.split(" ")[0] ?? -1);
}

/** Waits until the leader holds the gateway and every other live node routes through it. */
async function settled(bed: Bed, c: BedCluster, live: number[], timeoutMs: number): Promise<{ leader: number; states: NodeState[] } | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leader = await natgwLeader(c, live[0]!);
    if (live.includes(leader)) {
      const states = await Promise.all(live.map((p) => nodeState(bed, p)));
      const leaderIp = bed.nodeAddress(leader);
      const ok = live.every((p, i) => {
        const s = states[i]!;
        return p === leader
          ? s.gatewayAddress && s.masquerade && s.route === "default via 198.51.100.254 dev eth0 metric 10"
          : !s.gatewayAddress && !s.masquerade && s.route === `default via ${leaderIp} dev eth0 metric 10`;
      });
      if (ok) return { leader, states };
    }
    await sleep(300);
  }
  return undefined;
}

async function runNatgw(impl: Impl, basePort: number): Promise<{ first: number; second: number }> {
  const bed = makeBed();
  let cluster: BedCluster | undefined;
  try {
    cluster = startBedCluster(bed, {
      impl,
      basePort,
      servicePort: basePort + 1,
      setup: (layout) => {
        for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
          const base = layout.nodeBase(pnn);
          fs.symlinkSync(SCRIPT, path.join(base, "events", "legacy", "11.natgw.script"));
          fs.writeFileSync(path.join(base, "script.options"), OPTIONS);
          fs.writeFileSync(path.join(base, "natgw_nodes"), [0, 1, 2].map((p) => `${bed.nodeAddress(p)}\n`).join(""));
        }
      },
    });
    for (let pnn = 0; pnn < 3; pnn++) cluster.start(pnn);
    const c = cluster;
    const first = await settled(bed, c, [0, 1, 2], 90_000);
    assert.ok(first, `${impl}: NAT gateway set up on all nodes\n${c.log(0)}`);
    const survivors = [0, 1, 2].filter((p) => p !== first.leader);
    c.signal(first.leader, "SIGKILL");
    const second = await settled(bed, c, survivors, 60_000);
    assert.ok(second, `${impl}: NAT gateway moved after the leader died\n${c.log(survivors[0]!)}`);
    assert.notEqual(second.leader, first.leader);
    return { first: first.leader, second: second.leader };
  } finally {
    await cluster?.stop();
    await bed.remove();
  }
}

test("11.natgw runs unmodified under tandemd and leaves what it leaves under ctdbd", { skip, timeout: 360_000 }, async () => {
  const tandem = await runNatgw("tandem", 47090);
  const ctdb = await runNatgw("ctdb", 47092);
  // Same NAT gateway nodes file, same node states: the same leader, and the same successor.
  assert.deepEqual(tandem, ctdb);
});
