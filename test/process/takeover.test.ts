// Public address failover under real daemons on 127.0.0.x. Loopback cannot
// carry real address changes, so every node runs an event script that records
// each address event in one shared file (appends from all nodes keep their
// real order); the tests check that order: no address is taken while another
// node holds it, and every running node ran startipreallocate before any node
// takes an address. The real `ctdb` tool drives the daemons, and our tool's
// output must be byte-for-byte the same.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Flag } from "../../src/cluster/types.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const skip = hasRealCtdb ? false : "Debian's ctdb package (its tool) is not installed";
const ADDRESSES = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];

interface Line {
  pnn: number;
  event: string;
  args: string[];
}

function readLog(cluster: TestCluster): Line[] {
  const file = path.join(cluster.layout.shared, "address-events");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [pnn, event, ...args] = l.split(" ");
      return { pnn: Number(pnn), event: event!, args };
    });
}

/**
 * Replays the recorded events and fails on the first one that breaks an
 * invariant. `gone` lists nodes killed (their addresses end with them, as the
 * watchdog removes them) at a position in the log; `idle` nodes (banned)
 * need not run startipreallocate.
 */
function checkOrder(lines: Line[], gone: { pnn: number; at: number }[] = [], idle: (i: number) => Set<number> = () => new Set()): Map<string, number> {
  const holder = new Map<string, number>();
  const graced = new Map<number, boolean>();
  const nodes = new Set(lines.map((l) => l.pnn));
  lines.forEach((l, i) => {
    for (const g of gone) {
      if (g.at !== i) continue;
      nodes.delete(g.pnn);
      for (const [a, p] of holder) if (p === g.pnn) holder.delete(a);
    }
    const where = `event ${i} (${l.pnn} ${l.event} ${l.args.join(" ")})`;
    switch (l.event) {
      case "startipreallocate":
        graced.set(l.pnn, true);
        break;
      case "ipreallocated":
        graced.set(l.pnn, false);
        break;
      case "takeip": {
        const address = l.args[1]!;
        const other = holder.get(address);
        assert.ok(other === undefined || other === l.pnn, `${where}: ${address} is still on node ${other}`);
        for (const n of nodes) {
          if (idle(i).has(n)) continue;
          assert.equal(graced.get(n), true, `${where}: node ${n} has not run startipreallocate for this run`);
        }
        holder.set(address, l.pnn);
        break;
      }
      case "releaseip": {
        const address = l.args[1]!;
        if (holder.get(address) === l.pnn) holder.delete(address);
        break;
      }
      case "updateip":
        assert.equal(holder.get(l.args[2]!), l.pnn, `${where}: moved an address it does not hold`);
        break;
    }
  });
  return holder;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("public address failover under tandemd", { skip }, () => {
  let cluster: TestCluster;
  const ctdb = (args: string[], pnn = 0) => run(CTDB, args, cluster.env(pnn));
  const tandem = (args: string[], pnn = 0) => run(process.execPath, [TANDEM, ...args], cluster.env(pnn));

  /** address -> holder, from `ctdb ip all` on node `via`. */
  async function placement(via = 0): Promise<Map<string, number>> {
    const r = await ctdb(["-X", "ip", "all"], via);
    assert.equal(r.code, 0, r.stderr);
    const out = new Map<string, number>();
    for (const line of r.stdout.split("\n").slice(1)) {
      const [, address, pnn] = line.split("|");
      if (address !== undefined && pnn !== undefined) out.set(address, Number(pnn));
    }
    return out;
  }

  /** Every address hosted by one of `allowed`, as the nodes report and as the scripts did it. */
  async function settled(allowed: number[], via = 0): Promise<Map<string, number>> {
    return until(`addresses on nodes ${allowed}`, async () => {
      const p = await placement(via);
      const ok = ADDRESSES.every((a) => allowed.includes(p.get(a) ?? -1));
      return ok ? p : undefined;
    });
  }

  before(async () => {
    cluster = await startCluster("takeover", 43000, {
      tunables: ["MonitorInterval=1"],
      conf: { cluster: ["leader timeout = 2"] },
      setup: (layout) => {
        const log = path.join(layout.shared, "address-events");
        for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
          const base = layout.nodeBase(pnn);
          fs.writeFileSync(path.join(base, "public_addresses"), ADDRESSES.map((a, i) => `${a}/24 tnd0${i === 2 ? ",tnd1" : ""}\n`).join(""));
          fs.writeFileSync(
            path.join(base, "events", "legacy", "10.record.script"),
            `#!/bin/sh\ncase "$1" in startipreallocate|takeip|releaseip|updateip|ipreallocated) echo "${pnn} $*" >>"${log}" ;; esac\n` +
              `[ "$1" = takeip ] && [ -e "$CTDB_BASE/fail-takeip" ] && exit 1\nexit 0\n`,
            { mode: 0o755 },
          );
        }
      },
    });
  });
  after(async () => {
    await cluster.stop();
  });

  test("once formed, every address is hosted once, spread over the nodes, after startipreallocate everywhere", async () => {
    await cluster.waitHealthy();
    const p = await settled([0, 1, 2]);
    assert.equal(new Set(p.values()).size, 3, `LCP2 spreads three addresses over three nodes: ${[...p]}`);
    const held = checkOrder(readLog(cluster));
    assert.deepEqual(new Map([...held].sort()), new Map([...p].sort()), "the scripts agree with what the nodes report");
  });

  test("ip, ip all, ip -v, -X ip, ifaces and ipinfo print exactly what ctdb prints", async () => {
    await settled([0, 1, 2]);
    for (const args of [["ip"], ["ip", "all"], ["-v", "ip"], ["-X", "ip", "all"], ["-X", "-v", "ip"], ["ifaces"], ["-X", "ifaces"], ["ipinfo", "10.9.0.3"], ["ipinfo", "10.9.9.9"]]) {
      const theirs = await ctdb(args, 1);
      const ours = await tandem(args, 1);
      assert.equal(ours.stdout, theirs.stdout, `stdout of ${args.join(" ")}`);
      assert.equal(ours.stderr, theirs.stderr, `stderr of ${args.join(" ")}`);
      assert.equal(ours.code, theirs.code, `exit code of ${args.join(" ")}`);
    }
    const json = JSON.parse((await tandem(["--json", "ip", "all"], 1)).stdout) as { publicIps: { address: string }[] };
    assert.deepEqual(json.publicIps.map((i) => i.address), ADDRESSES);
  });

  test("moveip moves an address with every node in grace first", async () => {
    const before = await settled([0, 1, 2]);
    const address = ADDRESSES[0]!;
    const to = ((before.get(address) ?? 0) + 1) % 3;
    const mark = readLog(cluster).length;
    const r = await ctdb(["moveip", address, String(to)]);
    assert.equal(r.code, 0, r.stderr);
    const p = await placement(2);
    assert.equal(p.get(address), to);
    const lines = readLog(cluster);
    checkOrder(lines);
    const run = lines.slice(mark);
    const take = run.findIndex((l) => l.event === "takeip" && l.args[1] === address);
    assert.notEqual(take, -1, "the new holder ran takeip");
    assert.deepEqual(new Set(run.slice(0, take).filter((l) => l.event === "startipreallocate").map((l) => l.pnn)), new Set([0, 1, 2]));
  });

  test("disable moves a node's addresses away; enable brings it back into use", async () => {
    await settled([0, 1, 2]);
    assert.equal((await ctdb(["disable"], 2)).code, 0);
    await settled([0, 1]);
    assert.equal((await ctdb(["enable"], 2)).code, 0);
    await until("node 2 hosting again", async () => ([...(await placement()).values()].includes(2) ? true : undefined));
    checkOrder(readLog(cluster));
  });

  test("ban shows BANNED, leaves the node hosting nothing, and is lifted by unban", async () => {
    await settled([0, 1, 2]);
    const r = await ctdb(["-n", "1", "ban", "60"]);
    assert.equal(r.code, 0, r.stderr);
    await cluster.waitFor((v) => (v.flags[1]! & Flag.BANNED) !== 0, 0, 10_000);
    assert.match((await ctdb(["status"])).stdout, /pnn:1 127\.0\.0\.2 +BANNED\|INACTIVE/);
    await settled([0, 2]);
    const ours = await tandem(["status"]);
    assert.equal(ours.stdout, (await ctdb(["status"])).stdout);
    assert.equal((await ctdb(["-n", "1", "unban"])).code, 0);
    await cluster.waitFor((v) => (v.flags[1]! & Flag.BANNED) === 0, 0, 10_000);
    checkOrder(readLog(cluster), [], () => new Set([1]));
  });

  test("addip, delip and reloadips change what a node may host", async () => {
    await settled([0, 1, 2]);
    assert.equal((await ctdb(["addip", "10.9.0.4/24", "tnd0"], 0)).code, 0);
    await until("10.9.0.4 hosted by node 0", async () => ((await placement(0)).get("10.9.0.4") === 0 ? true : undefined));
    assert.equal((await ctdb(["delip", "10.9.0.4"], 0)).code, 0);
    await until("10.9.0.4 gone", async () => ((await placement(0)).has("10.9.0.4") ? undefined : true));
    // Node 2 forgets 10.9.0.3 from its file: its holder must be another node.
    const file = path.join(cluster.layout.nodeBase(2), "public_addresses");
    const saved = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, saved.split("\n").filter((l) => !l.startsWith("10.9.0.3")).join("\n"));
    try {
      assert.equal((await ctdb(["reloadips", "2"], 0)).code, 0);
      await until("10.9.0.3 off node 2", async () => {
        const p = await placement(0);
        return p.get("10.9.0.3") !== undefined && p.get("10.9.0.3") !== 2 ? true : undefined;
      });
    } finally {
      fs.writeFileSync(file, saved);
      await ctdb(["reloadips", "2"], 0);
    }
    checkOrder(readLog(cluster), [], () => new Set([1]));
  });

  test("ipreallocate answers once a run is done; failover history shows the run", async () => {
    const r = await ctdb(["ipreallocate"], 2);
    assert.equal(r.code, 0, r.stderr);
    const h = await tandem(["failover", "history", "--json"], 2);
    assert.equal(h.code, 0, h.stderr);
    const runs = JSON.parse(h.stdout) as { result: string; reasons: string[] }[];
    assert.ok(runs.some((x) => x.result === "ok" && x.reasons.some((why) => /takeover run requested/.test(why))), h.stdout);
  });

  test("kill -9 of a holder: its addresses move to the survivors", async () => {
    await settled([0, 1, 2]);
    const p = await placement();
    const victim = [...p.values()].find((n) => n !== 0)!;
    const mark = readLog(cluster).length;
    cluster.kill(victim);
    const survivors = [0, 1, 2].filter((n) => n !== victim);
    await settled(survivors);
    checkOrder(readLog(cluster), [{ pnn: victim, at: mark }], () => new Set([1]));
    cluster.start(victim);
    await cluster.waitHealthy(30_000);
  });
});
