// A network-namespace test bed: N node namespaces and one client namespace,
// each with an `eth0` on one bridge. The bridge lives in a namespace of its
// own, so nothing is added to the host's network namespace. Every name carries
// the test process's pid; the bed is always removed — by the test, on process
// exit, and on SIGINT/SIGTERM — and a later bed removes beds left behind by a
// process that was SIGKILLed (their pid is gone). Processes started in the
// bed are ended by their PID.
//
// Addresses: node i is 192.0.2.(10+i)/24; the client is 192.0.2.100/24 and
// also 198.51.100.254/24 and 2001:db8::fe/64, so floating addresses in
// 198.51.100.0/24 and 2001:db8::/64 are on its link.

import { type ChildProcess, spawn, spawnSync, type SpawnOptions } from "node:child_process";
import fs from "node:fs";
import { alive, sleep } from "../../src/local/cluster.ts";

export const BED_PREFIX = "tnb";

export interface BedOptions {
  nodes?: number;
}

export interface Bed {
  /** Unique per bed: BED_PREFIX + pid + "x" + sequence. */
  readonly id: string;
  readonly nodeCount: number;
  /** Namespace names. */
  readonly nodeNs: readonly string[];
  readonly clientNs: string;
  readonly hubNs: string;
  nodeAddress(i: number): string;
  readonly clientAddress: string;
  /** Runs a command in a namespace to completion (synchronously: set-up and checks only). */
  execSync(ns: string, argv: string[], input?: string): { code: number; stdout: string; stderr: string };
  /** Runs a command in a namespace; resolves when it exits. */
  exec(ns: string, argv: string[], input?: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts a long-lived process in a namespace; it is ended (by PID) when the bed is removed. */
  spawn(ns: string, argv: string[], opts?: SpawnOptions): ChildProcess;
  /** Stops tracking a PID (after the caller ended it itself). */
  forget(pid: number): void;
  /** A node's link (its eth0 end on the bridge) down or up. */
  setLink(i: number, up: boolean): void;
  /** Ends every process started in the bed and deletes its namespaces. Idempotent. */
  remove(): Promise<void>;
}

let sequence = 0;
const live = new Set<BedState>();

interface BedState {
  namespaces: string[];
  pids: Set<number>;
  removed: boolean;
}

/** Why network-namespace tests cannot run here, or undefined when they can. */
export function bedUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "network-namespace tests need root";
  const probe = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) return `ip netns is not usable here: ${probe.error?.message ?? probe.stderr.trim()}`;
  return undefined;
}

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim() || r.error?.message}`);
}

function nsPids(ns: string): number[] {
  const r = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Synchronous, so it also works from an exit handler. */
function removeSync(state: BedState): void {
  if (state.removed) return;
  state.removed = true;
  live.delete(state);
  for (const pid of state.pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const ns of state.namespaces) {
    // Children of what we started (event scripts, helpers) live only in our namespaces.
    for (const pid of nsPids(ns)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    spawnSync("ip", ["netns", "del", ns]);
  }
}

let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const s of [...live]) removeSync(s);
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      for (const s of [...live]) removeSync(s);
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
  }
}

/** Removes beds whose creating process no longer exists (it was SIGKILLed). */
export function sweepStaleBeds(): void {
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.status !== 0) return;
  const re = new RegExp(`^${BED_PREFIX}(\\d+)x\\d+[a-z0-9]*$`);
  for (const line of r.stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = re.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    removeSync({ namespaces: [name], pids: new Set(), removed: false });
  }
}

export function makeBed(opts: BedOptions = {}): Bed {
  installHandlers();
  sweepStaleBeds();
  const nodeCount = opts.nodes ?? 3;
  const id = `${BED_PREFIX}${process.pid}x${sequence++}`;
  const nodeNs = Array.from({ length: nodeCount }, (_, i) => `${id}n${i}`);
  const clientNs = `${id}c`;
  const hubNs = `${id}h`;
  const state: BedState = { namespaces: [], pids: new Set(), removed: false };
  live.add(state);
  const nodeAddress = (i: number) => `192.0.2.${10 + i}`;
  const clientAddress = "192.0.2.100";
  const sysctl = (ns: string, key: string, value: string) => {
    // /proc/sys/net is per network namespace.
    const r = spawnSync("ip", ["netns", "exec", ns, "sh", "-c", `echo ${value} > /proc/sys/${key.replaceAll(".", "/")}`]);
    if (r.status !== 0) throw new Error(`sysctl ${key}=${value} in ${ns} failed`);
  };
  try {
    for (const ns of [hubNs, ...nodeNs, clientNs]) {
      ip(["netns", "add", ns]);
      state.namespaces.push(ns);
      ip(["-n", ns, "link", "set", "lo", "up"]);
    }
    ip(["-n", hubNs, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
    ip(["-n", hubNs, "link", "set", "br0", "up"]);
    const members = [...nodeNs, clientNs];
    members.forEach((ns, i) => {
      // Addresses must be usable at once: no duplicate address detection.
      sysctl(ns, "net.ipv6.conf.all.accept_dad", "0");
      sysctl(ns, "net.ipv6.conf.default.accept_dad", "0");
      const port = i < nodeCount ? `n${i}` : "c";
      ip(["-n", hubNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      ip(["-n", hubNs, "link", "set", port, "master", "br0", "up"]);
      ip(["-n", ns, "addr", "add", `${i < nodeCount ? nodeAddress(i) : clientAddress}/24`, "dev", "eth0"]);
      ip(["-n", ns, "link", "set", "eth0", "up"]);
    });
    ip(["-n", clientNs, "addr", "add", "198.51.100.254/24", "dev", "eth0"]);
    ip(["-n", clientNs, "addr", "add", "2001:db8::fe/64", "dev", "eth0"]);
  } catch (err) {
    removeSync(state);
    throw err;
  }

  const withNs = (ns: string, argv: string[]) => ["netns", "exec", ns, ...argv];
  const bed: Bed = {
    id,
    nodeCount,
    nodeNs,
    clientNs,
    hubNs,
    nodeAddress,
    clientAddress,
    execSync(ns, argv, input) {
      const r = spawnSync("ip", withNs(ns, argv), { encoding: "utf8", input, timeout: 30_000 });
      return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
    exec(ns, argv, input, timeoutMs = 30_000) {
      return new Promise((resolve) => {
        const child = spawn("ip", withNs(ns, argv), { stdio: ["pipe", "pipe", "pipe"] });
        if (child.pid !== undefined) state.pids.add(child.pid);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
          stdout += d;
        });
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          if (child.pid !== undefined) state.pids.delete(child.pid);
          resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
        });
        // A command that exits without reading its input closes the pipe first; not an error.
        child.stdin.on("error", () => {});
        child.stdin.end(input ?? "");
      });
    },
    spawn(ns, argv, spawnOpts = {}) {
      if (state.removed) throw new Error("the bed was removed");
      // `ip netns exec` enters the namespace and execs the command: same PID.
      const child = spawn("ip", withNs(ns, argv), spawnOpts);
      if (child.pid === undefined) throw new Error(`could not start ${argv[0]} in ${ns}`);
      state.pids.add(child.pid);
      child.once("exit", () => state.pids.delete(child.pid!));
      return child;
    },
    forget(pid) {
      state.pids.delete(pid);
    },
    setLink(i, up) {
      // The bridge side: the node sees carrier loss, as when a cable is pulled.
      ip(["-n", hubNs, "link", "set", `n${i}`, up ? "up" : "down"]);
    },
    async remove() {
      if (state.removed) return;
      // Give what we started a moment to exit cleanly before the SIGKILL sweep.
      for (const pid of state.pids) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // gone
        }
      }
      const deadline = Date.now() + 2000;
      while ([...state.pids].some(alive) && Date.now() < deadline) await sleep(20);
      removeSync(state);
    },
  };
  return bed;
}

/** The namespaces of this process's live beds (for tests of the bed itself). */
export function liveBedNamespaces(): string[] {
  return [...live].flatMap((s) => s.namespaces);
}

export function namespaceExists(ns: string): boolean {
  return fs.existsSync(`/run/netns/${ns}`);
}
