// Client-session churn: many short sessions on the client socket (connect, a
// few controls or garbage, disconnect) and the daemon's RSS before, at the end
// and after idling. A connection must leave nothing behind. Usage:
//   node dist/bench/sessions.js [--impl tandem|ctdb] [--sessions N] [--parallel P]

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type LocalLayout, localLayout, nodeEnv, sleep, startNode, stopPid, writeLocalConfig } from "../src/local/cluster.ts";
import { allHealthy, waitUntil } from "../src/local/ready.ts";
import { SESSION_KINDS, session } from "../test/support/sessions.ts";

interface Args {
  impl: "tandem" | "ctdb";
  sessions: number;
  parallel: number;
  /** Which kinds of session to run (0–3, see sessionBytes); all by default. */
  kinds: number[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { impl: "tandem", sessions: 100_000, parallel: 32, kinds: SESSION_KINDS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--impl") args.impl = argv[++i] === "ctdb" ? "ctdb" : "tandem";
    else if (a === "--sessions") args.sessions = Number(argv[++i]);
    else if (a === "--parallel") args.parallel = Number(argv[++i]);
    else if (a === "--kinds") args.kinds = (argv[++i] ?? "").split(",").map(Number);
  }
  return args;
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
}

function startDaemon(impl: Args["impl"], layout: LocalLayout): number {
  if (impl === "tandem") return startNode(layout, 0);
  const child = spawn("/usr/sbin/ctdbd", ["-i"], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, ...nodeEnv(layout, 0) },
  });
  child.unref();
  return child.pid!;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-bench-sessions-"));
  const layout = localLayout(root, 1);
  writeLocalConfig(layout, { port: 44479 });
  const pid = startDaemon(args.impl, layout);
  try {
    if ((await waitUntil(layout.socket(0), allHealthy, 60_000)) === undefined) throw new Error("daemon did not come up");
    await sleep(2000);
    const before = rssKb(pid);
    let next = 0;
    let peak = before;
    const started = Date.now();
    const worker = async () => {
      while (next < args.sessions) {
        const i = next++;
        await session(layout.socket(0), i, args.kinds[i % args.kinds.length]!);
        if (i % 5000 === 0) peak = Math.max(peak, rssKb(pid));
      }
    };
    await Promise.all(Array.from({ length: args.parallel }, worker));
    const elapsed = (Date.now() - started) / 1000;
    const end = rssKb(pid);
    await sleep(10_000);
    const idle = rssKb(pid);
    process.stdout.write(
      `${JSON.stringify({
        impl: args.impl,
        sessions: args.sessions,
        kinds: args.kinds.join(","),
        seconds: elapsed,
        rssBeforeMB: +(before / 1024).toFixed(1),
        rssPeakMB: +(Math.max(peak, end) / 1024).toFixed(1),
        rssEndMB: +(end / 1024).toFixed(1),
        rssIdleMB: +(idle / 1024).toFixed(1),
        growthIdle: `${(((idle - before) / before) * 100).toFixed(1)}%`,
      })}\n`,
    );
  } finally {
    await stopPid(pid, 5000);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
