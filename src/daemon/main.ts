// tandemd: reads CTDB's configuration from CTDB_BASE, finds which node of the
// nodes file it is, and runs that node until told to stop.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadNodeConfig, type NodeConfig } from "../config/load.ts";
import { formatConfigError } from "../config/result.ts";
import { parseDebugLevel } from "../config/values.ts";
import { detach, reportStartup } from "./detach.ts";
import { createLogger } from "./logger.ts";
import { Node } from "./node.ts";
import { startReclaimer } from "./reclaimer.ts";
import { startServices } from "./services.ts";
import { type HttpObserver, startHttpObserver } from "../observe/http.ts";

const HELP = `Usage: tandemd [OPTION...]
  -i, --interactive     don't fork, log to stderr
      --foreground      don't fork, log where ctdb.conf says

Help options:
  -?, --help            Show this help message
      --usage           Display brief usage message
Configuration is read from $CTDB_BASE (default /etc/ctdb), as ctdbd reads it.
`;
const BRIEF = "Usage: tandemd [-?i] [-?|--help] [--usage] [-i|--interactive] [--foreground]\n";

type Mode = "detach" | "interactive" | "foreground";

/** The node this host is: `[cluster] node address`, else the first nodes-file address we can bind. */
async function choosePnn(config: NodeConfig): Promise<number> {
  const wanted = config.conf.cluster.nodeAddress;
  if (wanted !== undefined) {
    const node = config.nodes.find((n) => !n.deleted && n.address === wanted);
    if (node === undefined) throw new Error(`node address ${wanted} is not in the nodes file ${config.paths.nodesFile}`);
    return node.pnn;
  }
  for (const node of config.nodes) {
    if (node.deleted) continue;
    const bindable = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EADDRINUSE"));
      probe.listen({ host: node.address, port: 0 }, () => probe.close(() => resolve(true)));
    });
    if (bindable) return node.pnn;
  }
  throw new Error(`no address in the nodes file ${config.paths.nodesFile} belongs to this host`);
}

export async function main(argv: string[]): Promise<number> {
  let mode: Mode = "detach";
  for (const arg of argv) {
    if (arg === "-i" || arg === "--interactive") mode = "interactive";
    else if (arg === "--foreground") mode = mode === "interactive" ? mode : "foreground";
    else if (arg === "-?" || arg === "-h" || arg === "--help") {
      process.stdout.write(HELP);
      return 0;
    } else if (arg === "--usage") {
      process.stdout.write(BRIEF);
      return 0;
    } else {
      process.stderr.write(`tandemd: invalid option ${arg}: unknown option\n${HELP}`);
      return 1;
    }
  }
  // Start-up failures go to stderr and, for a detached daemon, to the parent
  // that waits for the outcome (the child's own stderr is /dev/null).
  const fail = async (errors: string[]): Promise<number> => {
    for (const e of errors) process.stderr.write(`tandemd: ${e}\n`);
    await reportStartup({ kind: "failed", errors });
    return 1;
  };
  const loaded = await loadNodeConfig(process.env);
  if (!loaded.ok) return fail(loaded.errors.map(formatConfigError));
  const config = loaded.value;
  if (mode === "detach") {
    return detach({
      script: process.argv[1] ?? fileURLToPath(import.meta.url),
      args: [],
      env: process.env,
      socketPath: config.paths.ctdbdSocket,
      stderr: (text) => process.stderr.write(text),
    });
  }
  const level = parseDebugLevel(config.conf.logging.logLevel) ?? 3;
  const logger = createLogger({
    location: mode === "interactive" ? "stderr" : config.conf.logging.location,
    level,
    name: "tandemd",
  });
  let pnn: number;
  try {
    pnn = await choosePnn(config);
  } catch (err) {
    return fail([(err as Error).message]);
  }
  fs.mkdirSync(config.paths.rundir, { recursive: true });
  const running = runningPid(config.paths.pidFile);
  if (running !== undefined) return fail([`already running as pid ${running} (pid file ${config.paths.pidFile})`]);
  fs.writeFileSync(config.paths.pidFile, `${process.pid}\n`);
  const node = new Node(config, pnn, logger);
  const listen = config.tandem.http.listen;
  let observer: HttpObserver | undefined;
  if (listen !== undefined) {
    try {
      observer = await startHttpObserver(node, config, listen, logger.log);
    } catch (err) {
      logger.log("error", `Start-up failed: ${(err as Error).message}`);
      fs.rmSync(config.paths.pidFile, { force: true });
      return fail([(err as Error).message]);
    }
  }
  const reclaimer = startReclaimer(logger.log);
  node.clients.onSession = reclaimer.session;
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => node.shutdown(0));
  process.on("SIGHUP", () => logger.reopen());
  logger.log("notice", `Starting tandemd as node ${pnn} (${config.nodes[pnn]?.address}), CTDB_BASE ${config.paths.base}`);
  try {
    await node.start(await startServices(config, logger.log, observer?.eventRecorded));
  } catch (err) {
    logger.log("error", `Start-up failed: ${(err as Error).message}`);
    await fail([(err as Error).message]);
    node.shutdown(1);
    return 1;
  }
  await reportStartup({ kind: "ready", pid: process.pid });
  return 0;
}

/** The pid in a pid file if that process still runs (a daemon of this node already up). */
function runningPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, "utf8"), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return undefined;
  }
  // A pid reused by an unrelated process after a crash must not block start-up.
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!/tandemd|daemon[/\\]main\.js/.test(cmdline)) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

const entry = process.argv[1] === undefined ? "" : path.resolve(process.argv[1]);
if (entry === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err) => {
      process.stderr.write(`tandemd: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
