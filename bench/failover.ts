// Failover benchmark in the network-namespace bed: three nodes and a client
// on a bridge, floating addresses 198.51.100.1–3 and 2001:db8::1 on eth0,
// CTDB's shipped 00.ctdb and 10.interface (or Tandem's 10.interface with
// --iface tandem), a TCP service on every node answering with its name and a
// client probing every address every ~20 ms. Runs the same steps against
// tandemd or the real ctdbd. Needs root. Usage:
//   node dist/bench/failover.js [--impl tandem|ctdb] [--iface ctdb|tandem] [--skip cut,sigstop,...]
//
// Each figure is wall-clock from just before the action to the client's first
// answer from the node named (or any other node); the address watcher also
// counts any moment an address was on two nodes during the step.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { sleep } from "../src/local/cluster.ts";
import { type AddrWatch, watchAddresses } from "../test/support/netbed/addr-watch.ts";
import {
  allHosted,
  type BedClient,
  type BedCluster,
  ctdbdUnavailable,
  FLOATING,
  type Impl,
  type InterfaceScript,
  startBedCluster,
  startClient,
} from "../test/support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../test/support/netns.ts";

interface Args {
  impl: Impl;
  iface: InterfaceScript;
  skip: Set<string>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { impl: "tandem", iface: "ctdb", skip: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--impl") args.impl = argv[++i] === "ctdb" ? "ctdb" : "tandem";
    else if (a === "--iface") args.iface = argv[++i] === "tandem" ? "tandem" : "ctdb";
    else if (a === "--skip") for (const s of (argv[++i] ?? "").split(",")) args.skip.add(s);
  }
  return args;
}

const STEP_TIMEOUT_MS = 60_000;

interface Ctx {
  bed: Bed;
  cluster: BedCluster;
  client: BedClient;
  watch: AddrWatch;
  results: Record<string, string>;
}

const fmt = (ms: number | undefined) => (ms === undefined ? "timeout" : `${(ms / 1000).toFixed(3)} s`);

/** Every node's flags clear, every address hosted, and the client answered by each address's named host. */
async function healthy(x: Ctx, via: number, timeoutMs: number): Promise<Map<string, number> | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const st = await x.cluster.tool(via, ["-X", "status"]);
    const lines = st.stdout.split("\n").filter((l) => /^\|\d+\|/.test(l));
    const ok = st.code === 0 && lines.length === 3 && lines.every((l) => /^\|\d+\|[^|]+\|0\|0\|0\|0\|0\|0\|0\|/.test(l));
    if (ok) {
      const m = await allHosted(x.cluster, via, 1000);
      if (m !== undefined) {
        const since = Date.now();
        const answered = await Promise.all(
          FLOATING.map((a) => x.client.waitFor((e) => e.kind === "answer" && e.addr === a && e.node === `node${m.get(a)}`, 2000, since)),
        );
        if (answered.every((e) => e !== undefined)) return m;
      }
    }
    await sleep(50);
  }
  return undefined;
}

async function leaderOf(c: BedCluster, via: number): Promise<number> {
  const r = await c.tool(via, ["leader"]);
  return Number(r.stdout.trim());
}

/** Time from `act` to the client's first answer on `addr` that `accept` takes. */
async function timeTo(x: Ctx, addr: string, accept: (node: string) => boolean, act: () => unknown): Promise<number | undefined> {
  const t0 = Date.now();
  const before = x.watch.overlaps.length;
  await act();
  const e = await x.client.waitFor((ev) => ev.kind === "answer" && ev.addr === addr && ev.node !== undefined && accept(ev.node), STEP_TIMEOUT_MS, t0);
  const ms = e === undefined ? undefined : e.t - t0;
  process.stderr.write(`${addr}: ${fmt(ms)}\n`);
  const overlaps = x.watch.overlaps.slice(before);
  if (overlaps.length > 0) x.results[`  (overlaps after ${addr})`] = JSON.stringify(overlaps.map((o) => [o.address, o.nodes]));
  return ms;
}

async function run(args: Args): Promise<Record<string, string>> {
  const bed = makeBed();
  const cluster = startBedCluster(bed, { impl: args.impl, iface: args.iface });
  const watch = await watchAddresses(bed);
  const results: Record<string, string> = {};
  const client = startClient(bed, cluster.servicePort);
  const x: Ctx = { bed, cluster, client, watch, results };
  try {
    const t0 = performance.now();
    for (let pnn = 0; pnn < 3; pnn++) cluster.start(pnn);
    const formed = await allHosted(cluster, 0, STEP_TIMEOUT_MS);
    results["start → every address hosted"] = fmt(formed === undefined ? undefined : performance.now() - t0);
    let map = await healthy(x, 0, STEP_TIMEOUT_MS);
    results["start → healthy (all OK, all hosted, client answered by each host)"] = fmt(map === undefined ? undefined : performance.now() - t0);
    if (map === undefined) return results;

    const restart = async (pnn: number, label: string) => {
      const t = performance.now();
      cluster.start(pnn);
      const m = await healthy(x, (pnn + 1) % 3, STEP_TIMEOUT_MS);
      const back = m !== undefined && [...m.values()].includes(pnn);
      results[label] = fmt(m === undefined ? undefined : performance.now() - t) + (back ? "" : " (hosts nothing yet)");
      process.stderr.write(`${label}: ${results[label]}\n`);
      return m;
    };

    // kill -9 of a host that is not the leader.
    let leader = await leaderOf(cluster, 0);
    let addr = FLOATING.find((a) => map!.get(a) !== leader)!;
    let victim = map.get(addr)!;
    results["kill -9 non-leader host → client answered elsewhere"] = fmt(
      await timeTo(x, addr, (n) => n !== `node${victim}`, () => cluster.signal(victim, "SIGKILL")),
    );
    await reap(x, victim);
    map = await restart(victim, "killed node restarted → healthy, client answered by each host");
    if (map === undefined) return results;

    // kill -9 of the leader, which hosts an address.
    leader = await leaderOf(cluster, 0);
    addr = FLOATING.find((a) => map!.get(a) === leader) ?? FLOATING[0]!;
    victim = map.get(addr)!;
    const via = (victim + 1) % 3;
    results[`kill -9 leader${victim === leader ? "" : " (not hosting)"} → client answered elsewhere`] = fmt(
      await timeTo(x, addr, (n) => n !== `node${victim}`, () => cluster.signal(victim, "SIGKILL")),
    );
    await reap(x, victim);
    map = await restart(victim, "killed leader restarted → healthy");
    if (map === undefined) return results;

    // disable the host of an address, then enable it again.
    addr = FLOATING[1]!;
    victim = map.get(addr)!;
    results["disable host → client answered elsewhere"] = fmt(
      await timeTo(x, addr, (n) => n !== `node${victim}`, () => cluster.tool(victim, ["disable"])),
    );
    await cluster.tool(victim, ["enable"]);
    map = await healthy(x, (victim + 1) % 3, STEP_TIMEOUT_MS);
    if (map === undefined) return results;

    // moveip to a node that does not host it (after disable: CTDB's moveip
    // holds takeover runs off for 20 s, which would delay the next step).
    addr = FLOATING[0]!;
    const from = map.get(addr)!;
    const to = (from + 1) % 3;
    results["moveip → client answered by the target"] = fmt(
      await timeTo(x, addr, (n) => n === `node${to}`, () => cluster.tool(via, ["moveip", addr, String(to)])),
    );
    map = await healthy(x, via, STEP_TIMEOUT_MS);
    if (map === undefined) return results;

    if (!args.skip.has("sigstop")) {
      addr = FLOATING[2]!;
      victim = map.get(addr)!;
      results["SIGSTOP host → client answered elsewhere"] = fmt(
        await timeTo(x, addr, (n) => n !== `node${victim}`, () => cluster.signal(victim, "SIGSTOP")),
      );
      cluster.signal(victim, "SIGCONT");
      map = await healthy(x, (victim + 1) % 3, STEP_TIMEOUT_MS);
      if (map === undefined) return results;
    }

    if (!args.skip.has("cut")) {
      addr = FLOATING[3]!;
      victim = map.get(addr)!;
      results["cut link of host → client answered elsewhere"] = fmt(
        await timeTo(x, addr, (n) => n !== `node${victim}`, () => bed.setLink(victim, false)),
      );
      const t = performance.now();
      bed.setLink(victim, true);
      const healed = await healthy(x, (victim + 1) % 3, STEP_TIMEOUT_MS);
      results["link restored → healthy"] = fmt(healed === undefined ? undefined : performance.now() - t);
    }
    results["addresses ever on two nodes (whole run)"] = String(watch.overlaps.length);
    return results;
  } finally {
    client.stop();
    watch.stop();
    await cluster.stop();
    await bed.remove();
  }
}

/**
 * What a service manager does after a crash before it restarts the daemon:
 * end what the killed daemon left running in its namespace (ctdbd's event
 * daemon, recovery daemon and lock helper), keeping the bed's own service
 * and address monitor.
 */
async function reap(x: Ctx, pnn: number): Promise<void> {
  await sleep(200);
  const r = spawnSync("ip", ["netns", "pids", x.bed.nodeNs[pnn]!], { encoding: "utf8" });
  for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    let cmd = "";
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (/service\.js|ip -o monitor/.test(cmd)) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

const args = parseArgs(process.argv.slice(2));
const why = bedUnavailable() ?? (args.impl === "ctdb" ? ctdbdUnavailable() : undefined);
if (why !== undefined) {
  console.error(`failover bench: ${why}`);
  process.exit(1);
}
const results = await run(args);
console.log(JSON.stringify({ impl: args.impl, iface: args.iface, date: new Date().toISOString(), results }));
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v} |`);
