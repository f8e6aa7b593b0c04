/**
 * `tandem`: the command-line tool, a drop-in for CTDB 4.17's `ctdb`.
 *
 * Only the option parser, the command table and the context are loaded up
 * front; everything else is imported when a command needs it, so that the
 * commands event scripts call in loops start quickly.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, resolveMaxRuntime } from "./args.ts";
import { type CommandInfo, findCommand, fullUsageText, optionHelpText, optionUsageText } from "./commands-table.ts";
import { type CliContext, processContext } from "./context.ts";
import type { Daemon } from "./daemon.ts";
import type { Session } from "./session.ts";

type DaemonHandler = (s: Session, args: string[]) => Promise<number>;

/** Daemon commands implemented so far, each loading its module on demand. */
const DAEMON_COMMANDS: Record<string, () => Promise<DaemonHandler>> = {
  status: async () => (await import("./commands/status.ts")).status,
  nodestatus: async () => (await import("./commands/status.ts")).nodestatus,
  uptime: async () => (await import("./commands/info.ts")).uptime,
  ping: async () => (await import("./commands/info.ts")).ping,
  getpid: async () => (await import("./commands/info.ts")).getpid,
  pnn: async () => (await import("./commands/info.ts")).pnn,
  leader: async () => (await import("./commands/info.ts")).leader,
  runstate: async () => (await import("./commands/info.ts")).runstate,
  getcapabilities: async () => (await import("./commands/info.ts")).getcapabilities,
  getreclock: async () => (await import("./commands/info.ts")).getreclock,
  ifaces: async () => (await import("./commands/info.ts")).ifaces,
  getvar: async () => (await import("./commands/tunables.ts")).getvar,
  setvar: async () => (await import("./commands/tunables.ts")).setvar,
  listvars: async () => (await import("./commands/tunables.ts")).listvars,
  disable: async () => (s, a) => import("./commands/nodectl.ts").then((m) => m.changeFlag(s, "disable", a)),
  enable: async () => (s, a) => import("./commands/nodectl.ts").then((m) => m.changeFlag(s, "enable", a)),
  stop: async () => (s, a) => import("./commands/nodectl.ts").then((m) => m.changeFlag(s, "stop", a)),
  continue: async () => (s, a) => import("./commands/nodectl.ts").then((m) => m.changeFlag(s, "continue", a)),
  shutdown: async () => (await import("./commands/nodectl.ts")).shutdown,
  ipreallocate: async () => (s, a) => import("./commands/nodectl.ts").then((m) => (a.length !== 0 ? s.usage("ipreallocate") : m.ipreallocate(s))),
  sync: async () => (s, a) => import("./commands/nodectl.ts").then((m) => (a.length !== 0 ? s.usage("sync") : m.ipreallocate(s))),
  ban: async () => (s, a) => import("./commands/nodectl.ts").then((m) => m.changeFlag(s, "ban", a)),
  unban: async () => (s, a) => import("./commands/nodectl.ts").then((m) => m.changeFlag(s, "unban", a)),
  ip: async () => (await import("./commands/ip.ts")).ip,
  ipinfo: async () => (await import("./commands/ip.ts")).ipinfo,
  setifacelink: async () => (await import("./commands/ip.ts")).setifacelink,
  gratarp: async () => (await import("./commands/ip.ts")).gratarp,
  getdebug: async () => (await import("./commands/ip.ts")).getdebug,
  setdebug: async () => (await import("./commands/ip.ts")).setdebug,
  getdbmap: async () => (await import("./commands/db.ts")).getdbmap,
  getdbstatus: async () => (await import("./commands/db.ts")).getdbstatus,
  getdbseqnum: async () => (await import("./commands/db.ts")).getdbseqnum,
  setdbreadonly: async () => (await import("./commands/db.ts")).setdbreadonly,
  setdbsticky: async () => (await import("./commands/db.ts")).setdbsticky,
  "process-exists": async () => (await import("./commands/db.ts")).processExists,
  setlmasterrole: async () => (await import("./commands/db.ts")).setlmasterrole,
  setleaderrole: async () => (await import("./commands/db.ts")).setleaderrole,
  statistics: async () => (await import("./commands/statistics.ts")).statistics,
  statisticsreset: async () => (await import("./commands/statistics.ts")).statisticsreset,
  stats: async () => (await import("./commands/statistics.ts")).stats,
  gettickles: async () => (await import("./commands/tickles.ts")).gettickles,
  addtickle: async () => (await import("./commands/tickles.ts")).addtickle,
  deltickle: async () => (await import("./commands/tickles.ts")).deltickle,
  recover: async () => (s, a) => import("./commands/recover.ts").then((m) => m.recover(s, a)),
  dumpmemory: async () => (await import("./commands/recover.ts")).dumpmemory,
  rddumpmemory: async () => (await import("./commands/recover.ts")).rddumpmemory,
  addip: async () => (s, a) => import("./commands/ipadmin.ts").then((m) => m.addip(s, a)),
  delip: async () => (await import("./commands/ipadmin.ts")).delip,
  moveip: async () => (s, a) => import("./commands/ipadmin.ts").then((m) => m.moveip(s, a)),
  reloadnodes: async () => (await import("./commands/reloadnodes.ts")).reloadnodes,
  reloadips: async () => (await import("./commands/reloadips.ts")).reloadips,
  attach: async () => (await import("./commands/attach.ts")).attach,
  detach: async () => (await import("./commands/attach.ts")).detach,
  catdb: async () => (await import("./commands/catdb.ts")).catdb,
  cattdb: async () => (await import("./commands/cattdb.ts")).cattdb,
  readkey: async () => (await import("./commands/records.ts")).readkey,
  writekey: async () => (await import("./commands/records.ts")).writekey,
  deletekey: async () => (await import("./commands/records.ts")).deletekey,
  tstore: async () => (await import("./commands/records.ts")).tstore,
  dbstatistics: async () => (await import("./commands/records.ts")).dbstatistics,
  wipedb: async () => (await import("./commands/wipedb.ts")).wipedb,
  lvs: async () => (s, a) => import("./commands/helpers.ts").then((m) => m.lvs(s, a)),
  natgw: async () => (s, a) => import("./commands/helpers.ts").then((m) => m.natgw(s, a)),
  failover: async () => (await import("./commands/failover.ts")).failover,
};

/** Hooks for tests: a fake daemon instead of the socket. */
export interface MainHooks {
  connect?: (ctx: CliContext, socketPath: string) => Promise<{ ok: true; daemon: Daemon } | { ok: false }>;
  /** Standard input for commands that read lists (addtickle, deltickle). */
  stdin?: () => Promise<string>;
}

export async function main(argv: string[], ctxIn: Partial<CliContext> = {}, hooks: MainHooks = {}): Promise<number> {
  const ctx: CliContext = { ...processContext(), ...ctxIn };
  let ret: number;
  try {
    ret = await run(argv, ctx, hooks);
  } catch (e) {
    // A bug or an unforeseen failure: say what it was rather than dying with a stack trace.
    ctx.stderr(`tandem: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  // The shell sees the low byte of the C exit status; ctdb maps -1 to 1.
  return ret === -1 ? 1 : ret & 0xff;
}

async function run(argv: string[], ctx: CliContext, hooks: MainHooks): Promise<number> {
  // Our own `local` family takes its arguments verbatim.
  const parsed = parseArgs(argv, ctx.env, ["local", "failover", "onnode"]);
  if (parsed.kind === "help") {
    ctx.stdout(optionHelpText());
    return 0;
  }
  if (parsed.kind === "usage") {
    ctx.stdout(optionUsageText());
    return 0;
  }
  if (parsed.kind === "error") {
    ctx.stderr(parsed.message);
    return 1;
  }
  const { options, args } = parsed;
  const maxRuntime = resolveMaxRuntime(options, ctx.env);
  if (!maxRuntime.ok) {
    ctx.stderr(maxRuntime.message);
    return 1;
  }
  ctx.machineReadable = options.machineReadable ? { separator: options.separator } : null;
  ctx.json = options.json;
  ctx.timeoutSec = options.timelimit;
  ctx.pnnOption = options.pnn === -1 ? undefined : String(options.pnn);
  ctx.allNodes = options.allNodes;

  const name = args[0];
  if (name === undefined) {
    ctx.stdout(fullUsageText());
    return 1;
  }
  const rest = args.slice(1);
  if (options.watch) {
    if (name !== "status") {
      ctx.stderr(`--watch applies only to status, not to ${name}\n`);
      return 1;
    }
    const { watch } = await import("./watch.ts");
    const once = argv.filter((a) => a !== "--watch");
    return watch(ctx, [name, ...rest].join(" "), (capture) => run(once, capture, hooks));
  }
  if (name === "local") {
    const { localCommand } = await import("../local/cli.ts");
    return localCommand(rest, ctx);
  }
  if (name === "killtcp") {
    // Tandem's own: what CTDB ships as the ctdb_killtcp helper.
    const { killtcp } = await import("./commands/rawtcp.ts");
    return killtcp(ctx, rest, hooks.stdin ?? (await import("./session.ts")).readAllStdin);
  }
  if (options.allNodes && name !== "setvar") {
    ctx.stderr("--all-nodes applies only to setvar\n");
    return 1;
  }
  if (name === "onnode") {
    const { onnode } = await import("../onnode/run.ts");
    return onnode(ctx, rest);
  }
  if (name === "versions") {
    const { versions } = await import("./commands/versions.ts");
    return versions(ctx, rest);
  }
  if (name === "doctor") {
    const { doctor } = await import("./commands/doctor.ts");
    return doctor(ctx, rest);
  }
  const cmd = findCommand(name);
  if (cmd === undefined) {
    ctx.stderr(`Unknown command '${name}'\n`);
    return 1;
  }

  let daemon: Daemon | undefined;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<number>((resolve) => {
    if (maxRuntime.seconds <= 0) return;
    timer = setTimeout(async () => {
      // As ctdb: end every helper this run started (and what they started).
      const { endGroups } = await import("./child-groups.ts");
      endGroups();
      ctx.stderr("Maximum runtime exceeded - exiting\n");
      daemon?.close();
      resolve(1);
    }, maxRuntime.seconds * 1000);
  });
  try {
    return await Promise.race([
      limit,
      runCommand(cmd, rest, ctx, options.pnn, options.verbose !== 0, hooks, (d) => {
        daemon = d;
      }),
    ]);
  } finally {
    clearTimeout(timer);
    daemon?.close();
  }
}

async function runCommand(
  cmd: CommandInfo,
  args: string[],
  ctx: CliContext,
  pnnOption: number,
  verbose: boolean,
  hooks: MainHooks,
  onDaemon: (d: Daemon) => void,
): Promise<number> {
  if (cmd.withoutDaemon) {
    if (pnnOption !== -1) {
      ctx.stderr(`Cannot specify node for command ${cmd.name}\n`);
      return 1;
    }
    return runWithoutDaemon(cmd, args, ctx, hooks);
  }

  const loader = DAEMON_COMMANDS[cmd.name];
  if (loader === undefined) return notImplemented(ctx, cmd.name);

  const { resolvePaths } = await import("../config/paths.ts");
  const socketPath = resolvePaths(ctx.env).ctdbdSocket;
  const connect = hooks.connect ?? (await import("./daemon-client.ts")).connectDaemon;
  const conn = await connect(ctx, socketPath);
  if (!conn.ok) {
    ctx.stderr(`Failed to connect to CTDB daemon (${socketPath})\n`);
    const { findOwnPnn } = await import("./ownpnn.ts");
    if (findOwnPnn(ctx) === null) ctx.stderr("Is this node part of CTDB cluster?\n");
    return 1;
  }
  onDaemon(conn.daemon);
  const { Session } = await import("./session.ts");
  const session = new Session(ctx, conn.daemon);
  session.verbose = verbose;
  if (hooks.stdin !== undefined) session.readStdin = hooks.stdin;
  try {
    if (pnnOption !== -1) {
      if (!(await session.verifyPnn(pnnOption))) return 1;
      session.cmdPnn = pnnOption >>> 0;
    }
    if (!cmd.remote && session.pnn !== session.cmdPnn) {
      ctx.stderr(`Node cannot be specified for command ${cmd.name}\n`);
      return 1;
    }
    const handler = await loader();
    return await handler(session, args);
  } catch (e) {
    if (e instanceof Error && e.name === "DaemonGone") return 1;
    throw e;
  }
}

async function runWithoutDaemon(cmd: CommandInfo, args: string[], ctx: CliContext, hooks: MainHooks): Promise<number> {
  switch (cmd.name) {
    case "version": {
      const { formatVersion, TANDEM_VERSION_STRING } = await import("./format/simple.ts");
      ctx.stdout(ctx.json ? JSON.stringify({ version: TANDEM_VERSION_STRING }) + "\n" : formatVersion());
      return 0;
    }
    case "listnodes": {
      const { listnodes } = await import("./commands/listnodes.ts");
      return listnodes(ctx, args);
    }
    case "tickle": {
      const { tickle } = await import("./commands/rawtcp.ts");
      const { commandUsageText } = await import("./commands-table.ts");
      const usage = (c: string) => {
        ctx.stdout(commandUsageText(c));
        return 1;
      };
      return tickle(ctx, args, usage, hooks.stdin ?? (await import("./session.ts")).readAllStdin);
    }
    case "checktcpport": {
      const { checktcpport } = await import("./commands/checktcpport.ts");
      return checktcpport(ctx, args);
    }
    case "event": {
      const { eventCommand } = await import("../event/cli.ts");
      return eventCommand(args, ctx);
    }
    case "scriptstatus": {
      const { scriptstatusCommand } = await import("../event/cli.ts");
      return scriptstatusCommand(args, ctx);
    }
    case "ipalloc": {
      const { ipalloc } = await import("./commands/ipalloc.ts");
      return ipalloc(ctx, args, hooks.stdin ?? (await import("./session.ts")).readAllStdin);
    }
    default:
      return notImplemented(ctx, cmd.name);
  }
}

function notImplemented(ctx: CliContext, name: string): number {
  ctx.stderr(`Command '${name}' is not implemented by tandem yet\n`);
  return 1;
}

function isEntryModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryModule()) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Anything still pending (a timed-out control, a leader wait) must not keep us alive.
  process.stdout.write("", () => process.exit(code));
}
