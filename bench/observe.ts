// Observability and etcd-lock benchmark, 3 local nodes:
// - scrape: time of GET /metrics and GET /status.json on node 0;
// - page: status page load in headless Chromium, navigation → three nodes drawn;
// - rss: RSS per node, idle, with the HTTP port off and on (after scrapes);
// - failover: kill -9 (or SIGTERM) of the leader → a survivor reports a new leader, with
//   the fcntl lock file and with the built-in etcd lock (3-member etcd).
// Usage: node dist/bench/observe.js [--runs N] [--only scrape,page,rss,failover] [--ttl SECONDS]

import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { UNKNOWN_PNN } from "../src/cluster/types.ts";
import { sleep } from "../src/local/cluster.ts";
import { observe } from "../src/local/ready.ts";
import { Browser, hasChromium } from "../test/support/chromium.ts";
import { startCluster, type TestCluster, testPort } from "../test/support/cluster.ts";
import { hasEtcd, startEtcd } from "../test/support/etcd.ts";

interface Args {
  runs: number;
  only: Set<string>;
  ttl: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, only: new Set(["scrape", "page", "rss", "failover"]), ttl: 5 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") args.runs = Number(argv[++i]);
    else if (argv[i] === "--only") args.only = new Set((argv[++i] ?? "").split(","));
    else if (argv[i] === "--ttl") args.ttl = Number(argv[++i]);
  }
  return args;
}

const HTTP_PORT = testPort(48087);
const url = (pnn: number, p: string) => `http://127.0.0.${pnn + 1}:${HTTP_PORT}${p}`;

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const p = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `mean ${mean.toFixed(2)} ms, p50 ${p(0.5).toFixed(2)}, p95 ${p(0.95).toFixed(2)}, max ${s.at(-1)!.toFixed(2)} (n=${s.length})`;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function scrape(cluster: TestCluster, runs: number): Promise<void> {
  for (const p of ["/metrics", "/status.json"]) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs * 20 + 5; i++) {
      const t = await timed(async () => {
        bytes = (await (await fetch(url(0, p))).arrayBuffer()).byteLength;
      });
      if (i >= 5) times.push(t);
    }
    console.log(JSON.stringify({ figure: `GET ${p}`, bytes, result: stats(times) }));
  }
  void cluster;
}

async function page(runs: number): Promise<void> {
  if (!hasChromium) return console.log(JSON.stringify({ figure: "page load", skipped: "no chromium" }));
  const browser = Browser.launch();
  try {
    const tab = await browser.newPage();
    const times: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      await tab.goto("about:blank");
      const t = await timed(async () => {
        await tab.goto(url(0, "/"));
        await tab.waitFor<boolean>(`document.querySelectorAll("#nodes .node").length === 3`, 10_000, "three nodes");
      });
      if (i > 0) times.push(t);
    }
    console.log(JSON.stringify({ figure: "page load → three nodes drawn", result: stats(times) }));
  } finally {
    await browser.close();
  }
}

async function rss(httpOn: boolean, etcdLock = false): Promise<void> {
  const etcd = etcdLock ? await startEtcd("bench-rss", 48080) : undefined;
  const cluster = await startCluster(httpOn ? "bench-rss-on" : "bench-rss-off", 48088, {
    ...(httpOn ? { httpPort: HTTP_PORT } : {}),
    ...(etcd !== undefined ? { lock: "none" as const, tandem: [`etcd lock = ${etcd.endpoints.join(" ")}`] } : {}),
  });
  try {
    await cluster.waitHealthy(30_000);
    if (httpOn) for (let i = 0; i < 50; i++) for (let p = 0; p < 3; p++) await (await fetch(url(p, i % 2 ? "/metrics" : "/status.json"))).text();
    await sleep(3000);
    const mb = cluster.pids.map((pid) => rssMb(pid!));
    const lock = etcdLock ? "etcd lock" : "fcntl lock";
    console.log(JSON.stringify({ figure: `RSS per node, ${lock}, HTTP port ${httpOn ? "on (after 100 requests each)" : "off"}`, mb: mb.map((m) => Number(m.toFixed(1))) }));
  } finally {
    await cluster.stop();
    await etcd?.stop();
  }
}

async function failover(lock: "fcntl" | "etcd", signal: "SIGKILL" | "SIGTERM", runs: number, ttl: number): Promise<void> {
  const etcd = lock === "etcd" ? await startEtcd("bench", 48080) : undefined;
  const times: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const cluster = await startCluster(
        `bench-fo-${lock}`,
        48086,
        lock === "etcd" ? { lock: "none", tandem: [`etcd lock = ${etcd!.endpoints.join(" ")}`, `etcd lock ttl = ${ttl}`] } : {},
      );
      try {
        const { leader } = await cluster.waitHealthy(30_000);
        await sleep(1000);
        const survivor = (leader + 1) % 3;
        const t0 = performance.now();
        cluster.kill(leader, signal);
        for (;;) {
          const v = await observe(cluster.layout.socket(survivor), 1500);
          if (v !== undefined && v.leader !== UNKNOWN_PNN && v.leader !== leader) break;
          if (performance.now() - t0 > 60_000) throw new Error("no new leader in 60 s");
          await sleep(10);
        }
        times.push(performance.now() - t0);
      } finally {
        await cluster.stop();
      }
      // The killed leader's lease must run out before the next run's election.
      if (lock === "etcd" && signal === "SIGKILL") await sleep(ttl * 1000 + 500);
    }
  } finally {
    await etcd?.stop();
  }
  console.log(JSON.stringify({ figure: `${signal === "SIGKILL" ? "kill -9" : "SIGTERM"} leader → new leader, ${lock === "etcd" ? `etcd lock, TTL ${ttl} s` : "fcntl lock file"}`, result: stats(times) }));
}

const args = parseArgs(process.argv.slice(2));
if (args.only.has("scrape") || args.only.has("page")) {
  const cluster = await startCluster("bench-http", 48088, { httpPort: HTTP_PORT });
  try {
    await cluster.waitHealthy(30_000);
    await sleep(1000);
    if (args.only.has("scrape")) await scrape(cluster, args.runs);
    if (args.only.has("page")) await page(args.runs);
  } finally {
    await cluster.stop();
  }
}
if (args.only.has("rss")) {
  await rss(false);
  await rss(true);
  if (hasEtcd) await rss(true, true);
}
if (args.only.has("failover")) {
  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    await failover("fcntl", signal, args.runs, args.ttl);
    if (hasEtcd) await failover("etcd", signal, args.runs, args.ttl);
  }
}
