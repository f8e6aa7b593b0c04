// tandemd: reads CTDB's configuration from CTDB_BASE, finds which node of the
// nodes file it is, and runs that node until told to stop.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadNodeConfig, type NodeConfig } from "../config/load.ts";
import { formatConfigError } from "../config/result.ts";
import { parseDebugLevel } from "../config/values.ts";
import { createLogger } from "./logger.ts";
import { Node } from "./node.ts";
import { startServices } from "./services.ts";

const USAGE = `Usage: tandemd [-i|--interactive] [-h|--help]
  -i, --interactive   stay in the foreground and log to stderr
Configuration is read from $CTDB_BASE (default /etc/ctdb), as ctdbd reads it.
`;

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
  let interactive = false;
  for (const arg of argv) {
    if (arg === "-i" || arg === "--interactive") interactive = true;
    else if (arg === "-h" || arg === "--help") {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`tandemd: unknown option ${arg}\n${USAGE}`);
      return 1;
    }
  }
  const loaded = await loadNodeConfig(process.env);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`tandemd: ${formatConfigError(e)}\n`);
    return 1;
  }
  const config = loaded.value;
  const level = parseDebugLevel(config.conf.logging.logLevel) ?? 3;
  const logger = createLogger({
    location: interactive ? "stderr" : config.conf.logging.location,
    level,
    name: "tandemd",
  });
  let pnn: number;
  try {
    pnn = await choosePnn(config);
  } catch (err) {
    process.stderr.write(`tandemd: ${(err as Error).message}\n`);
    return 1;
  }
  fs.mkdirSync(config.paths.rundir, { recursive: true });
  fs.writeFileSync(config.paths.pidFile, `${process.pid}\n`);
  const node = new Node(config, pnn, logger);
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void node.shutdown(0));
  process.on("SIGHUP", () => logger.reopen());
  logger.log("notice", `Starting tandemd as node ${pnn} (${config.nodes[pnn]?.address}), CTDB_BASE ${config.paths.base}`);
  try {
    await node.start(await startServices(node, config, logger.log));
  } catch (err) {
    logger.log("error", `Start-up failed: ${(err as Error).message}`);
    process.stderr.write(`tandemd: ${(err as Error).message}\n`);
    await node.shutdown(1);
    return 1;
  }
  return 0;
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
