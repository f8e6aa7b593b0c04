// Database benchmark: persistent store/fetch/transaction per call through the
// real `ctdb` tool, and recovery of many volatile records, against Tandem or
// the real ctdbd, 3 nodes on 127.0.0.x (as bench/cluster.ts starts them).
// Usage:
//   node dist/bench/persistent.js [--impl tandem|ctdb] [--calls N] [--records 10000,100000]
//
// Recovery time is taken as CTDB's tool waits for it, but finer: from the
// SET_RECMODE that asks for it until the leader reports a new generation in
// normal recovery mode, polled every 5 ms through the client socket. The
// records are written into each node's TDB file beforehand (spread over the
// three nodes, a third on each), as if clients had left them there.

import { execFileSync, } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CtdbClient } from "../src/client/client.ts";
import { getRecmode, getVnnmap } from "../src/client/controls.ts";
import { tdbFlagsFor } from "../src/database/local.ts";
import { Tdb, TdbFlag, tdbSupportsMutexes } from "../src/database/tdb.ts";
import { localLayout, nodeEnv, sleep, stopPid, writeLocalConfig } from "../src/local/cluster.ts";
import { allHealthy, observe } from "../src/local/ready.ts";
import { Control } from "../src/protocol/constants.ts";
import { encodeLtdbHeader } from "../src/protocol/types.ts";
import { type Impl, startDaemon, treeRssKb } from "./support/daemons.ts";


function parseArgs(argv: string[]): { impl: Impl; calls: number; records: number[] } {
  const a = { impl: "tandem" as Impl, calls: 100, records: [10_000, 100_000] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--impl") a.impl = argv[++i] === "ctdb" ? "ctdb" : "tandem";
    else if (argv[i] === "--calls") a.calls = Number(argv[++i]);
    else if (argv[i] === "--records") a.records = (argv[++i] ?? "").split(",").map(Number);
  }
  return a;
}

function ctdb(env: Record<string, string>, args: string[], input?: string): string {
  return execFileSync("/usr/bin/ctdb", args, { env: { ...process.env, ...env }, input, encoding: "utf8" });
}

function perCall(n: number, fn: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - t0) / n;
}

/** The database file a node uses, as its getdbmap reports it. */
function dbPath(env: Record<string, string>, name: string): string {
  const m = new RegExp(`name:${name.replace(".", "\\.")} path:(\\S+)`).exec(ctdb(env, ["getdbmap"]));
  if (m === null) throw new Error(`${name} is not attached`);
  return m[1]!;
}

async function timeRecovery(socket: string): Promise<number> {
  const c = await CtdbClient.connect(socket, { timeoutMs: 60_000 });
  try {
    const before = (await getVnnmap(c, c.pnn)).generation;
    const mode = Buffer.alloc(4);
    mode.writeUInt32LE(1);
    const t0 = performance.now();
    await c.control(c.pnn, Control.SET_RECMODE, mode);
    for (;;) {
      const view = await observe(socket, 5000);
      const leader = view?.leader ?? c.pnn;
      const map = await getVnnmap(c, leader, 60_000);
      if (map.generation !== before && map.generation !== 1 && (await getRecmode(c, leader, 60_000)) === 0) {
        return (performance.now() - t0) / 1000;
      }
      await sleep(5);
    }
  } finally {
    c.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-dbbench-${args.impl}-`));
  const layout = localLayout(root, 3);
  writeLocalConfig(layout, args.impl === "tandem" ? { port: 44479 } : {});
  const pids: number[] = [];
  const out: Record<string, string> = {};
  try {
    for (let pnn = 0; pnn < 3; pnn++) pids.push(startDaemon(args.impl, layout, pnn));
    const t0 = performance.now();
    while ((await observe(layout.socket(0), 1500).then((v) => v !== undefined && allHealthy(v))) !== true) {
      if (performance.now() - t0 > 90_000) throw new Error("cluster did not become healthy");
      await sleep(100);
    }
    const env = nodeEnv(layout, 0);
    ctdb(env, ["attach", "bench_p.tdb", "persistent"]);
    out["ctdb pstore, mean per call"] = `${perCall(args.calls, (i) => ctdb(env, ["pstore", "bench_p.tdb", `key${i}`, `value${i}`])).toFixed(1)} ms`;
    out["ctdb pfetch, mean per call"] = `${perCall(args.calls, (i) => ctdb(env, ["pfetch", "bench_p.tdb", `key${i}`])).toFixed(1)} ms`;
    for (const n of [1000, 10_000]) {
      const lines = Array.from({ length: n }, (_, i) => `"t${n}_${i}" "v${i}"`).join("\n");
      const file = path.join(root, `ptrans-${n}.txt`);
      fs.writeFileSync(file, `${lines}\n`);
      const t = perCall(1, () => ctdb(env, ["ptrans", "bench_p.tdb", file]));
      out[`ctdb ptrans of ${n} keys`] = `${(t / 1000).toFixed(3)} s`;
    }
    out["recovery, empty volatile databases"] = `${(await timeRecovery(layout.socket(0))).toFixed(3)} s`;
    for (const n of args.records) {
      const name = `bench_v${n}.tdb`;
      ctdb(env, ["attach", name]);
      await sleep(500);
      for (let pnn = 0; pnn < 3; pnn++) {
        const file = dbPath(nodeEnv(layout, pnn), name);
        const kind = "volatile";
        const t = Tdb.open(file, { hashSize: 0, tdbFlags: tdbFlagsFor(kind, tdbSupportsMutexes()) & ~TdbFlag.CLEAR_IF_FIRST });
        t.transactionStart();
        const value = Buffer.alloc(64, 0x61);
        for (let i = pnn; i < n; i += 3) {
          t.store(Buffer.from(`rec${i}`), Buffer.concat([encodeLtdbHeader({ rsn: 1n, dmaster: pnn, reserved1: 0, flags: 0 }), value]));
        }
        t.transactionCommit();
        t.close();
      }
      out[`recovery of ${n} volatile records over 3 nodes`] = `${(await timeRecovery(layout.socket(0))).toFixed(3)} s`;
      await sleep(500);
      out[`RSS per node with ${n} records (all processes)`] = `${(pids.map(treeRssKb).reduce((a, b) => a + b, 0) / 3 / 1024).toFixed(1)} MB`;
    }
  } finally {
    await Promise.all(pids.map((p) => stopPid(p, 5000)));
    fs.rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(`${args.impl} (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"}), ${new Date().toISOString()}\n`);
  for (const [k, v] of Object.entries(out)) process.stdout.write(`  ${k}: ${v}\n`);
}

void main();
