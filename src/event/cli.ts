// `tandem event ...` and `tandem scriptstatus`, behaving as `ctdb event ...`
// and `ctdb scriptstatus` do in CTDB 4.17.
//
// The real `ctdb event` execs the ctdb-event helper (CTDB's event/event_tool.c)
// and turns its exit status into its own (CTDB's tools/ctdb.c run_helper).
// We do both steps in-process: the "tool" layer below reproduces ctdb-event's
// stdout and exit codes, the "helper" layer reproduces ctdb's translation of
// that exit code. RUN and STATUS go to the event daemon's socket; `script
// list/enable/disable` work on the file system only, as ctdb-event does.
// ctdb-event has no machine-readable mode, so -X/-Y change nothing; --json
// prints one JSON object instead of the text.

import net from "node:net";
import type { CliContext } from "../cli/context.ts";
import { resolvePaths } from "../config/paths.ts";
import { disableScript, enableScript, scriptListing } from "./scripts.ts";
import {
  EVENT_RUN_ALL,
  Errno,
  type EventReply,
  type EventRequest,
  FrameReader,
  type Timeval,
  type WireScript,
  type WireStatus,
  decodeHeader,
  decodeReply,
  encodeRequest,
  errnoValue,
  EventProtocolError,
} from "./protocol.ts";

// ---------------------------------------------------------------------------
// Usage texts of ctdb-event (CTDB's common/cmdline.c layout).

const TOOL_COMMANDS: { name: string; args: string; help: string }[] = [
  { name: "run", args: "<timeout> <component> <event> <args>", help: "Run an event" },
  { name: "status", args: "<component> <event>", help: "Get status of an event" },
  { name: "script list", args: "<component>", help: "List event scripts" },
  { name: "script enable", args: "<component> <script>", help: "Enable an event script" },
  { name: "script disable", args: "<component> <script>", help: "Disable an event script" },
];

export function toolUsageFull(): string {
  const width = Math.max(...TOOL_COMMANDS.map((c) => c.name.length + c.args.length));
  let s =
    "Usage: ctdb-event [<options>] <command> [<args>]\n\n" +
    "Help Options:\n" +
    "  -h, --help                                      Show this help message\n\n" +
    "Options:\n" +
    "  -d, --debug=ERROR|WARNING|NOTICE|INFO|DEBUG     debug level\n\n" +
    "Commands:\n";
  for (const c of TOOL_COMMANDS) {
    s += `  ${c.name} ${c.args.padEnd(width - c.name.length)}     ${c.help}\n`;
  }
  return s;
}

export function toolUsageCommand(name: string): string {
  const c = TOOL_COMMANDS.find((x) => x.name === name);
  if (c === undefined) return toolUsageFull();
  return (
    "Usage: ctdb-event [-h] [-h|--help]\n" +
    "        [-d|--debug=ERROR|WARNING|NOTICE|INFO|DEBUG] <command> [<args>]\n\n" +
    `  ${c.name} ${c.args}     ${c.help}\n`
  );
}

/** ctdb's own usage("scriptstatus") output. */
const SCRIPTSTATUS_USAGE =
  "Usage: [-?YXv] [-?|--help] [--usage] [-d|--debug=STRING]\n" +
  "        [-t|--timelimit=INT] [-n|--node=INT] [-Y] [-x|--separator=CHAR]\n" +
  "        [-X] [-v|--verbose] [-T|--maxruntime=INT]\n\n" +
  "Commands:\n" +
  "  scriptstatus    [init|setup|startup|monitor|takeip|releaseip|ipreallocated]  show event script status\n";

// ---------------------------------------------------------------------------
// Pure formatting (ctdb-event's output, byte for byte)

/** C's ctime(): "Sat Nov 21 23:02:25 2026\n" in local time. */
export function ctime(sec: number): string {
  const d = new Date(sec * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (n: number) => String(n).padStart(2, "0");
  return (
    `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}\n`
  );
}

/**
 * printf("%.3f"): toFixed rounds exact ties away from zero while glibc rounds
 * them to even. A double is an exact tie at 3 decimals only when x*16 is an
 * odd integer (x = k/16), so handle that case by hand.
 */
export function formatFixed3(x: number): string {
  const x16 = x * 16;
  if (Number.isInteger(x16) && Math.abs(x16) % 2 === 1) {
    const scaled = x * 1000; // exact: an odd multiple of 62.5
    const lower = Math.floor(scaled);
    const even = lower % 2 === 0 ? lower : lower + 1;
    const sign = even < 0 ? "-" : x < 0 ? "-" : "";
    const a = Math.abs(even);
    return `${sign}${Math.floor(a / 1000)}.${String(a % 1000).padStart(3, "0")}`;
  }
  return x.toFixed(3);
}

/** The same double as CTDB's timeval_delta(). */
export function timevalDelta(end: Timeval, begin: Timeval): number {
  return end.sec - begin.sec + (end.usec - begin.usec) * 1.0e-6;
}

export type Strerror = (errnum: number) => string;

export function scriptStatusWord(result: number): string {
  if (result === -Errno.ETIMEDOUT) return "TIMEDOUT";
  if (result === -Errno.ENOEXEC) return "DISABLED";
  if (result < 0) return "CANNOT RUN";
  return result === 0 ? "OK" : "ERROR";
}

export function formatScriptStatusLine(s: WireScript, strerror: Strerror): string {
  const name = (s.name ?? "(null)").padEnd(20);
  let out: string;
  if (s.result === -Errno.ETIMEDOUT) {
    out = `${name} ${"TIMEDOUT".padEnd(10)} ${ctime(s.begin.sec)}`;
  } else if (s.result === -Errno.ENOEXEC) {
    out = `${name} ${"DISABLED".padEnd(10)}\n`;
  } else if (s.result < 0) {
    out = `${name} ${"CANNOT RUN".padEnd(10)} (${strerror(-s.result)})\n`;
  } else {
    const word = s.result === 0 ? "OK" : "ERROR";
    out = `${name} ${word.padEnd(10)} ${formatFixed3(timevalDelta(s.end, s.begin))} ${ctime(s.begin.sec)}`;
  }
  if (s.result !== 0 && s.result !== -Errno.ENOEXEC) {
    out += `  OUTPUT: ${s.output ?? ""}\n`;
  }
  return out;
}

export function statusErrorMessage(component: string, event: string, result: number): string {
  if (result === Errno.ENOENT) return `Event dir for ${component} does not exist`;
  if (result === Errno.EINVAL) return `Event ${event} has never run in ${component}`;
  return `Unknown error (${result}) for event ${event} in ${component}`;
}

/** ctdb-event's stdout for `status`. */
export function formatStatus(
  component: string,
  event: string,
  result: number,
  status: WireStatus | undefined,
  strerror: Strerror,
): string {
  if (result !== 0) return `${statusErrorMessage(component, event, result)}\n`;
  return (status?.scripts ?? []).map((s) => formatScriptStatusLine(s, strerror)).join("");
}

/** ctdb-event's exit code for `status`. */
export function statusExitCode(result: number, status: WireStatus | undefined): number {
  if (result !== 0 || status === undefined) return result;
  return Math.abs(status.summary);
}

/** ctdb-event's message for a RUN result, or undefined for success. */
export function runResultMessage(component: string, event: string, result: number): string | undefined {
  if (result === 0) return undefined;
  if (result === Errno.ENOENT) return `Event dir for ${component} does not exist`;
  if (result === Errno.ETIMEDOUT) return `Event ${event} in ${component} timed out`;
  if (result === Errno.ECANCELED) return `Event ${event} in ${component} got cancelled`;
  if (result === Errno.ENOEXEC) return `Event ${event} in ${component} failed`;
  return `Failed to run event ${event} in ${component}, result=${result}`;
}

/** C's atoi() for the RUN timeout, clamped at 0 like ctdb-event. */
export function parseTimeout(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (m === null) return 0;
  const n = Number.parseInt(m[1]!, 10);
  if (n < 0) return 0;
  return Math.min(n, 0x7fffffff);
}

export { formatScriptList } from "./scripts.ts";

// ---------------------------------------------------------------------------
// File system side of `script list/enable/disable` (CTDB's common/event_script.c)

interface ToolResult {
  stdout: string;
  exit: number;
  /** Diagnostic ctdb-event prints on stderr at its default log level. */
  stderr?: string;
  json?: Record<string, unknown>;
}

function scriptList(component: string, etcdir: string, datadir: string): ToolResult {
  const listing = scriptListing(etcdir, datadir, component);
  if (listing.result !== 0) {
    return {
      stdout: "",
      exit: listing.result,
      stderr: `Command script list finished with result=${listing.result}\n`,
      json: { component, result: listing.result, error: `Cannot list scripts of ${component} (errno ${listing.result})` },
    };
  }
  // JSON: each script once, provided ones with their symlink state.
  const scripts: { name: string; enabled: boolean; provided: boolean }[] = [];
  const linked = new Set<string>();
  for (const d of listing.provided ?? []) {
    const e = listing.local.find((x) => x.name === d.name && x.link === d.path);
    if (e !== undefined) linked.add(e.path);
    scripts.push({ name: d.name, enabled: e !== undefined, provided: true });
  }
  for (const e of listing.local) {
    if (!linked.has(e.path)) scripts.push({ name: e.name, enabled: e.enabled, provided: false });
  }
  return { stdout: listing.output, exit: 0, json: { component, scripts } };
}

function scriptSet(etcdir: string, datadir: string, component: string, script: string, enable: boolean): ToolResult {
  const r = enable ? enableScript(etcdir, datadir, component, script) : disableScript(etcdir, component, script);
  const json: Record<string, unknown> = { component, script, action: enable ? "enable" : "disable", result: r.result };
  if (r.result !== 0) json.error = r.output.trim() || `errno ${r.result}`;
  return { stdout: r.output, exit: r.result, json };
}

// ---------------------------------------------------------------------------
// Talking to the event daemon (CTDB's common/sock_client.c behaviour)

/** ctdb-event's first request id: CTDB's reqid allocator starts above INT_MAX-200. */
const FIRST_REQID = 0x7fffffff - 200 + 1;
/** sizeof(struct sockaddr_un.sun_path) on Linux. */
const SUN_PATH_MAX = 108;
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export type EventdOutcome =
  | { kind: "reply"; reply: EventReply }
  | { kind: "connect-failed"; message: string }
  | { kind: "bad-reply"; errno: number }
  | { kind: "closed" };

/** Send one request and wait for its reply; never rejects. */
export function eventdRequest(socketPath: string, request: EventRequest): Promise<EventdOutcome> {
  if (Buffer.byteLength(socketPath) >= SUN_PATH_MAX) {
    return Promise.resolve({ kind: "connect-failed", message: `socket path too long: ${socketPath}\n` });
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: EventdOutcome) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(o);
    };
    const frames = new FrameReader(MAX_REPLY_BYTES);
    const sock = net.connect(socketPath);
    let connected = false;
    sock.once("connect", () => {
      connected = true;
      sock.write(encodeRequest(FIRST_REQID, request));
    });
    sock.on("data", (chunk: Buffer) => {
      let packets: Buffer[];
      try {
        packets = frames.push(chunk);
      } catch {
        finish({ kind: "closed" });
        return;
      }
      for (const p of packets) {
        let reqid: number;
        try {
          reqid = decodeHeader(p).reqid;
        } catch {
          continue; // CTDB's client ignores packets whose header it cannot read
        }
        if (reqid !== FIRST_REQID) continue;
        try {
          finish({ kind: "reply", reply: decodeReply(p).reply });
        } catch (err) {
          const errno = err instanceof EventProtocolError ? errnoValue(err.errno) : Errno.EPROTO;
          finish({ kind: "bad-reply", errno });
        }
        return;
      }
    });
    sock.on("error", () => {
      if (!connected) finish({ kind: "connect-failed", message: `socket connect failed - ${socketPath}\n` });
      else finish({ kind: "closed" });
    });
    sock.on("close", () => finish({ kind: "closed" }));
  });
}

// ---------------------------------------------------------------------------
// strerror() from the C library, for "CANNOT RUN (...)" lines

let strerrorImpl: Strerror | undefined;

async function loadStrerror(): Promise<Strerror> {
  if (strerrorImpl !== undefined) return strerrorImpl;
  try {
    const mod = (await import("koffi")) as unknown as { default: typeof import("koffi") };
    const lib = mod.default.load("libc.so.6");
    const fn = lib.func("const char *strerror(int)") as (n: number) => string;
    strerrorImpl = (n) => fn(n);
  } catch {
    strerrorImpl = (n) => `Unknown error ${n}`;
  }
  return strerrorImpl;
}

// ---------------------------------------------------------------------------
// The ctdb-event tool, in-process

async function runCommand(args: string[], ctx: CliContext, socketPath: string): Promise<ToolResult> {
  const [timeoutArg, component, event] = args as [string, string, string];
  const rest = args.slice(3);
  const timeout = parseTimeout(timeoutArg);
  const runAll = ctx.env.CTDB_TEST_MODE !== undefined && ctx.env.CTDB_EVENT_RUN_ALL !== undefined;
  const outcome = await eventdRequest(socketPath, {
    cmd: "run",
    component,
    event,
    args: rest.length > 0 ? rest.join(" ") : null,
    timeout,
    flags: runAll ? EVENT_RUN_ALL : 0,
  });
  const base = { component, event, args: rest, timeout };
  const early = outcomeFailure(outcome, `Failed to run event ${event} in ${component}`, base);
  if (early !== undefined) return early;
  const reply = (outcome as { kind: "reply"; reply: EventReply }).reply;
  const result = reply.cmd === "run" ? reply.result : Errno.EPROTO;
  const message = runResultMessage(component, event, result);
  const json: Record<string, unknown> = { ...base, result };
  if (message !== undefined) json.error = message;
  return { stdout: message === undefined ? "" : `${message}\n`, exit: Math.abs(result), json };
}

function outcomeFailure(
  outcome: EventdOutcome,
  failedPrefix: string,
  base: Record<string, unknown>,
): ToolResult | undefined {
  switch (outcome.kind) {
    case "reply":
      return undefined;
    case "connect-failed":
      return {
        stdout: "",
        exit: Errno.EIO,
        stderr: `${outcome.message}Failed to initialize event client, ret=${Errno.EIO}\n`,
        json: { ...base, result: Errno.EIO, error: "Failed to connect to the event daemon" },
      };
    case "bad-reply":
      return {
        stdout: "",
        exit: 1,
        stderr: `${failedPrefix}, ret=${outcome.errno}\n`,
        json: { ...base, result: outcome.errno, error: "Invalid reply from the event daemon" },
      };
    case "closed":
      // CTDB's client exits(1) quietly when the daemon drops the connection.
      return {
        stdout: "",
        exit: 1,
        json: { ...base, result: Errno.EIO, error: "Connection to the event daemon closed" },
      };
  }
}

function scriptJsonEntry(s: WireScript, strerror: Strerror): Record<string, unknown> {
  const o: Record<string, unknown> = {
    name: s.name,
    status: scriptStatusWord(s.result),
    result: s.result,
    begin: s.begin.sec + s.begin.usec / 1e6,
    end: s.end.sec + s.end.usec / 1e6,
    duration: Number(formatFixed3(timevalDelta(s.end, s.begin))),
    output: s.output,
  };
  if (s.result < 0 && s.result !== -Errno.ETIMEDOUT && s.result !== -Errno.ENOEXEC) {
    o.error = strerror(-s.result);
  }
  return o;
}

async function statusCommand(component: string, event: string, socketPath: string): Promise<ToolResult> {
  const outcome = await eventdRequest(socketPath, { cmd: "status", component, event });
  const base = { component, event };
  const early = outcomeFailure(outcome, `Failed to get status for event ${event} in ${component}`, base);
  if (early !== undefined) return early;
  const reply = (outcome as { kind: "reply"; reply: EventReply }).reply;
  const result = reply.cmd === "status" ? reply.result : Errno.EPROTO;
  const status = reply.result === 0 ? reply.status : undefined;
  const strerror = await loadStrerror();
  const json: Record<string, unknown> = { ...base, result };
  if (result !== 0) {
    json.error = statusErrorMessage(component, event, result);
  } else {
    json.summary = status?.summary ?? 0;
    json.scripts = (status?.scripts ?? []).map((s) => scriptJsonEntry(s, strerror));
  }
  return {
    stdout: formatStatus(component, event, result, status, strerror),
    exit: statusExitCode(result, status),
    json,
  };
}

function usageResult(text: string): ToolResult {
  return { stdout: text, exit: 1, json: { result: 1, error: "usage", usage: text } };
}

/** What ctdb-event prints and exits with for these arguments. */
async function eventTool(argv: string[], ctx: CliContext): Promise<ToolResult> {
  const paths = resolvePaths(ctx.env);
  // CTDB's cmdline matches a command's words as a prefix of the arguments.
  const match = TOOL_COMMANDS.find((c) => {
    const words = c.name.split(" ");
    return words.every((w, i) => argv[i] === w);
  });
  if (match === undefined) {
    // cmdline_parse() and then event_tool_init() both print the full usage.
    return usageResult(toolUsageFull() + toolUsageFull());
  }
  const args = argv.slice(match.name.split(" ").length);
  switch (match.name) {
    case "run":
      if (args.length < 3) return usageResult(toolUsageCommand("run"));
      return runCommand(args, ctx, paths.eventdSocket);
    case "status":
      if (args.length !== 2) return usageResult(toolUsageCommand("status"));
      return statusCommand(args[0]!, args[1]!, paths.eventdSocket);
    case "script list":
      if (args.length !== 1) return usageResult(toolUsageCommand("script list"));
      return scriptList(args[0]!, paths.etcdir, paths.datadir);
    case "script enable":
      if (args.length !== 2) return usageResult(toolUsageCommand("script enable"));
      return scriptSet(paths.etcdir, paths.datadir, args[0]!, args[1]!, true);
    default:
      if (args.length !== 2) return usageResult(toolUsageCommand("script disable"));
      return scriptSet(paths.etcdir, paths.datadir, args[0]!, args[1]!, false);
  }
}

/**
 * ctdb's run_helper(): a helper exit status in [64, 255) is taken as
 * 64+errno, reported on stderr and turned into that errno.
 */
export function helperExit(toolExit: number): { exit: number; stderr: string } {
  const status = toolExit & 0xff;
  if (status >= 64 && status < 255) {
    return { exit: status - 64, stderr: `event daemon helper failed with error ${status - 64}\n` };
  }
  return { exit: status, stderr: "" };
}

function nodeSpecified(ctx: CliContext): boolean {
  return ctx.pnnOption !== undefined && ctx.pnnOption !== null && ctx.pnnOption !== "-1";
}

function emit(ctx: CliContext, r: ToolResult): number {
  if (r.stderr !== undefined) ctx.stderr(r.stderr);
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify(r.json ?? { result: r.exit })}\n`);
  } else {
    ctx.stdout(r.stdout);
  }
  const h = helperExit(r.exit);
  if (h.stderr !== "") ctx.stderr(h.stderr);
  return h.exit;
}

/** `tandem event ARGS...` (argv is what follows "event"). */
export async function eventCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (nodeSpecified(ctx)) {
    ctx.stderr("Cannot specify node for command event\n");
    return 1;
  }
  return emit(ctx, await eventTool(argv, ctx));
}

/** `tandem scriptstatus [EVENT]`: `event status legacy EVENT`, always exiting 0 as ctdb does. */
export async function scriptstatusCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (nodeSpecified(ctx)) {
    ctx.stderr("Cannot specify node for command scriptstatus\n");
    return 1;
  }
  if (argv.length > 1) {
    ctx.stdout(SCRIPTSTATUS_USAGE);
    return 1;
  }
  const r = await eventTool(["status", "legacy", argv[0] ?? "monitor"], ctx);
  emit(ctx, r);
  return 0;
}
