// A local cluster for trying Tandem without root: N daemons on 127.0.0.1…N,
// each with its own CTDB_BASE under <checkout>/.tandem/local/nodeN in CTDB's
// test mode (so sockets, state and pid files live under that directory, and the
// real `ctdb` finds them with just CTDB_BASE and CTDB_TEST_MODE), sharing one
// cluster lock file.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const LOCAL_NODES = 3;
/** Each local node serves its metrics and status page on its own address at this port. */
export const LOCAL_HTTP_PORT = 8379;

export function checkoutDir(): string {
  // dist/src/local/cluster.js → the checkout is three levels up.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
}

export interface LocalLayout {
  root: string;
  shared: string;
  lockFile: string;
  nodeCount: number;
  nodeBase(pnn: number): string;
  nodeAddress(pnn: number): string;
  pidFile(pnn: number): string;
  socket(pnn: number): string;
}

export function localLayout(root = path.join(checkoutDir(), ".tandem", "local"), nodeCount = LOCAL_NODES): LocalLayout {
  const shared = path.join(root, "shared");
  return {
    root,
    shared,
    lockFile: path.join(shared, "cluster.lock"),
    nodeCount,
    nodeBase: (pnn) => path.join(root, `node${pnn}`),
    nodeAddress: (pnn) => `127.0.0.${pnn + 1}`,
    pidFile: (pnn) => path.join(root, `node${pnn}`, "run", "ctdbd.pid"),
    socket: (pnn) => path.join(root, `node${pnn}`, "run", "ctdbd.socket"),
  };
}

/** The environment that points a client (ours or the real ctdb) at node `pnn`. */
export function nodeEnv(layout: LocalLayout, pnn: number): Record<string, string> {
  return { CTDB_BASE: layout.nodeBase(pnn), CTDB_SOCKET: layout.socket(pnn), CTDB_TEST_MODE: "yes" };
}

export interface LocalOptions {
  /** Extra ctdb.conf lines per section, e.g. { cluster: ["leader timeout = 2"] }. */
  conf?: Record<string, string[]>;
  /** Metrics and status page on each node's own address at this port ([http] listen). */
  httpPort?: number;
  /** Extra tandem.conf lines for the [cluster] section. */
  tandem?: string[];
  /** ctdb.tunables lines. */
  tunables?: string[];
  /** A mutex helper is given the shared lock file as its first argument. */
  lock?: "file" | "none" | { helper: string; args?: string[] };
  port?: number;
  /** Runs after the files are written, to add event scripts and the like. */
  setup?: (layout: LocalLayout) => void;
}

/** Writes each node's configuration; existing event scripts and state are kept. */
export function writeLocalConfig(layout: LocalLayout, opts: LocalOptions = {}): void {
  fs.mkdirSync(layout.shared, { recursive: true });
  const nodes = Array.from({ length: layout.nodeCount }, (_, pnn) => layout.nodeAddress(pnn)).join("\n");
  for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
    const base = layout.nodeBase(pnn);
    for (const dir of ["run", "var", "events/legacy", "events/notification"]) {
      fs.mkdirSync(path.join(base, dir), { recursive: true });
    }
    const lock = opts.lock ?? "file";
    const sections: Record<string, string[]> = {
      logging: [`location = file:${path.join(base, "log.ctdb")}`, "log level = NOTICE"],
      cluster: [
        `node address = ${layout.nodeAddress(pnn)}`,
        ...(lock === "file" ? [`cluster lock = ${layout.lockFile}`] : []),
        ...(typeof lock === "object" ? [`cluster lock = !${[lock.helper, layout.lockFile, ...(lock.args ?? [])].join(" ")}`] : []),
      ],
      legacy: ["realtime scheduling = false"],
    };
    for (const [section, lines] of Object.entries(opts.conf ?? {})) {
      sections[section] = [...(sections[section] ?? []), ...lines];
    }
    const conf = Object.entries(sections)
      .map(([section, lines]) => `[${section}]\n${lines.map((l) => `\t${l}\n`).join("")}`)
      .join("\n");
    fs.writeFileSync(path.join(base, "ctdb.conf"), conf);
    fs.writeFileSync(path.join(base, "nodes"), `${nodes}\n`);
    const tandem = [...(opts.port === undefined ? [] : [`port = ${opts.port}`]), ...(opts.tandem ?? [])];
    const http = opts.httpPort === undefined ? "" : `[http]\n\tlisten = ${layout.nodeAddress(pnn)}:${opts.httpPort}\n`;
    fs.writeFileSync(path.join(base, "tandem.conf"), (tandem.length === 0 ? "" : `[cluster]\n${tandem.map((l) => `\t${l}\n`).join("")}`) + http);
    fs.writeFileSync(path.join(base, "ctdb.tunables"), (opts.tunables ?? []).map((l) => `${l}\n`).join(""));
    // As CTDB's notify.sh: every executable notification script gets the event.
    const notify = path.join(base, "notify.sh");
    if (!fs.existsSync(notify)) {
      fs.writeFileSync(
        notify,
        '#!/bin/sh\nfor s in "$CTDB_BASE"/events/notification/*.script; do\n\t[ -x "$s" ] && "$s" "$1"\ndone\nexit 0\n',
        { mode: 0o755 },
      );
    }
    const publicAddresses = path.join(base, "public_addresses");
    if (!fs.existsSync(publicAddresses)) fs.writeFileSync(publicAddresses, "");
  }
  opts.setup?.(layout);
}

export function daemonScript(): string {
  return path.join(checkoutDir(), "dist", "src", "daemon", "main.js");
}

/** How node `pnn`'s daemon is started: the command line and its environment. */
export function daemonCommand(layout: LocalLayout, pnn: number, extraEnv: Record<string, string> = {}): { argv: string[]; env: NodeJS.ProcessEnv } {
  return { argv: [process.execPath, daemonScript(), "--foreground"], env: { ...process.env, ...nodeEnv(layout, pnn), ...extraEnv } };
}

/**
 * Starts node `pnn`'s daemon in the background; returns its PID. It runs with
 * `--foreground` as our child (so the PID is known at once), logging to its
 * log.ctdb as configured.
 */
export function startNode(layout: LocalLayout, pnn: number, extraEnv: Record<string, string> = {}): number {
  const base = layout.nodeBase(pnn);
  const out = fs.openSync(path.join(base, "daemon.out"), "a");
  const { argv, env } = daemonCommand(layout, pnn, extraEnv);
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ["ignore", out, out],
    env,
  });
  fs.closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start the daemon for node ${pnn}`);
  return child.pid;
}

export function readPid(layout: LocalLayout, pnn: number): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(layout.pidFile(pnn), "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Running (a zombie has exited; it only waits for its parent to collect it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; comm may hold spaces or parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return;
    }
    while (alive(pid)) await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
