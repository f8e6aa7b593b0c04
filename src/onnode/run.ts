// Runs `tandem onnode`: reads the nodes file, asks the local daemon for node
// states when `ok`/`con` need them, finds an answering node for `any`, and
// runs the command through the remote shell ($ONNODE_SSH, default ssh) on
// each node, one after another or in parallel (-p).

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CtdbClient } from "../client/client.ts";
import { getNodemap } from "../client/controls.ts";
import { resolvePaths } from "../config/paths.ts";
import { CURRENT_NODE } from "../protocol/constants.ts";
import type { CliContext } from "../cli/context.ts";
import { exitStatus, needsAny, needsStatus, type NodeState, parseNodespec, parseOnnodeArgs, plan, readNodesText, resolveNodes, shellWords } from "./core.ts";

const USAGE = `Usage: tandem onnode [OPTION]... NODES COMMAND...
  -c        run COMMAND in the current directory on each node
  -f FILE   read node addresses from FILE instead of $CTDB_BASE/nodes
  -i        keep standard input open (sequential runs only)
  -n        NODES may also name hosts
  -p        run on all the nodes at once
  -q        never print which node is which
  -v        print which node it is even for a single node
  NODES     all, any, ok (healthy), con (connected), a node number, a range
            such as 1-3, a host name (with -n), or a comma-separated list
The remote shell is $ONNODE_SSH (default ssh), called as: SHELL [-n] HOST COMMAND
`;

function nodesFilePath(env: Record<string, string | undefined>, given: string | undefined): string {
  const base = env["CTDB_BASE"] !== undefined && env["CTDB_BASE"] !== "" ? env["CTDB_BASE"] : "/etc/ctdb";
  if (given === undefined) return path.join(base, "nodes");
  if (!fs.existsSync(given) && !path.isAbsolute(given)) return path.join(base, given);
  return given;
}

/** ONNODE_SSH from the environment, else from an `ONNODE_SSH=...` line of $CTDB_BASE/onnode.conf. */
function remoteShell(env: Record<string, string | undefined>): string | undefined {
  if (env["ONNODE_SSH"] !== undefined && env["ONNODE_SSH"] !== "") return env["ONNODE_SSH"];
  const base = env["CTDB_BASE"] !== undefined && env["CTDB_BASE"] !== "" ? env["CTDB_BASE"] : "/etc/ctdb";
  try {
    const text = fs.readFileSync(path.join(base, "onnode.conf"), "utf8");
    const m = /^\s*(?:export\s+)?ONNODE_SSH=(["']?)(.*)\1\s*$/m.exec(text);
    return m?.[2];
  } catch {
    return undefined;
  }
}

async function nodeStates(env: Record<string, string | undefined>): Promise<NodeState[] | undefined> {
  let client: CtdbClient | undefined;
  try {
    client = await CtdbClient.connect(resolvePaths(env).ctdbdSocket, { timeoutMs: 5000 });
    return (await getNodemap(client, CURRENT_NODE, 5000)).nodes.filter((n) => (n.flags & 0x10) === 0).map((n) => ({ pnn: n.pnn, flags: n.flags }));
  } catch {
    return undefined;
  } finally {
    client?.close();
  }
}

interface Run {
  child: ChildProcess;
  done: Promise<number>;
}

function start(shell: string[], host: string, command: string, env: NodeJS.ProcessEnv, stdio: "inherit" | "pipe", keepStdin: boolean): Run {
  const [program, ...args] = shell;
  const child = spawn(program!, [...args, host, command], { env, stdio: [keepStdin ? "inherit" : "ignore", stdio, stdio] });
  const done = new Promise<number>((resolve) => {
    child.on("error", () => resolve(127));
    child.on("close", (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + 15)));
  });
  return { child, done };
}

/** Copies a stream to `write` a line at a time, each line prefixed. */
function prefixLines(stream: NodeJS.ReadableStream, prefix: string, write: (s: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = "";
    stream.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) write(`${prefix}${line}\n`);
    });
    stream.on("end", () => {
      if (pending !== "") write(`${prefix}${pending}\n`);
      resolve();
    });
  });
}

/** The first node (in node order) where `ctdb pnn` answers with a number. */
async function anyNode(shell: string[], nodes: (string | null)[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const runs = nodes.map((host) => {
    if (host === null) return Promise.resolve(undefined);
    const [program, ...args] = shell;
    return new Promise<number | undefined>((resolve) => {
      const child = spawn(program!, [...args, "-n", host, "ctdb pnn"], { env, stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.on("error", () => resolve(undefined));
      child.on("close", () => {
        const line = out.split("\n").find((l) => /^\d+$/.test(l));
        resolve(line === undefined ? undefined : Number(line));
      });
    });
  });
  for (const r of await Promise.all(runs)) if (r !== undefined) return r;
  return undefined;
}

export async function onnode(ctx: CliContext, argv: string[]): Promise<number> {
  const parsed = parseOnnodeArgs(argv);
  if (!parsed.ok) {
    if (parsed.message !== undefined) ctx.stderr(`tandem onnode: ${parsed.message}\n`);
    ctx.stderr(USAGE);
    return 1;
  }
  const { options, nodespec, command } = parsed;
  if (options.push) {
    ctx.stderr("tandem onnode: -P (push files) is not supported; copy files with rsync or scp\n");
    return 1;
  }
  const spec = parseNodespec(nodespec, options.namesOk);
  if (!spec.ok) {
    ctx.stderr(`tandem onnode: ${spec.message}\n`);
    return 1;
  }
  const file = nodesFilePath(ctx.env, options.nodesFile);
  let nodes: (string | null)[];
  try {
    nodes = readNodesText(fs.readFileSync(file, "utf8"));
  } catch (err) {
    ctx.stderr(`tandem onnode: unable to open nodes file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...ctx.env };
  const shellSetting = remoteShell(ctx.env);
  const states = needsStatus(spec.tokens) ? await nodeStates(ctx.env) : undefined;
  const anyPnn = needsAny(spec.tokens) ? await anyNode(shellWords(shellSetting), nodes, env) : undefined;
  const resolved = resolveNodes(spec.tokens, nodes, file, states, anyPnn);
  if (!resolved.ok) {
    ctx.stderr(`tandem onnode: ${resolved.message}\n`);
    return 1;
  }
  const p = plan(options, command, resolved.hosts, shellSetting, process.cwd());
  const runs: Run[] = [];
  const stopAll = () => {
    for (const r of runs) r.child.kill("SIGTERM");
  };
  process.once("SIGINT", stopAll);
  process.once("SIGTERM", stopAll);
  try {
    const codes: number[] = [];
    if (p.parallel) {
      const copies: Promise<void>[] = [];
      for (const host of resolved.hosts) {
        const r = start(p.shell, host, p.command, env, p.label ? "pipe" : "inherit", false);
        runs.push(r);
        if (p.label) {
          copies.push(prefixLines(r.child.stdout!, `[${host}] `, ctx.stdout));
          copies.push(prefixLines(r.child.stderr!, `[${host}] `, ctx.stdout));
        }
      }
      codes.push(...(await Promise.all(runs.map((r) => r.done))));
      await Promise.all(copies);
    } else {
      for (const host of resolved.hosts) {
        if (p.label) ctx.stderr(`\n>> NODE: ${host} <<\n`);
        const r = start(p.shell, host, p.command, env, "inherit", p.stdin);
        runs.push(r);
        codes.push(await r.done);
      }
    }
    return exitStatus(codes);
  } finally {
    process.off("SIGINT", stopAll);
    process.off("SIGTERM", stopAll);
  }
}
