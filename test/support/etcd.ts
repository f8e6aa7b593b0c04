// A real etcd cluster for a test: Debian's etcd-server, N members on loopback
// ports, data in a temp directory, every member stopped by PID at the end.

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sleep, stopPid } from "../../src/local/cluster.ts";
import { testPort } from "./cluster.ts";

export const ETCD = "/usr/bin/etcd";
export const hasEtcd = fs.existsSync(ETCD);

export interface EtcdCluster {
  /** Client URLs, one per member, e.g. http://127.0.0.1:48000. */
  endpoints: string[];
  /** Ends member i (SIGKILL by default). */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts member i again on its existing data. */
  restart(i: number): void;
  /** Resolves once member i answers /health with true (needs quorum). */
  waitHealthy(i: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  dir: string;
}

/**
 * Members use client port base+2i and peer port base+2i+1 (both shifted by
 * TANDEM_TEST_PORT_OFFSET). The v2 API is on for CTDB's Python helper, which
 * speaks it.
 */
export async function startEtcd(name: string, basePort: number, members = 3): Promise<EtcdCluster> {
  const base = testPort(basePort);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-etcd-${name}-`));
  const client = (i: number) => `http://127.0.0.1:${base + 2 * i}`;
  const peer = (i: number) => `http://127.0.0.1:${base + 2 * i + 1}`;
  const initial = Array.from({ length: members }, (_, i) => `m${i}=${peer(i)}`).join(",");
  const children: (ChildProcess | undefined)[] = [];
  const launch = (i: number, state: "new" | "existing") => {
    const log = fs.openSync(path.join(dir, `m${i}.log`), "a");
    const child = spawn(
      ETCD,
      [
        `--name=m${i}`,
        `--data-dir=${path.join(dir, `m${i}`)}`,
        `--listen-client-urls=${client(i)}`,
        `--advertise-client-urls=${client(i)}`,
        `--listen-peer-urls=${peer(i)}`,
        `--initial-advertise-peer-urls=${peer(i)}`,
        `--initial-cluster=${initial}`,
        `--initial-cluster-state=${state}`,
        `--initial-cluster-token=tandem-${name}-${process.pid}`,
        "--enable-v2=true",
        "--heartbeat-interval=100",
        "--election-timeout=1000",
        "--log-level=warn",
      ],
      { stdio: ["ignore", log, log] },
    );
    fs.closeSync(log);
    children[i] = child;
  };
  const cluster: EtcdCluster = {
    dir,
    endpoints: Array.from({ length: members }, (_, i) => client(i)),
    async kill(i, signal = "SIGKILL") {
      const child = children[i];
      children[i] = undefined;
      if (child?.pid === undefined) return;
      if (signal === "SIGKILL") {
        child.kill("SIGKILL");
        await stopPid(child.pid, 0);
      } else {
        await stopPid(child.pid, 5000);
      }
    },
    restart(i) {
      if (children[i] !== undefined) throw new Error(`etcd member ${i} is still running`);
      launch(i, "existing");
    },
    async waitHealthy(i, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const res = await fetch(`${client(i)}/health`, { signal: AbortSignal.timeout(1000) });
          const body = (await res.json()) as { health?: string };
          if (body.health === "true") return;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          const log = fs.readFileSync(path.join(dir, `m${i}.log`), "utf8").split("\n").slice(-10).join("\n");
          throw new Error(`etcd member ${i} did not become healthy\n${log}`);
        }
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all(children.map((_, i) => cluster.kill(i, "SIGTERM")));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < members; i++) launch(i, "new");
    for (let i = 0; i < members; i++) await cluster.waitHealthy(i);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
