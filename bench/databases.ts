// Volatile database benchmark, Tandem or the real ctdbd, three nodes on
// 127.0.0.1-3 (CTDB's test mode, as bench/cluster.ts starts them):
// - the real `ctdb writekey` / `readkey` per call, on the node holding the
//   record, and alternating between two nodes so every call migrates it;
// - record migrations per second: a client (our client library) on each node
//   fetch-locks and writes one record in turn, 0 → 1 → 2 → 0 ...;
// - daemon RSS before and after 100k records are created through node 0.
// Usage: node dist/bench/databases.js [--impl tandem|ctdb] [--calls N] [--ring N] [--records N]

import { execFileSync, } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CtdbClient } from "../src/client/client.ts";
import { attachDb, closeDb, fetchLock } from "../src/client/db.ts";
import { alive, localLayout, nodeEnv, sleep, stopPid, writeLocalConfig } from "../src/local/cluster.ts";
import { allHealthy, waitUntil } from "../src/local/ready.ts";
import { type Impl, startDaemon, treeRssKb } from "./support/daemons.ts";


interface Args {
  impl: Impl;
  calls: number;
  ring: number;
  records: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { impl: "tandem", calls: 30, ring: 3000, records: 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--impl") a.impl = argv[++i] === "ctdb" ? "ctdb" : "tandem";
    else if (arg === "--calls") a.calls = Number(argv[++i]);
    else if (arg === "--ring") a.ring = Number(argv[++i]);
    else if (arg === "--records") a.records = Number(argv[++i]);
  }
  return a;
}

function meanMs(n: number, f: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return (performance.now() - t0) / n;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-bench-db-${args.impl}-`));
  const layout = localLayout(root, 3);
  writeLocalConfig(layout, args.impl === "tandem" ? { port: 44579 } : {});
  const pids = [0, 1, 2].map((p) => startDaemon(args.impl, layout, p));
  const result: Record<string, string> = {};
  const clients: CtdbClient[] = [];
  try {
    for (const p of [0, 1, 2]) {
      if ((await waitUntil(layout.socket(p), allHealthy, 90_000)) === undefined) throw new Error(`node ${p} did not come up`);
    }
    const ctdb = (pnn: number, argv: string[]) => execFileSync("/usr/bin/ctdb", argv, { env: { ...process.env, ...nodeEnv(layout, pnn) }, stdio: "pipe" });
    ctdb(0, ["attach", "bench.tdb"]);
    await sleep(500);
    ctdb(0, ["writekey", "bench.tdb", "local", "x"]);
    result["`ctdb writekey` on the record's node, mean"] = `${meanMs(args.calls, (i) => ctdb(0, ["writekey", "bench.tdb", "local", `v${i}`])).toFixed(1)} ms`;
    result["`ctdb readkey` on the record's node, mean"] = `${meanMs(args.calls, () => ctdb(0, ["readkey", "bench.tdb", "local"])).toFixed(1)} ms`;
    result["`ctdb writekey` alternating nodes 0/1 (a migration each), mean"] = `${meanMs(args.calls, (i) => ctdb(i % 2, ["writekey", "bench.tdb", "moving", `v${i}`])).toFixed(1)} ms`;
    result["`ctdb readkey` alternating nodes 1/2 (a migration each), mean"] = `${meanMs(args.calls, (i) => ctdb(1 + (i % 2), ["readkey", "bench.tdb", "moving"])).toFixed(1)} ms`;

    for (const p of [0, 1, 2]) clients.push(await CtdbClient.connect(layout.socket(p), { timeoutMs: 30_000 }));
    const dbs = await Promise.all(clients.map((c) => attachDb(c, "bench.tdb")));
    const key = Buffer.from("ring");
    // Warm up (JIT, first migrations) before timing.
    for (let i = 0; i < 300; i++) (await fetchLock(dbs[i % 3]!, key)).unlock();
    let total = 0;
    const t0 = performance.now();
    for (let i = 0; i < args.ring; i++) {
      const rec = await fetchLock(dbs[i % 3]!, key);
      total += rec.migrations;
      rec.store(Buffer.from(String(i)));
      rec.unlock();
    }
    const secs = (performance.now() - t0) / 1000;
    result["3-node fetch-lock ring, migrations per second"] = `${(total / secs).toFixed(0)} /s (${total} migrations in ${secs.toFixed(2)} s)`;

    await sleep(1000);
    const before = pids.map(treeRssKb);
    const d0 = dbs[0]!;
    const value = Buffer.alloc(64, 0x61);
    const t1 = performance.now();
    const inFlight = 32;
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < args.records; i = next++) {
          const rec = await fetchLock(d0, Buffer.from(`record-${i}`));
          rec.store(value);
          rec.unlock();
        }
      }),
    );
    const created = (performance.now() - t1) / 1000;
    await sleep(2000);
    const afterRss = pids.map(treeRssKb);
    const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
    result[`create ${args.records} records through node 0 (fetch-lock + store, 32 at a time)`] = `${created.toFixed(1)} s`;
    result["RSS per node before (all processes)"] = before.map(mb).join(" / ");
    result[`RSS per node with ${args.records} records`] = afterRss.map(mb).join(" / ");
    for (const d of dbs) closeDb(d);
  } finally {
    for (const c of clients) c.close();
    for (const pid of pids) if (alive(pid)) await stopPid(pid, 5000);
    fs.rmSync(root, { recursive: true, force: true });
  }
  const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  process.stdout.write(`${JSON.stringify({ impl: args.impl, loadavg: load, ...result }, null, 1)}\n`);
}

await main();
