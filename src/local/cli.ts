// `tandem local start|stop|status|env N`: the local 3-node cluster.

import type { CliContext } from "../cli/context.ts";
import { LOCAL_HTTP_PORT, localLayout, LOCAL_NODES, nodeEnv, readPid, startNode, stopPid, writeLocalConfig } from "./cluster.ts";
import { allHealthy, waitUntil } from "./ready.ts";

const USAGE = "Usage: tandem local start|stop|status [STATUS-OPTIONS]|env PNN\n";

async function printStatus(ctx: CliContext, pnn: number, args: string[]): Promise<number> {
  const { main } = await import("../cli/main.ts");
  return main(args, { ...ctx, env: { ...ctx.env, ...nodeEnv(localLayout(), pnn) } });
}

async function start(ctx: CliContext): Promise<number> {
  const layout = localLayout();
  writeLocalConfig(layout, { httpPort: LOCAL_HTTP_PORT });
  const began = Date.now();
  for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
    if (readPid(layout, pnn) === undefined) startNode(layout, pnn);
  }
  const view = await waitUntil(layout.socket(0), allHealthy, 30_000);
  if (view === undefined) {
    ctx.stderr(`The local cluster did not become healthy within 30 s; logs are in ${layout.root}/node*/log.ctdb\n`);
    return 1;
  }
  ctx.stdout(`Local cluster of ${layout.nodeCount} nodes healthy in ${((Date.now() - began) / 1000).toFixed(2)} s; leader is node ${view.leader}.\n`);
  ctx.stdout(`Point any client at a node with: eval "$(npx tandem local env 0)"\n`);
  const page = `http://${layout.nodeAddress(0)}:${LOCAL_HTTP_PORT}/`;
  ctx.stdout(`Status page: ${page}   metrics: ${page}metrics   (every node serves both on its own address)\n\n`);
  return printStatus(ctx, 0, ["status"]);
}

async function stop(ctx: CliContext): Promise<number> {
  const layout = localLayout();
  let stopped = 0;
  for (let pnn = 0; pnn < LOCAL_NODES; pnn++) {
    const pid = readPid(layout, pnn);
    if (pid === undefined) continue;
    await stopPid(pid);
    stopped++;
  }
  ctx.stdout(stopped === 0 ? "No local nodes were running.\n" : `Stopped ${stopped} local node(s).\n`);
  return 0;
}

export async function localCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "start":
      return start(ctx);
    case "stop":
      return stop(ctx);
    case "status":
      return printStatus(ctx, 0, ["status", ...rest]);
    case "env": {
      const pnn = Number(rest[0] ?? "0");
      if (!Number.isInteger(pnn) || pnn < 0 || pnn >= LOCAL_NODES) {
        ctx.stderr(`tandem local env: no local node ${rest[0]}\n`);
        return 1;
      }
      for (const [key, value] of Object.entries(nodeEnv(localLayout(), pnn))) ctx.stdout(`export ${key}=${value}\n`);
      return 0;
    }
    default:
      ctx.stderr(USAGE);
      return 1;
  }
}
