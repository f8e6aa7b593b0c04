// Cluster benchmark: formation, failure detection, new leader after the leader
// dies, idle memory, and tool start-up. Runs the same steps against Tandem or
// against the real ctdbd (in CTDB's own test mode: 127.0.0.x, one CTDB_BASE per
// node, a shared cluster lock file), observing both through the same client
// protocol. Usage:
//   node dist/bench/cluster.js [--impl tandem|ctdb] [--runs N] [--sigstop]

import { execFileSync, } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Flag, UNKNOWN_PNN } from "../src/cluster/types.ts";
import {
  alive,
  checkoutDir,
  localLayout,
  nodeEnv,
  sleep,
  stopPid,
  writeLocalConfig,
} from "../src/local/cluster.ts";
import { allHealthy, type ClusterView, observe } from "../src/local/ready.ts";
import { type Impl, processTree, startDaemon, treeRssKb } from "./support/daemons.ts";


interface Args {
  impl: Impl;
  runs: number;
  sigstop: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { impl: "tandem", runs: 3, sigstop: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--impl") args.impl = argv[++i] === "ctdb" ? "ctdb" : "tandem";
    else if (a === "--runs") args.runs = Number(argv[++i]);
    else if (a === "--sigstop") args.sigstop = true;
  }
  return args;
}

/** What a service manager does before restarting a killed daemon: end whatever it left behind. */
async function reapLeftovers(pids: number[]): Promise<void> {
  for (const p of pids) if (alive(p)) await stopPid(p, 2000);
}

async function until(
  socket: string,
  accept: (v: ClusterView) => boolean,
  timeoutMs: number,
  pollMs: number,
): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const v = await observe(socket, 1500);
    if (v !== undefined && accept(v)) return (performance.now() - t0) / 1000;
    await sleep(pollMs);
  }
  return undefined;
}

/** Does `action`, then polls the node map (no leader wait) until `pnn` shows `flag`. */
async function untilFlags(
  socket: string,
  pnn: number,
  flag: number,
  timeoutMs: number,
  action: () => void,
): Promise<number | undefined> {
  const { CtdbClient } = await import("../src/client/client.ts");
  const { getNodemap } = await import("../src/client/controls.ts");
  const client = await CtdbClient.connect(socket, { timeoutMs: 2000 });
  const t0 = performance.now();
  action();
  try {
    while (performance.now() - t0 < timeoutMs) {
      const map = await getNodemap(client, client.pnn, 2000);
      if ((map.nodes[pnn]!.flags & flag) !== 0) return (performance.now() - t0) / 1000;
      await sleep(10);
    }
    return undefined;
  } finally {
    client.close();
  }
}

function timeCommand(file: string, args: string[], env: Record<string, string>, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) execFileSync(file, args, { env: { ...process.env, ...env }, stdio: "ignore" });
  return (performance.now() - t0) / n;
}

const fmt = (s: number | undefined) => (s === undefined ? "timeout" : `${s.toFixed(3)} s`);

async function oneRun(args: Args, run: number): Promise<Record<string, string>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-bench-${args.impl}-`));
  const layout = localLayout(root, 3);
  // Tandem may use its own port (tandem.conf) so it never meets a ctdbd on 4379.
  writeLocalConfig(layout, args.impl === "tandem" ? { port: 44379 } : {});
  const pids: number[] = [];
  const result: Record<string, string> = {};
  try {
    const t0 = performance.now();
    for (let pnn = 0; pnn < 3; pnn++) pids.push(startDaemon(args.impl, layout, pnn));
    const formed = await until(layout.socket(0), allHealthy, 60_000, 50);
    result["formation (start → all OK + leader)"] = fmt(formed === undefined ? undefined : (performance.now() - t0) / 1000);
    await sleep(2000);
    result["RSS per node, idle (all processes)"] = `${(pids.map(treeRssKb).reduce((a, b) => a + b, 0) / 3 / 1024).toFixed(1)} MB`;

    const env0 = nodeEnv(layout, 0);
    if (run === 0) {
      const tool = path.join(checkoutDir(), "bin", "tandem.js");
      result["`ctdb pnn` against it, mean of 20"] = `${timeCommand("/usr/bin/ctdb", ["pnn"], env0, 20).toFixed(1)} ms`;
      result["`ctdb status` against it, mean of 5"] = `${timeCommand("/usr/bin/ctdb", ["status"], env0, 5).toFixed(1)} ms`;
      if (args.impl === "tandem") {
        result["`tandem pnn`, mean of 20"] = `${timeCommand(process.execPath, [tool, "pnn"], env0, 20).toFixed(1)} ms`;
        result["`tandem status`, mean of 10"] = `${timeCommand(process.execPath, [tool, "status"], env0, 10).toFixed(1)} ms`;
        result["`tandem version` (no daemon), mean of 20"] = `${timeCommand(process.execPath, [tool, "version"], env0, 20).toFixed(1)} ms`;
        result["`node -e 0` (Node's floor), mean of 20"] = `${timeCommand(process.execPath, ["-e", "0"], env0, 20).toFixed(1)} ms`;
      }
    }

    // Kill a non-leader: how soon do the survivors see it?
    const first = await observe(layout.socket(0), 3000);
    const leader = first?.leader ?? 0;
    const victim = [0, 1, 2].find((p) => p !== leader)!;
    const watcher = [0, 1, 2].find((p) => p !== leader && p !== victim)!;
    const victimTree = processTree(pids[victim]!);
    result["kill -9 non-leader → DISCONNECTED"] = fmt(
      await untilFlags(layout.socket(watcher), victim, Flag.DISCONNECTED, 60_000, () =>
        process.kill(pids[victim]!, "SIGKILL"),
      ),
    );
    await reapLeftovers(victimTree);
    pids[victim] = startDaemon(args.impl, layout, victim);
    await until(layout.socket(watcher), allHealthy, 60_000, 50);

    // Kill the leader: how soon does a survivor lead?
    const before = await observe(layout.socket(watcher), 3000);
    const oldLeader = before?.leader ?? leader;
    const survivor = [0, 1, 2].find((p) => p !== oldLeader)!;
    const leaderTree = processTree(pids[oldLeader]!);
    process.kill(pids[oldLeader]!, "SIGKILL");
    result["kill -9 leader → new leader"] = fmt(
      await until(layout.socket(survivor), (v) => v.leader !== UNKNOWN_PNN && v.leader !== oldLeader, 60_000, 20),
    );
    await reapLeftovers(leaderTree);
    pids[oldLeader] = startDaemon(args.impl, layout, oldLeader);
    const rejoin0 = performance.now();
    const rejoined = await until(layout.socket(survivor), allHealthy, 60_000, 50);
    result["killed node restarted → all OK again"] = fmt(rejoined === undefined ? undefined : (performance.now() - rejoin0) / 1000);

    if (args.sigstop) {
      const frozen = [0, 1, 2].find((p) => p !== survivor)!;
      result["SIGSTOP → DISCONNECTED (default keepalives)"] = fmt(
        await untilFlags(layout.socket(survivor), frozen, Flag.DISCONNECTED, 60_000, () =>
          process.kill(pids[frozen]!, "SIGSTOP"),
        ),
      );
      process.kill(pids[frozen]!, "SIGCONT");
    }
  } finally {
    for (const pid of pids) {
      const tree = processTree(pid);
      if (alive(pid)) {
        process.kill(pid, "SIGCONT");
        await stopPid(pid, 5000);
      }
      await reapLeftovers(tree);
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
  return result;
}

const args = parseArgs(process.argv.slice(2));
for (let run = 0; run < args.runs; run++) {
  const result = await oneRun(args, run);
  process.stdout.write(`${JSON.stringify({ impl: args.impl, run, ...result })}\n`);
}
