// A cluster in the network bed: one daemon per node namespace — tandemd or the
// real ctdbd — each with its own CTDB_BASE in CTDB's test mode (so sockets,
// state and databases live under that directory and no node sees another's),
// sharing one cluster lock file, with the node's TCP service beside it and the
// floating addresses in every node's public_addresses on eth0.
//
// The real ctdbd needs no mount namespace this way: in test mode its run, var
// and share directories move under CTDB_BASE, and its scripts find
// `functions` through CTDB_BASE as well.

import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import {
  alive,
  checkoutDir,
  daemonCommand,
  type LocalLayout,
  type LocalOptions,
  localLayout,
  nodeEnv,
  sleep,
  writeLocalConfig,
} from "../../../src/local/cluster.ts";
import { testPort } from "../cluster.ts";
import type { Bed } from "../netns.ts";

export type Impl = "tandem" | "ctdb";
/** Whose interface script does the address work: CTDB's shipped 10.interface or Tandem's. */
export type InterfaceScript = "ctdb" | "tandem";

export const FLOATING = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "2001:db8::1"];
export const CTDBD = "/usr/sbin/ctdbd";
export const CTDB_TOOL = "/usr/bin/ctdb";
const CTDB_SCRIPTS = "/usr/share/ctdb/events/legacy";
const CTDB_FUNCTIONS = "/etc/ctdb/functions";
const TANDEM_SCRIPTS = path.join(checkoutDir(), "events", "legacy");

export interface BedClusterOptions extends LocalOptions {
  impl?: Impl;
  iface?: InterfaceScript;
  /** Node-to-node port for tandemd (before the test offset). */
  basePort?: number;
  /** The TCP service's port in every node namespace. */
  servicePort?: number;
}

export interface BedCluster {
  readonly impl: Impl;
  readonly layout: LocalLayout;
  readonly servicePort: number;
  readonly pids: (number | undefined)[];
  env(pnn: number): Record<string, string>;
  start(pnn: number): number;
  /** Sends a signal to node pnn's daemon (SIGKILL forgets it). */
  signal(pnn: number, sig: NodeJS.Signals): void;
  /** Runs the real `ctdb` (or another tool) in node pnn's namespace against its daemon. */
  tool(pnn: number, args: string[], file?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `ctdb -X ip` of node pnn: address → hosting pnn (-1 when none); undefined when it does not answer. */
  ipMap(pnn: number): Promise<Map<string, number> | undefined>;
  log(pnn: number, lines?: number): string;
  stop(): Promise<void>;
}

/** Why the real ctdbd cannot run in the bed here, or undefined. */
export function ctdbdUnavailable(): string | undefined {
  if (!fs.existsSync(CTDBD)) return "ctdbd is not installed";
  if (!fs.existsSync(path.join(CTDB_SCRIPTS, "10.interface.script"))) return "CTDB's event scripts are not installed";
  return undefined;
}

/**
 * The real ctdbd checks whether it already hosts an address only outside
 * test mode (in test mode it runs takeip for every address, every run, and
 * 10.interface fails on the ones it has). So each ctdbd node runs without
 * test mode in a mount namespace of its own, where its node directory is
 * /etc/ctdb, its run/ is /run/ctdb and its var/ is /var/lib/ctdb; its tool
 * calls go through the same.
 */
export function ctdbNamespace(layout: LocalLayout, pnn: number, argv: string[]): string[] {
  const base = layout.nodeBase(pnn);
  for (const d of ["run", "var/volatile", "var/persistent", "var/state", "var/scripts"]) fs.mkdirSync(path.join(base, d), { recursive: true });
  // The mount points; Debian's ctdb package makes them when the service starts.
  for (const d of ["/run/ctdb", "/var/lib/ctdb"]) fs.mkdirSync(d, { recursive: true });
  const binds = 'mount --bind "$1" /etc/ctdb && mount --bind "$2" /run/ctdb && mount --bind "$3" /var/lib/ctdb && shift 3 && exec "$@"';
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", binds, "sh", base, path.join(base, "run"), path.join(base, "var"), ...argv];
}

function ctdbEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["CTDB_BASE", "CTDB_TEST_MODE", "CTDB_SOCKET"]) delete env[k];
  return env;
}

export function publicAddressesText(): string {
  return FLOATING.map((a) => `${a}/${a.includes(":") ? 64 : 24} eth0\n`).join("");
}

function installScripts(base: string, iface: InterfaceScript): void {
  const dir = path.join(base, "events", "legacy");
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(CTDB_FUNCTIONS)) fs.copyFileSync(CTDB_FUNCTIONS, path.join(base, "functions"));
  if (fs.existsSync(path.join(CTDB_SCRIPTS, "00.ctdb.script"))) {
    fs.symlinkSync(path.join(CTDB_SCRIPTS, "00.ctdb.script"), path.join(dir, "00.ctdb.script"));
  }
  const src = iface === "ctdb" ? path.join(CTDB_SCRIPTS, "10.interface.script") : path.join(TANDEM_SCRIPTS, "10.interface.script");
  fs.symlinkSync(src, path.join(dir, "10.interface.script"));
}

export function startBedCluster(bed: Bed, opts: BedClusterOptions = {}): BedCluster {
  const impl = opts.impl ?? "tandem";
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${bed.id}-`));
  const layout: LocalLayout = { ...localLayout(root, bed.nodeCount), nodeAddress: (pnn) => bed.nodeAddress(pnn) };
  const port = testPort(opts.basePort ?? 44000);
  const servicePort = testPort(opts.servicePort ?? 44001);
  writeLocalConfig(layout, {
    ...opts,
    ...(impl === "tandem" ? { port } : {}),
    setup: (l) => {
      for (let pnn = 0; pnn < l.nodeCount; pnn++) {
        const base = l.nodeBase(pnn);
        fs.writeFileSync(path.join(base, "public_addresses"), publicAddressesText());
        installScripts(base, opts.iface ?? "ctdb");
      }
      opts.setup?.(l);
    },
  });
  const pids: (number | undefined)[] = [];
  const services: ChildProcess[] = [];
  for (let pnn = 0; pnn < bed.nodeCount; pnn++) {
    // Clients retry, so the cluster need not wait for its services to listen.
    services.push(bed.spawn(bed.nodeNs[pnn]!, [process.execPath, SERVICE_SCRIPT, `node${pnn}`, String(servicePort)], { stdio: "ignore" }));
  }
  const cluster: BedCluster = {
    impl,
    layout,
    servicePort,
    pids,
    env: (pnn) => (impl === "tandem" ? nodeEnv(layout, pnn) : {}),
    start(pnn) {
      const out = fs.openSync(path.join(layout.nodeBase(pnn), "daemon.out"), "a");
      const cmd =
        impl === "tandem"
          ? daemonCommand(layout, pnn)
          : { argv: ctdbNamespace(layout, pnn, [CTDBD, "-i"]), env: ctdbEnv() };
      const child = bed.spawn(bed.nodeNs[pnn]!, cmd.argv, { stdio: ["ignore", out, out], env: cmd.env, detached: true });
      fs.closeSync(out);
      child.unref();
      pids[pnn] = child.pid;
      return child.pid!;
    },
    signal(pnn, sig) {
      const pid = pids[pnn];
      if (pid === undefined) return;
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
      if (sig === "SIGKILL") pids[pnn] = undefined;
    },
    tool(pnn, args, file = CTDB_TOOL) {
      const env = Object.entries({ PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...cluster.env(pnn) }).map(([k, v]) => `${k}=${v}`);
      const argv = ["env", "-i", ...env, file, ...args];
      return bed.exec(bed.nodeNs[pnn]!, impl === "tandem" ? argv : ctdbNamespace(layout, pnn, argv), undefined, 10_000);
    },
    async ipMap(pnn) {
      const r = await cluster.tool(pnn, ["-X", "ip"]);
      if (r.code !== 0) return undefined;
      const m = new Map<string, number>();
      for (const line of r.stdout.split("\n").slice(1)) {
        const f = line.split("|");
        if (f.length >= 3 && f[1] !== "") m.set(f[1]!, Number(f[2]));
      }
      return m;
    },
    log(pnn, lines = 30) {
      const files = ["log.ctdb", "daemon.out"].map((f) => path.join(layout.nodeBase(pnn), f));
      return files
        .filter((f) => fs.existsSync(f))
        .map((f) => `--- ${path.basename(f)} of node ${pnn}\n${fs.readFileSync(f, "utf8").split("\n").slice(-lines).join("\n")}`)
        .join("\n");
    },
    async stop() {
      await Promise.all(
        pids.map(async (pid, pnn) => {
          if (pid === undefined) return;
          try {
            process.kill(pid, "SIGCONT");
            process.kill(pid, "SIGTERM");
          } catch {
            return;
          }
          const deadline = Date.now() + 5000;
          while (alive(pid) && Date.now() < deadline) await sleep(20);
          if (alive(pid)) process.kill(pid, "SIGKILL");
          bed.forget(pid);
          pids[pnn] = undefined;
        }),
      );
      for (const s of services) s.kill("SIGTERM");
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}

const SERVICE_SCRIPT = path.join(checkoutDir(), "dist", "bench", "netbed", "service.js");

/** Starts the TCP service answering `name` in namespace `ns`; resolves once it listens. */
export async function startService(bed: Bed, ns: string, name: string, port: number): Promise<ChildProcess> {
  const child = bed.spawn(ns, [process.execPath, SERVICE_SCRIPT, name, String(port)], { stdio: ["ignore", "pipe", "ignore"] });
  await new Promise((resolve, reject) => {
    child.stdout!.once("data", resolve);
    child.once("exit", (code) => reject(new Error(`the service in ${ns} exited (${code})`)));
  });
  return child;
}

export interface ClientEvent {
  t: number;
  kind: "answer" | "fail" | "held" | "held-end";
  addr: string;
  node?: string;
  error?: string;
  held?: boolean;
  /** The client's own port of a held connection. */
  port?: number;
}

export interface BedClient {
  readonly events: ClientEvent[];
  /** Resolves with the first event after `since` that `accept` takes, or undefined after timeoutMs. */
  waitFor(accept: (e: ClientEvent) => boolean, timeoutMs: number, since?: number): Promise<ClientEvent | undefined>;
  poke(addr: string): void;
  stop(): void;
}

/** The client of the bed, in its client namespace, probing and holding each address. */
/** The address map as node `via` reports it, once every floating address is hosted (undefined on timeout). */
export async function allHosted(c: BedCluster, via: number, timeoutMs: number, pollMs = 50): Promise<Map<string, number> | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const m = await c.ipMap(via);
    if (m !== undefined && FLOATING.every((a) => (m.get(a) ?? -1) >= 0)) return m;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return undefined;
}

export function startClient(bed: Bed, port: number, addrs: readonly string[] = FLOATING): BedClient {
  const script = path.join(checkoutDir(), "dist", "bench", "netbed", "client.js");
  const child = bed.spawn(bed.clientNs, [process.execPath, script, String(port), ...addrs], { stdio: ["pipe", "pipe", "ignore"] });
  const events: ClientEvent[] = [];
  const waiters = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as ClientEvent);
    } catch {
      return;
    }
    for (const w of [...waiters]) w();
  });
  return {
    events,
    async waitFor(accept, timeoutMs, since = 0) {
      let next = 0;
      const find = () => {
        for (; next < events.length; next++) {
          const e = events[next]!;
          if (e.t >= since && accept(e)) return e;
        }
        return undefined;
      };
      const found = find();
      if (found !== undefined) return found;
      return new Promise((resolve) => {
        const check = () => {
          const e = find();
          if (e === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(e);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(check);
      });
    },
    poke(addr) {
      child.stdin!.write(`poke ${addr}\n`);
    },
    stop() {
      child.stdin!.end();
      child.kill("SIGTERM");
    },
  };
}
