// Runs one event script (or the debug script) the way CTDB's run_proc does:
// own process group, stdin closed, stdout and stderr into ONE pipe, result
// reported when the process exits (not when the pipe closes: a background
// grandchild may keep it open). Never throws for a script that cannot run.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as net from "node:net";
import { EACCES, errnoOf } from "./errno.ts";
import type { ScriptOutcome } from "./core.ts";

/** CTDB 4.17 keeps all output; we keep the first MiB so a chatty script cannot exhaust memory. */
export const DEFAULT_OUTPUT_CAP = 1024 * 1024;

const O_CLOEXEC = 0o2000000;

type Pipe2 = (fds: number[], flags: number) => number;
let pipe2: Pipe2 | null | undefined;

// One pipe for both streams keeps stdout/stderr interleaving exact. Node has
// no pipe(2), so ask libc through koffi; fall back to two pipes without it.
function makePipe(): [number, number] | null {
  if (pipe2 === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const koffi = require("koffi") as {
        load(name: string): { func(decl: string): Pipe2 };
      };
      pipe2 = koffi.load("libc.so.6").func("int pipe2(_Out_ int *fds, int flags)");
    } catch {
      pipe2 = null;
    }
  }
  if (pipe2 === null) return null;
  const fds = [0, 0];
  if (pipe2(fds, O_CLOEXEC) !== 0) return null;
  return [fds[0]!, fds[1]!];
}

export interface ScriptHandle {
  readonly pid: number | undefined;
  /** Output captured so far. */
  output(): string;
  /** Whether the process (group leader) is still running. */
  alive(): boolean;
  /** SIGKILL the whole process group. */
  killGroup(): void;
}

export interface StartOptions {
  path: string;
  argv0: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  outputCap?: number;
  onDone: (outcome: ScriptOutcome, output: string) => void;
}

/** SIGKILL a process group, ignoring "no such process". */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = "SIGKILL"): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function startScript(opts: StartOptions): ScriptHandle {
  const cap = opts.outputCap ?? DEFAULT_OUTPUT_CAP;
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  let exited = false;
  let child: ChildProcess | undefined;

  const collect = (b: Buffer): void => {
    if (size >= cap) return;
    const part = b.length > cap - size ? b.subarray(0, cap - size) : b;
    chunks.push(part);
    size += part.length;
  };
  const output = (): string => Buffer.concat(chunks).toString("utf8");
  const finish = (outcome: ScriptOutcome): void => {
    if (finished) return;
    finished = true;
    opts.onDone(outcome, output());
  };
  const handle: ScriptHandle = {
    get pid() {
      return child?.pid;
    },
    output,
    alive: () => child?.pid !== undefined && !exited,
    killGroup: () => killGroup(child?.pid),
  };

  // run_proc checks these before forking: a missing file or one without the
  // owner's execute bit never runs (the latter reads as "disabled").
  try {
    const st = fs.statSync(opts.path);
    if ((st.mode & 0o100) === 0) {
      setImmediate(() => finish({ kind: "spawn-error", errno: EACCES }));
      return handle;
    }
  } catch (err) {
    const errno = errnoOf(err);
    setImmediate(() => finish({ kind: "spawn-error", errno }));
    return handle;
  }

  const fds = makePipe();
  const streams: net.Socket[] = [];
  try {
    child = spawn(opts.path, opts.args, {
      argv0: opts.argv0,
      cwd: opts.cwd ?? "/",
      env: opts.env,
      detached: true,
      stdio: fds ? ["ignore", fds[1], fds[1]] : ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    if (fds) {
      fs.closeSync(fds[0]);
      fs.closeSync(fds[1]);
    }
    const errno = errnoOf(err);
    setImmediate(() => finish({ kind: "spawn-error", errno }));
    return handle;
  }
  if (fds) {
    fs.closeSync(fds[1]);
    streams.push(new net.Socket({ fd: fds[0], readable: true, writable: false }));
  } else {
    if (child.stdout) streams.push(child.stdout as net.Socket);
    if (child.stderr) streams.push(child.stderr as net.Socket);
  }
  let open = streams.length;
  let drained: (() => void) | null = null;
  for (const s of streams) {
    s.on("data", collect);
    s.on("error", () => {});
    s.on("close", () => {
      open--;
      if (open === 0 && drained) drained();
    });
  }
  const closeStreams = (): void => {
    for (const s of streams) s.destroy();
  };

  child.on("error", (err) => {
    // Only a failed exec leaves no pid: ENOENT for a missing interpreter, EACCES, ENOEXEC, ...
    if (child?.pid !== undefined) return;
    exited = true;
    closeStreams();
    finish({ kind: "spawn-error", errno: errnoOf(err) });
  });
  child.on("exit", (code, signal) => {
    exited = true;
    const outcome: ScriptOutcome =
      signal !== null ? { kind: "signal", signal } : { kind: "exit", code: code ?? 0 };
    // Collect what is already in the pipe, but do not wait for background
    // processes that inherited it.
    const grace = setTimeout(() => {
      drained = null;
      closeStreams();
      finish(outcome);
    }, 50);
    drained = () => {
      clearTimeout(grace);
      finish(outcome);
    };
    if (open === 0) drained();
  });
  return handle;
}

/**
 * Run the `[event] debug script` on a hung script: argv [path, PID, EVENT],
 * its output logged line by line as "event_debug: ...". CTDB gives it no time
 * limit; we kill its group after `timeoutMs` so it cannot hang the component.
 */
export function runDebugScript(opts: {
  path: string;
  pid: number;
  event: string;
  env: Record<string, string>;
  timeoutMs: number;
  cwd?: string;
  log: (level: "error" | "notice" | "debug", message: string) => void;
}): Promise<void> {
  return new Promise((resolve) => {
    opts.log("debug", `Running debug ${opts.path} with args "${opts.pid} ${opts.event}"`);
    let timer: NodeJS.Timeout | undefined;
    const h = startScript({
      path: opts.path,
      argv0: opts.path,
      args: [String(opts.pid), opts.event],
      env: opts.env,
      cwd: opts.cwd,
      onDone: (outcome, output) => {
        if (timer) clearTimeout(timer);
        if (outcome.kind === "spawn-error") {
          opts.log("error", `Running debug failed, ret=${outcome.errno}`);
        }
        for (const line of output.split("\n")) if (line.length > 0) opts.log("error", `event_debug: ${line}`);
        resolve();
      },
    });
    timer = setTimeout(() => {
      opts.log("notice", `Debug script ${opts.path} still running after ${opts.timeoutMs} ms, killing it`);
      h.killGroup();
    }, opts.timeoutMs);
  });
}
