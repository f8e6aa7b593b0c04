// Starts a real local cluster for a test, in its own temp directory and on its
// own port, and always stops every daemon it started (by PID).

import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type LocalLayout,
  type LocalOptions,
  localLayout,
  nodeEnv,
  startNode,
  stopPid,
  writeLocalConfig,
} from "../../src/local/cluster.ts";
import { allHealthy, type ClusterView, waitUntil } from "../../src/local/ready.ts";

export interface TestCluster {
  layout: LocalLayout;
  pids: (number | undefined)[];
  env(pnn: number): Record<string, string>;
  start(pnn: number): number;
  kill(pnn: number, signal?: NodeJS.Signals): void;
  waitHealthy(timeoutMs?: number, via?: number): Promise<ClusterView>;
  waitFor(accept: (v: ClusterView) => boolean, via: number, timeoutMs?: number): Promise<ClusterView>;
  stop(): Promise<void>;
}

/**
 * A test's node port, shifted by TANDEM_TEST_PORT_OFFSET so that several
 * checkouts can run their process tests on one host at once.
 */
export function testPort(port: number): number {
  return port + Number(process.env["TANDEM_TEST_PORT_OFFSET"] ?? 0);
}

export async function startCluster(
  name: string,
  basePort: number,
  opts: LocalOptions & { nodes?: number; skipNodes?: number[] } = {},
): Promise<TestCluster> {
  const port = testPort(basePort);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-${name}-`));
  const layout = localLayout(root, opts.nodes ?? 3);
  writeLocalConfig(layout, { ...opts, port });
  const pids: (number | undefined)[] = [];
  const cluster: TestCluster = {
    layout,
    pids,
    env: (pnn) => nodeEnv(layout, pnn),
    start(pnn) {
      const pid = startNode(layout, pnn);
      pids[pnn] = pid;
      return pid;
    },
    kill(pnn, signal = "SIGKILL") {
      const pid = pids[pnn];
      if (pid !== undefined) process.kill(pid, signal);
      if (signal === "SIGKILL") pids[pnn] = undefined;
    },
    async waitHealthy(timeoutMs = 20_000, via = 0) {
      return cluster.waitFor(allHealthy, via, timeoutMs);
    },
    async waitFor(accept, via, timeoutMs = 20_000) {
      const view = await waitUntil(layout.socket(via), accept, timeoutMs);
      if (view === undefined) {
        const logs = Array.from({ length: layout.nodeCount }, (_, p) => {
          const file = path.join(layout.nodeBase(p), "log.ctdb");
          return fs.existsSync(file) ? `--- node ${p}\n${fs.readFileSync(file, "utf8").split("\n").slice(-15).join("\n")}` : "";
        });
        throw new Error(`cluster did not reach the wanted state via node ${via}\n${logs.join("\n")}`);
      }
      return view;
    },
    async stop() {
      await Promise.all(
        pids.map(async (pid) => {
          if (pid === undefined) return;
          try {
            process.kill(pid, "SIGCONT");
          } catch {
            // already gone
          }
          await stopPid(pid, 3000);
        }),
      );
      if (process.env["KEEP_TEST_DIRS"] === undefined) fs.rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (let pnn = 0; pnn < layout.nodeCount; pnn++) if (!opts.skipNodes?.includes(pnn)) cluster.start(pnn);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** input, when given, is written to the program's standard input. */
export function run(file: string, args: string[], env: Record<string, string>, timeoutMs = 20_000, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export const TANDEM = path.resolve("bin", "tandem.js");
export const CTDB = "/usr/bin/ctdb";
export const hasRealCtdb = fs.existsSync(CTDB);
