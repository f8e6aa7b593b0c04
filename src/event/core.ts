// Pure state machine of one event component's runner, following CTDB's
// common/run_event.c, common/run_proc.c and event/event_cmd.c:
// - one event at a time (a FIFO queue), scripts in alphasort order;
// - stop at the first failing script unless RUN_ALL;
// - one deadline for the whole event, fixed when the request arrives;
// - a new event cancels a running monitor; a monitor requested while another
//   event runs is answered ECANCELED at once; cancelled runs record nothing;
// - on timeout the debug script (if any, one at a time) looks at the hung
//   process, which is then killed.
// No I/O, no clock: the shell feeds inputs (with nowMs) and executes effects.
import type { EventScriptStatus, EventStatus } from "./api.ts";
import { EACCES, ECANCELED, EINTR, ENOEXEC, ETIMEDOUT } from "./errno.ts";

export interface ScriptEntry {
  name: string;
  enabled: boolean;
  /** stat() failed (dangling symlink): running it fails with -statErrno. */
  statErrno?: number;
}

export type ScriptOutcome =
  | { kind: "exit"; code: number }
  | { kind: "signal"; signal: string }
  | { kind: "spawn-error"; errno: number };

export type CoreInput =
  | {
      kind: "run";
      id: number;
      event: string;
      args: string[];
      timeoutSec: number;
      runAll: boolean;
      nowMs: number;
    }
  | { kind: "listed"; token: number; nowMs: number; result: { scripts: ScriptEntry[] } | { errno: number } }
  | { kind: "script-done"; token: number; nowMs: number; outcome: ScriptOutcome; output: string }
  /** The timer of spawn `token` fired; `output` is what it printed so far, `alive` whether it still runs. */
  | { kind: "timeout"; token: number; nowMs: number; output: string; alive: boolean }
  | { kind: "debug-done"; token: number; nowMs: number };

export type LogLevel = "error" | "warning" | "notice" | "info" | "debug";

export type CoreEffect =
  | { kind: "list"; token: number }
  /** Run `<dir>/<script>.script` with argv [event, ...args] in its own process group. */
  | { kind: "spawn"; token: number; script: string; argv: string[] }
  | { kind: "start-timer"; token: number; atMs: number }
  | { kind: "cancel-timer"; token: number }
  /** SIGKILL the process group of spawn `token` (it may already be gone). */
  | { kind: "kill"; token: number }
  /** Run the debug script on the still-running process of spawn `token`; answer with debug-done. */
  | { kind: "debug"; token: number; event: string }
  /**
   * Answer request `id`. `reply` is eventd's wire result (0, ETIMEDOUT,
   * ECANCELED, ENOEXEC, or the errno that stopped the run); `summary` is the
   * run's summary (0, a script's exit status, or -errno), null when the run
   * could not start.
   */
  | { kind: "reply"; id: number; reply: number; summary: number | null }
  | { kind: "record"; event: string; status: EventStatus }
  | { kind: "log"; level: LogLevel; message: string };

interface Request {
  id: number;
  event: string;
  argv: string[];
  runAll: boolean;
  deadlineMs: number;
}

interface Active extends Request {
  phase: "listing" | "running";
  token: number;
  scripts: ScriptEntry[];
  index: number;
  results: EventScriptStatus[];
  summary: number;
  beginMs: number;
}

export interface CoreState {
  readonly hasDebugScript: boolean;
  readonly nextToken: number;
  readonly queue: readonly Request[];
  readonly current: Readonly<Active> | null;
  /** Spawn token whose hung process the debug script is looking at. */
  readonly debugToken: number | null;
}

export function initialState(hasDebugScript: boolean): CoreState {
  return { hasDebugScript, nextToken: 1, queue: [], current: null, debugToken: null };
}

export interface StepResult {
  state: CoreState;
  effects: CoreEffect[];
}

/**
 * eventd's result of one script from how it ended. run_proc reports an exec
 * failure as exit status 64+errno, so any exit status in 64..254 is read back
 * as an errno (64 itself reads as success, 77 as EACCES): CTDB 4.17 quirk kept.
 */
export function scriptResult(outcome: ScriptOutcome): number {
  let err = 0;
  let status = 0;
  switch (outcome.kind) {
    case "signal":
      return -EINTR;
    case "spawn-error":
      err = outcome.errno;
      break;
    case "exit":
      if (outcome.code >= 64 && outcome.code < 255) err = outcome.code - 64;
      else status = outcome.code;
      break;
  }
  if (err > 0) return err === EACCES ? -ENOEXEC : -err;
  return status;
}

/** eventd's reply to a completed (not cancelled) run. */
export function replyOfSummary(summary: number): number {
  if (summary === 0) return 0;
  if (summary === -ETIMEDOUT) return ETIMEDOUT;
  if (summary === -ECANCELED) return ECANCELED;
  return ENOEXEC;
}

/** CTDB passes arguments as one string split on single spaces (strtok): empty words vanish. */
export function splitArgs(args: readonly string[]): string[] {
  return args
    .join(" ")
    .split(" ")
    .filter((w) => w.length > 0);
}

class Stepper {
  s: {
    hasDebugScript: boolean;
    nextToken: number;
    queue: Request[];
    current: Active | null;
    debugToken: number | null;
  };
  effects: CoreEffect[] = [];

  constructor(state: CoreState) {
    const cur = state.current;
    this.s = {
      hasDebugScript: state.hasDebugScript,
      nextToken: state.nextToken,
      queue: [...state.queue],
      current: cur ? { ...cur, scripts: cur.scripts, results: [...cur.results] } : null,
      debugToken: state.debugToken,
    };
  }

  token(): number {
    return this.s.nextToken++;
  }

  emit(e: CoreEffect): void {
    this.effects.push(e);
  }

  run(input: Extract<CoreInput, { kind: "run" }>): void {
    const req: Request = {
      id: input.id,
      event: input.event,
      argv: [input.event, ...splitArgs(input.args)],
      runAll: input.runAll,
      deadlineMs: input.nowMs + Math.max(0, input.timeoutSec) * 1000,
    };
    const cur = this.s.current;
    if (cur !== null) {
      if (cur.event === "monitor") {
        this.cancelCurrent();
      } else if (input.event === "monitor") {
        this.emit({ kind: "reply", id: req.id, reply: ECANCELED, summary: -ECANCELED });
        return;
      }
    }
    this.s.queue.push(req);
    this.advance(input.nowMs);
  }

  cancelCurrent(): void {
    const cur = this.s.current;
    if (cur === null) return;
    if (cur.phase === "running") {
      this.emit({ kind: "cancel-timer", token: cur.token });
      this.emit({ kind: "kill", token: cur.token });
    }
    this.emit({ kind: "log", level: "notice", message: `${cur.event} event cancelled` });
    this.emit({ kind: "reply", id: cur.id, reply: ECANCELED, summary: -ECANCELED });
    this.s.current = null;
  }

  advance(nowMs: number): void {
    if (this.s.current !== null) return;
    const next = this.s.queue.shift();
    if (next === undefined) return;
    const token = this.token();
    this.s.current = { ...next, phase: "listing", token, scripts: [], index: 0, results: [], summary: 0, beginMs: nowMs };
    this.emit({ kind: "log", level: "debug", message: `Running event ${next.event} with args "${next.argv.slice(1).join(" ")}"` });
    this.emit({ kind: "list", token });
  }

  listed(input: Extract<CoreInput, { kind: "listed" }>): void {
    const cur = this.s.current;
    if (cur === null || cur.phase !== "listing" || cur.token !== input.token) return;
    if ("errno" in input.result) {
      this.emit({ kind: "log", level: "error", message: `get_script_list() failed, ret=${input.result.errno}` });
      this.emit({ kind: "reply", id: cur.id, reply: input.result.errno, summary: null });
      this.s.current = null;
      this.advance(input.nowMs);
      return;
    }
    cur.scripts = [...input.result.scripts];
    cur.phase = "running";
    if (cur.scripts.length === 0) {
      this.complete(input.nowMs);
      return;
    }
    this.startScripts(input.nowMs);
  }

  // Start the script at cur.index, settling disabled ones on the spot.
  startScripts(nowMs: number): void {
    const cur = this.s.current!;
    while (cur.index < cur.scripts.length) {
      const script = cur.scripts[cur.index]!;
      if (script.statErrno !== undefined) {
        cur.beginMs = nowMs;
        if (this.settle(script.name, -script.statErrno, "", nowMs)) return;
        continue;
      }
      if (!script.enabled) {
        cur.results.push({ name: script.name, result: -ENOEXEC, beginMs: nowMs, endMs: nowMs, output: "" });
        cur.index++;
        continue;
      }
      const token = this.token();
      cur.token = token;
      cur.beginMs = nowMs;
      this.emit({ kind: "spawn", token, script: script.name, argv: cur.argv });
      this.emit({ kind: "start-timer", token, atMs: cur.deadlineMs });
      return;
    }
    this.complete(nowMs);
  }

  /**
   * Record one script's result and decide what follows. Returns true when
   * the event is over (stopped at a failure); otherwise cur.index moved on.
   */
  settle(name: string, result: number, output: string, nowMs: number): boolean {
    const cur = this.s.current!;
    cur.results.push({ name, result, beginMs: cur.beginMs, endMs: nowMs, output });
    for (const line of output.split("\n")) {
      if (line.length > 0) this.emit({ kind: "log", level: "error", message: `${name}: ${line}` });
    }
    if (result !== 0 && result !== -ENOEXEC) {
      cur.summary = result;
      if (!cur.runAll) {
        const what = result === -ETIMEDOUT ? "timed out" : "failed";
        this.emit({ kind: "log", level: "notice", message: `${cur.event} event ${what}` });
        this.complete(nowMs);
        return true;
      }
    }
    cur.index++;
    return false;
  }

  complete(nowMs: number): void {
    const cur = this.s.current!;
    this.emit({ kind: "record", event: cur.event, status: { summary: cur.summary, scripts: cur.results } });
    this.emit({ kind: "reply", id: cur.id, reply: replyOfSummary(cur.summary), summary: cur.summary });
    this.s.current = null;
    this.advance(nowMs);
  }

  scriptDone(input: Extract<CoreInput, { kind: "script-done" }>): void {
    const cur = this.s.current;
    if (cur === null || cur.phase !== "running" || cur.token !== input.token) return;
    this.emit({ kind: "cancel-timer", token: input.token });
    const name = cur.scripts[cur.index]!.name;
    if (this.settle(name, scriptResult(input.outcome), input.output, input.nowMs)) return;
    this.startScripts(input.nowMs);
  }

  timeout(input: Extract<CoreInput, { kind: "timeout" }>): void {
    const cur = this.s.current;
    if (cur === null || cur.phase !== "running" || cur.token !== input.token) return;
    // CTDB leaves a hung script running when no debug run follows; we always
    // end it, after the debug script has looked at it.
    if (!cur.runAll && this.s.hasDebugScript && this.s.debugToken === null && input.alive) {
      this.s.debugToken = input.token;
      this.emit({ kind: "debug", token: input.token, event: cur.event });
    } else {
      this.emit({ kind: "kill", token: input.token });
    }
    const name = cur.scripts[cur.index]!.name;
    if (this.settle(name, -ETIMEDOUT, input.output, input.nowMs)) return;
    this.startScripts(input.nowMs);
  }

  debugDone(input: Extract<CoreInput, { kind: "debug-done" }>): void {
    if (this.s.debugToken !== input.token) return;
    this.s.debugToken = null;
    this.emit({ kind: "kill", token: input.token });
  }
}

export function step(state: CoreState, input: CoreInput): StepResult {
  const st = new Stepper(state);
  switch (input.kind) {
    case "run":
      st.run(input);
      break;
    case "listed":
      st.listed(input);
      break;
    case "script-done":
      st.scriptDone(input);
      break;
    case "timeout":
      st.timeout(input);
      break;
    case "debug-done":
      st.debugDone(input);
      break;
  }
  return { state: st.s, effects: st.effects };
}

/** True when a run is in progress or waiting. */
export function isBusy(state: CoreState): boolean {
  return state.current !== null || state.queue.length > 0;
}
