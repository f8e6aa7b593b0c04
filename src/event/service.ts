// The event component for one CTDB_BASE: the pure core per component
// (events/<component>/), real processes, real timers, and the status of the
// last completed run of each event, as CTDB's eventd keeps them.
import * as fs from "node:fs";
import * as path from "node:path";
import type { EventBackend, EventRunRequest, EventStatus } from "./api.ts";
import { type CoreEffect, type CoreInput, type CoreState, type LogLevel, initialState, step } from "./core.ts";
import { ECANCELED, EINVAL, ENOTDIR, errnoOf } from "./errno.ts";
import { scriptEnvironment } from "./env.ts";
import { type ScriptHandle, killGroup, runDebugScript, startScript } from "./runner.ts";
import { chmodScript, listScripts } from "./scripts.ts";

export type EventLog = (level: LogLevel, message: string) => void;

export interface EventServiceOptions {
  /** CTDB_BASE (etc dir): scripts live in `<base>/events/<component>/`. */
  base: string;
  /** Data dir with the provided scripts (`<datadir>/events/legacy/`). */
  datadir: string;
  /** The `ctdb`-compatible tool scripts call as $CTDB. */
  toolPath: string;
  /** Environment passed to scripts (CTDB_BASE, CTDB and PATH are set on top). */
  env: Record<string, string | undefined>;
  /** `[event] debug script`: a bare file name in CTDB_BASE (any directory part is ignored). */
  debugScript?: string;
  log: EventLog;
  /** Time limit of one debug script run (CTDB has none). Default 60 s. */
  debugTimeoutSec?: number;
  outputCap?: number;
  /** Extra environment settings (CTDB_LOGGING, CTDB_DEBUGLEVEL) as ctdbd exports them. */
  logging?: string;
  debugLevel?: string;
  /** CTDB_SCRIPT_VARDIR for scripts (see env.ts). */
  scriptVardir?: string;
  /** Told of every completed run, as it is recorded for `scriptstatus`. */
  onRecord?: (component: string, event: string, status: EventStatus) => void;
}

export interface RunOutcome {
  /** eventd's wire result: 0, ETIMEDOUT, ECANCELED, ENOEXEC (a script failed) or an errno (ENOENT: no such component). */
  reply: number;
  /** The run's summary (0, exit status, -errno) when the run happened; null when it could not start. */
  summary: number | null;
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolve `[event] debug script` the way ctdb.conf(5) describes it. */
export function debugScriptPath(base: string, setting: string | undefined): string | undefined {
  if (setting === undefined || setting.trim() === "") return undefined;
  return path.join(base, path.basename(setting));
}

class Component {
  private state: CoreState;
  private readonly procs = new Map<number, ScriptHandle>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  // Spawns whose timer fired: kept until the core's kill, since the group
  // (e.g. a background grandchild) may outlive the script itself.
  private readonly timedOut = new Set<number>();
  private readonly waiters = new Map<number, (o: RunOutcome) => void>();
  private readonly inbox: CoreInput[] = [];
  private busy = false;
  private nextId = 1;
  private closed = false;
  readonly statuses = new Map<string, EventStatus>();

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly svc: EventService,
  ) {
    this.state = initialState(svc.debugPath !== undefined);
  }

  run(req: EventRunRequest): Promise<RunOutcome> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.waiters.set(id, resolve);
      this.feed({
        kind: "run",
        id,
        event: req.event,
        args: req.args,
        timeoutSec: Number.isFinite(req.timeoutSec) ? req.timeoutSec : 0,
        runAll: req.runAll,
        nowMs: nowMs(),
      });
    });
  }

  private feed(input: CoreInput): void {
    if (this.closed) return;
    this.inbox.push(input);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.inbox.shift(); next !== undefined; next = this.inbox.shift()) {
        const r = step(this.state, next);
        this.state = r.state;
        for (const e of r.effects) this.execute(e);
      }
    } finally {
      this.busy = false;
    }
  }

  private execute(e: CoreEffect): void {
    const log = this.svc.log;
    switch (e.kind) {
      case "list": {
        const r = listScripts(this.dir);
        this.inbox.push({
          kind: "listed",
          token: e.token,
          nowMs: nowMs(),
          result:
            "errno" in r
              ? r
              : {
                  scripts: r.scripts.map((s) =>
                    s.statErrno === undefined
                      ? { name: s.name, enabled: s.enabled }
                      : { name: s.name, enabled: false, statErrno: s.statErrno },
                  ),
                },
        });
        break;
      }
      case "spawn": {
        const token = e.token;
        const p = `${this.dir}/${e.script}.script`;
        log("debug", `Running ${p} with args "${e.argv.join(" ")}"`);
        const h = startScript({
          path: p,
          argv0: e.script,
          args: e.argv,
          env: this.svc.scriptEnv,
          outputCap: this.svc.outputCap,
          onDone: (outcome, output) => {
            if (!this.timedOut.has(token)) this.procs.delete(token);
            this.feed({ kind: "script-done", token, nowMs: nowMs(), outcome, output });
          },
        });
        this.procs.set(token, h);
        break;
      }
      case "start-timer":
        this.arm(e.token, e.atMs);
        break;
      case "cancel-timer": {
        const t = this.timers.get(e.token);
        if (t) clearTimeout(t);
        this.timers.delete(e.token);
        break;
      }
      case "kill": {
        this.procs.get(e.token)?.killGroup();
        this.procs.delete(e.token);
        this.timedOut.delete(e.token);
        break;
      }
      case "debug": {
        const token = e.token;
        const h = this.procs.get(token);
        const dbg = this.svc.debugPath;
        if (h?.pid === undefined || !h.alive() || dbg === undefined) {
          this.inbox.push({ kind: "debug-done", token, nowMs: nowMs() });
          break;
        }
        void runDebugScript({
          path: dbg,
          pid: h.pid,
          event: e.event,
          env: this.svc.scriptEnv,
          timeoutMs: this.svc.debugTimeoutSec * 1000,
          log: (lvl, msg) => log(lvl, msg),
        }).then(() => this.feed({ kind: "debug-done", token, nowMs: nowMs() }));
        break;
      }
      case "reply": {
        const w = this.waiters.get(e.id);
        this.waiters.delete(e.id);
        w?.({ reply: e.reply, summary: e.summary });
        break;
      }
      case "record":
        this.statuses.set(e.event, e.status);
        this.svc.recorded(this.name, e.event, e.status);
        break;
      case "log":
        log(e.level, e.message);
        break;
    }
  }

  // setTimeout cannot wait longer than 2^31-1 ms (CTDB's timeout is a uint32
  // of seconds), so long deadlines are re-armed until they are due.
  private arm(token: number, atMs: number): void {
    const delay = Math.min(Math.max(0, atMs - nowMs()), 2 ** 31 - 1);
    const t = setTimeout(() => {
      if (nowMs() < atMs - 1) {
        this.arm(token, atMs);
        return;
      }
      this.timers.delete(token);
      this.timedOut.add(token);
      const h = this.procs.get(token);
      this.feed({ kind: "timeout", token, nowMs: nowMs(), output: h?.output() ?? "", alive: h?.alive() ?? false });
    }, delay);
    this.timers.set(token, t);
  }

  /** Kill everything still running and answer pending requests with ECANCELED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const h of this.procs.values()) killGroup(h.pid);
    for (const w of this.waiters.values()) w({ reply: ECANCELED, summary: -ECANCELED });
    this.waiters.clear();
  }

  /** Processes this component started that have not been reaped yet (for tests and shutdown). */
  livePids(): number[] {
    const out: number[] = [];
    for (const h of this.procs.values()) if (h.pid !== undefined && h.alive()) out.push(h.pid);
    return out;
  }
}

export class EventService implements EventBackend {
  readonly scriptEnv: Record<string, string>;
  readonly debugPath: string | undefined;
  readonly debugTimeoutSec: number;
  readonly outputCap: number | undefined;
  readonly log: EventLog;
  private readonly components = new Map<string, Component>();

  constructor(private readonly opts: EventServiceOptions) {
    this.log = opts.log;
    this.debugPath = debugScriptPath(opts.base, opts.debugScript);
    this.debugTimeoutSec = opts.debugTimeoutSec ?? 60;
    this.outputCap = opts.outputCap;
    this.scriptEnv = scriptEnvironment({
      base: opts.base,
      toolPath: opts.toolPath,
      env: opts.env,
      logging: opts.logging,
      debugLevel: opts.debugLevel,
      scriptVardir: opts.scriptVardir,
    });
  }

  get base(): string {
    return this.opts.base;
  }

  get datadir(): string {
    return this.opts.datadir;
  }

  // eventd registers a component on first use, if its directory exists.
  private component(name: string): Component | number {
    const known = this.components.get(name);
    if (known) return known;
    if (name === "" || name === "." || name === ".." || name.includes("/")) return EINVAL;
    const dir = path.join(this.opts.base, "events", name);
    try {
      if (!fs.statSync(dir).isDirectory()) return ENOTDIR;
    } catch (err) {
      return errnoOf(err);
    }
    const c = new Component(name, dir, this);
    this.components.set(name, c);
    return c;
  }

  /** Run an event; resolves with eventd's wire result and the run's summary. */
  async runWithReply(request: EventRunRequest): Promise<RunOutcome> {
    const c = this.component(request.component);
    if (typeof c === "number") return { reply: c, summary: null };
    return c.run(request);
  }

  /**
   * EventBackend.run: the run's summary (0, a failing script's exit status,
   * or -errno such as -ETIMEDOUT / -ECANCELED); -errno when it could not
   * start (e.g. -ENOENT: no such component directory).
   */
  async run(request: EventRunRequest): Promise<number> {
    const r = await this.runWithReply(request);
    return r.summary ?? -r.reply;
  }

  /** What ctdbd gets from eventd for a "legacy" event: 0, ETIMEDOUT, ECANCELED, ENOEXEC, ... */
  async runEvent(event: string, args: string[], timeoutSec: number): Promise<number> {
    const r = await this.runWithReply({ component: "legacy", event, args, timeoutSec, runAll: false });
    return r.reply;
  }

  /** Last completed run of an event, or eventd's error: ENOENT (no component dir), EINVAL (never run). */
  status(component: string, event: string): EventStatus | { error: number } {
    const c = this.component(component);
    if (typeof c === "number") return { error: c };
    const s = c.statuses.get(event);
    if (s === undefined) return { error: EINVAL };
    return { summary: s.summary, scripts: s.scripts.map((x) => ({ ...x })) };
  }

  /** eventd's script command: set/clear the x bits of a local script. 0 or errno (EINVAL, ENOENT, ...). */
  async setScriptEnabled(component: string, script: string, enable: boolean): Promise<number> {
    const c = this.component(component);
    if (typeof c === "number") return c;
    return chmodScript(c.dir, script, enable);
  }

  recorded(component: string, event: string, status: EventStatus): void {
    this.opts.onRecord?.(component, event, status);
  }

  /** Stop all components: kill running scripts, answer pending runs with ECANCELED. */
  close(): void {
    for (const c of this.components.values()) c.close();
  }

  livePids(): number[] {
    return [...this.components.values()].flatMap((c) => c.livePids());
  }
}
