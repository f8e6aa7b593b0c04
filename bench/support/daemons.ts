// Starting a node's daemon for a benchmark, Tandem's or the real ctdbd, and
// measuring what it and its helpers hold in memory. One copy for every
// benchmark that runs both side by side.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type LocalLayout, nodeEnv, startNode } from "../../src/local/cluster.ts";

export type Impl = "tandem" | "ctdb";

/** Starts node `pnn` of a local layout; ctdbd in the foreground with its output in daemon.out. */
export function startDaemon(impl: Impl, layout: LocalLayout, pnn: number): number {
  if (impl === "tandem") return startNode(layout, pnn);
  const out = fs.openSync(path.join(layout.nodeBase(pnn), "daemon.out"), "a");
  const child = spawn("/usr/sbin/ctdbd", ["-i"], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...nodeEnv(layout, pnn) },
  });
  fs.closeSync(out);
  child.unref();
  return child.pid!;
}

/** A process and all its descendants (CTDB runs several processes per node). */
export function processTree(pid: number): number[] {
  const all: number[] = [];
  const visit = (p: number) => {
    all.push(p);
    try {
      for (const task of fs.readdirSync(`/proc/${p}/task`)) {
        const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        for (const c of children.split(/\s+/).filter(Boolean)) visit(Number(c));
      }
    } catch {
      // the process went away while we looked
    }
  };
  visit(pid);
  return all;
}

/** Resident memory of a daemon and its helpers, in KiB. */
export function treeRssKb(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return total;
}
