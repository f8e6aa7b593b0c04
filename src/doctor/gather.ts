// Gathers what `tandem doctor` judges: this host's configuration, files and
// interfaces, each node's answers through this node's daemon, and a brief
// race for the cluster lock from two processes of this host.

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CtdbClient } from "../client/client.ts";
import { getNodemap, getTandemInfo, getTunable, getUptime, listTunables } from "../client/controls.ts";
import { loadNodeConfig, type NodeConfig } from "../config/load.ts";
import { resolvePaths } from "../config/paths.ts";
import { formatConfigError } from "../config/result.ts";
import { parseClusterLockSetting } from "../lock/setting.ts";
import { DEFAULT_RECHECK_INTERVAL_MS } from "../lock/cluster-lock.ts";
import { Control, CURRENT_NODE, NodeFlag, UNKNOWN_PNN } from "../protocol/constants.ts";
import { decodeNodeMap } from "../protocol/types.ts";
import type { Facts, LockFacts, NodeFacts, ProbeOutcome, ScriptFact } from "./checks.ts";

const PROBE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "lock-probe.js");
const PROBE_TIMEOUT_MS = 8000;

interface Probe {
  child: ChildProcess;
  outcome: Promise<{ outcome: ProbeOutcome; reason?: string }>;
}

function startProbe(setting: string, helperBindir: string): Probe {
  const child = spawn(process.execPath, [PROBE_SCRIPT, setting, helperBindir], { stdio: ["pipe", "pipe", "ignore"] });
  const outcome = new Promise<{ outcome: ProbeOutcome; reason?: string }>((resolve) => {
    let out = "";
    const timer = setTimeout(() => resolve({ outcome: "timeout", reason: `no answer within ${PROBE_TIMEOUT_MS / 1000} s` }), PROBE_TIMEOUT_MS);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl === -1) return;
      clearTimeout(timer);
      const line = out.slice(0, nl);
      if (line === "held" || line === "contended" || line === "timeout") resolve({ outcome: line });
      else resolve({ outcome: "error", reason: line.replace(/^error: /, "") });
    });
    child.on("exit", () => {
      clearTimeout(timer);
      resolve({ outcome: "error", reason: out.trim() || "the probe exited without an answer" });
    });
  });
  return { child, outcome };
}

function endProbe(p: Probe): void {
  p.child.stdin?.end();
  const t = setTimeout(() => p.child.kill("SIGKILL"), 2000);
  p.child.once("exit", () => clearTimeout(t));
}

/** The first contender takes the lock if it can; while it holds it, a second must be refused. */
export async function probeLock(setting: string, helperBindir: string): Promise<LockFacts["probe"]> {
  const first = startProbe(setting, helperBindir);
  try {
    const a = await first.outcome;
    if (a.outcome !== "held") return { first: a.outcome, ...(a.reason === undefined ? {} : { reason: a.reason }) };
    const second = startProbe(setting, helperBindir);
    try {
      const b = await second.outcome;
      return { first: "held", second: b.outcome };
    } finally {
      endProbe(second);
    }
  } finally {
    endProbe(first);
  }
}

/** Seconds between a lock holder's checks that it still holds the lock, where that is known. */
function recheckSec(setting: string, helperBindir: string): number | undefined {
  const parsed = parseClusterLockSetting(setting, helperBindir);
  if (parsed.kind === "file") return DEFAULT_RECHECK_INTERVAL_MS / 1000;
  if (parsed.kind === "helper" && path.basename(parsed.argv[0]) === "ctdb_mutex_fcntl_helper") {
    // ctdb_mutex_fcntl_helper FILE [RECHECK-INTERVAL], default 5 s.
    const arg = parsed.argv[2];
    return arg === undefined ? 5 : Number(arg);
  }
  return undefined;
}

function scriptFacts(dir: string): ScriptFact[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^[0-9][0-9]\.[^.]+\.script$/.test(n)).sort();
  } catch {
    return [];
  }
  return names.map((file) => {
    const full = path.join(dir, file);
    const executable = (() => {
      try {
        fs.accessSync(full, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    })();
    let first = "";
    try {
      first = fs.readFileSync(full, "utf8").split("\n", 1)[0] ?? "";
    } catch {
      // unreadable: judged as having no #! line
    }
    if (!first.startsWith("#!")) return { file, executable };
    const interpreter = first.slice(2).trim().split(/\s+/)[0] ?? "";
    let interpreterOk = false;
    try {
      fs.accessSync(interpreter, fs.constants.X_OK);
      interpreterOk = fs.statSync(interpreter).isFile();
    } catch {
      interpreterOk = false;
    }
    return { file, executable, interpreter, interpreterOk };
  });
}

function hostInterfaces(): string[] {
  try {
    return fs.readdirSync("/sys/class/net");
  } catch {
    return [];
  }
}

async function nodeFacts(c: CtdbClient, node: { pnn: number; address: string; flags: number }, timeoutMs: number): Promise<NodeFacts> {
  const facts: NodeFacts = { pnn: node.pnn, address: node.address };
  if ((node.flags & NodeFlag.DISCONNECTED) !== 0) return { ...facts, unreachable: "disconnected from this node" };
  try {
    const reply = await c.control(node.pnn, Control.GET_NODES_FILE, Buffer.alloc(0), { timeoutMs });
    if (reply.status === 0) {
      facts.nodesFile = decodeNodeMap(reply.data).nodes.map((n) => ({
        pnn: n.pnn,
        address: n.addr,
        deleted: (n.flags & NodeFlag.DELETED) !== 0,
      }));
    }
    const tunables: Record<string, number> = {};
    for (const name of await listTunables(c, node.pnn, timeoutMs)) tunables[name] = await getTunable(c, node.pnn, name, timeoutMs);
    facts.tunables = tunables;
    const t0 = Date.now();
    const up = await getUptime(c, node.pnn, timeoutMs);
    const t1 = Date.now();
    const remote = up.currentTime.sec * 1000 + up.currentTime.usec / 1000;
    facts.clock = { offsetMs: remote - (t0 + t1) / 2, rttMs: t1 - t0 };
  } catch (err) {
    return { pnn: node.pnn, address: node.address, unreachable: (err as Error).message };
  }
  try {
    const info = await getTandemInfo(c, node.pnn, timeoutMs);
    facts.info = { sharedKey: info.sharedKey, transport: info.transport };
  } catch {
    // not a Tandem daemon: nothing of Tandem's own to check there
  }
  return facts;
}

export async function gatherFacts(env: Record<string, string | undefined>, timeoutMs = 5000): Promise<Facts> {
  const paths = resolvePaths(env);
  const loaded = await loadNodeConfig(env);
  const config: NodeConfig | undefined = loaded.ok ? loaded.value : undefined;
  const facts: Facts = {
    nodesFilePath: paths.nodesFile,
    localNodes: config?.nodes ?? [],
    configErrors: loaded.ok ? [] : loaded.errors.map((e) => ({ file: e.file ?? "configuration", message: formatConfigError(e) })),
    lock: {
      setting: config?.conf.cluster.clusterLock,
      requireMajority: config?.tandem.cluster.requireMajority ?? true,
      leader: undefined,
      recheckSec: undefined,
      leaderTimeoutSec: config?.conf.cluster.leaderTimeoutSec ?? 5,
    },
    nodes: [],
    publicAddressesFile: paths.publicAddressesFile,
    publicAddresses: config?.publicAddresses ?? [],
    hostInterfaces: hostInterfaces(),
    scriptDir: paths.eventScriptDir,
    scripts: scriptFacts(paths.eventScriptDir),
    localSharedKey: config?.tandem.cluster.sharedKey !== undefined,
    tandemConfFile: paths.tandemConfFile,
  };
  let client: CtdbClient | undefined;
  try {
    client = await CtdbClient.connect(paths.ctdbdSocket, { timeoutMs });
  } catch (err) {
    facts.configErrors.push({ file: paths.ctdbdSocket, message: `no daemon answers on this host's socket (${(err as Error).message}); only this host's files were checked` });
  }
  try {
    if (client !== undefined) {
      const map = await getNodemap(client, CURRENT_NODE, timeoutMs);
      for (const n of map.nodes) {
        if ((n.flags & NodeFlag.DELETED) !== 0) continue;
        facts.nodes.push(await nodeFacts(client, { pnn: n.pnn, address: n.addr, flags: n.flags }, timeoutMs));
      }
      const leader = await client.waitForLeader(timeoutMs).catch(() => UNKNOWN_PNN);
      facts.lock.leader = leader === UNKNOWN_PNN ? undefined : leader;
    }
    const setting = facts.lock.setting;
    if (setting !== undefined) {
      facts.lock.recheckSec = recheckSec(setting, paths.helperBindir);
      facts.lock.probe = await probeLock(setting, paths.helperBindir);
    }
  } finally {
    client?.close();
  }
  return facts;
}
