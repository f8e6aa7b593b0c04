// ClusterLock through a CTDB mutex helper (`!cmd args...`), speaking the
// protocol of CTDB's doc/cluster_mutex_helper.txt:
// - the helper's stdout is a pipe to us; its first byte is the status
//   ('0' held, '1' contention, '2' timeout, '3' error); EOF with no byte is
//   an error; after '0', EOF (or the helper exiting) means the lock is lost;
// - release = SIGTERM; a helper must then drop the mutex and exit. We send
//   SIGKILL if it is still running 1 s later, so no helper is left behind;
// - stderr goes to our log, a line at a time.
//
// If this daemon is killed outright, nothing here can run. CTDB's
// ctdb_mutex_fcntl_helper notices by polling kill(getppid-at-start, 0) every
// 5 s (its first check is 5 s after taking the lock), so it holds the file
// lock for up to ~5 s after its parent died (measured: 5.0 s when the parent
// dies right after the take). To close that window, when
// util-linux `setpriv` is available we start the helper through
// `setpriv --pdeathsig TERM`, which execs the helper in place (same PID,
// same parent) with the kernel's parent-death signal set: the helper gets
// SIGTERM the moment we die. (The signal is tied to the thread that forked;
// libuv spawns from the calling thread, so take() helper locks on the main
// thread: one spawned from a worker_thread would be killed when that worker
// ends.)
// Without a usable setpriv the helper runs directly, as under ctdbd.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import type { ClusterLock, LockEvent, LockLog } from "./cluster-lock.ts";
import { answeredWithoutTaking, type LockPhase } from "./take-guard.ts";
import { sysError } from "./fcntl.ts";
import { decodeHelperStatus, describeHelperByte } from "./setting.ts";

const KILL_GRACE_MS = 1000;
const SETPRIV_CANDIDATES = ["/usr/bin/setpriv", "/bin/setpriv"];

// Helpers still running, so that a process exit without close() still ends
// them. SIGTERM (the protocol's "release and exit"), because at exit there is
// no time left to escalate; a helper ignoring it falls back on its own
// parent check.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of liveChildren) {
        try {
          c.kill("SIGTERM");
        } catch {
          // Gone already.
        }
      }
    });
  }
}

let setprivProbe: string | null | undefined;

/** A setpriv that understands --pdeathsig (util-linux 2.33+), probed once per process. */
function findSetpriv(): string | null {
  if (setprivProbe !== undefined) return setprivProbe;
  setprivProbe = null;
  for (const p of SETPRIV_CANDIDATES) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
    } catch {
      continue;
    }
    const r = spawnSync(p, ["--pdeathsig", "TERM", "--", "/bin/sh", "-c", ":"], { stdio: "ignore", timeout: 5000 });
    if (r.status === 0) setprivProbe = p;
    break;
  }
  return setprivProbe;
}

export interface HelperLockOptions {
  takeTimeoutMs: number;
  log: LockLog;
  /** Start the helper under `setpriv --pdeathsig TERM` when available. Default true. */
  parentDeathSignal?: boolean;
}

interface Run {
  child: ChildProcess;
  status: number | undefined; // first byte, once seen
  exited: boolean;
  takeTimer: NodeJS.Timeout | null;
  killTimer: NodeJS.Timeout | null;
}

export class HelperLock implements ClusterLock {
  onEvent: (e: LockEvent) => void = () => {};
  readonly description: string;
  private readonly helper: string;
  private readonly launcher: string[];
  private phase: LockPhase = "idle";
  private closed = false;
  // The run that events are reported for; runs being stopped are no longer it.
  private run: Run | null = null;
  // Set while the helper's executability is being checked, before a run exists.
  private pending: object | null = null;

  constructor(
    readonly argv: readonly [string, ...string[]],
    private readonly opts: HelperLockOptions,
  ) {
    this.helper = argv[0];
    this.description = `helper ${argv.join(" ")}`;
    const setpriv = opts.parentDeathSignal === false ? null : findSetpriv();
    this.launcher = setpriv === null ? [] : [setpriv, "--pdeathsig", "TERM", "--"];
  }

  /** PID of the helper of the current take or holding, if one is running. */
  get helperPid(): number | undefined {
    return this.run?.child.pid;
  }

  take(): void {
    const { closed, phase, description } = this;
    if (answeredWithoutTaking({ closed, phase, description }, (e) => this.emitLater(e), this.opts.log)) return;
    // Checked first because under setpriv a missing helper would only show
    // as setpriv's exit status; this way the error names the helper.
    this.phase = "taking";
    const token = {};
    this.pending = token;
    fs.access(this.helper, fs.constants.X_OK, (err) => {
      if (this.pending !== token) return;
      this.pending = null;
      if (err) {
        this.phase = "idle";
        const reason = `cannot run cluster lock helper ${this.helper}: ${describeErr(err)}`;
        this.opts.log("error", `${this.description}: ${reason}`);
        this.onEvent({ kind: "error", reason });
        return;
      }
      this.spawnHelper();
    });
  }

  private spawnHelper(): void {
    const full = [...this.launcher, ...this.argv];
    let child: ChildProcess;
    try {
      child = spawn(full[0]!, full.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      this.phase = "idle";
      const reason = `cannot run cluster lock helper ${this.helper}: ${(err as Error).message}`;
      this.opts.log("error", `${this.description}: ${reason}`);
      this.onEvent({ kind: "error", reason });
      return;
    }
    const run: Run = { child, status: undefined, exited: false, takeTimer: null, killTimer: null };
    this.run = run;
    if (child.pid !== undefined) {
      track(child);
      this.opts.log("debug", `${this.description}: started helper pid ${child.pid}`);
    }

    run.takeTimer = setTimeout(() => {
      run.takeTimer = null;
      if (this.run !== run || run.status !== undefined) return;
      this.opts.log("error", `${this.description}: no status after ${this.opts.takeTimeoutMs} ms, killing it`);
      this.abandon(run);
      this.onEvent({ kind: "timeout" });
    }, this.opts.takeTimeoutMs);

    child.stdout?.on("data", (chunk: Buffer) => {
      if (run.status !== undefined || chunk.length === 0) return;
      run.status = chunk[0];
      this.onStatus(run);
    });
    child.stdout?.on("end", () => {
      if (this.run !== run) return;
      if (run.status === undefined) {
        this.fail(run, `cluster lock helper ${this.helper} ended without writing a status`);
      } else if (this.phase === "held") {
        this.lose(run, `cluster lock helper ${this.helper} terminated (end of output)`);
      }
    });
    forwardLines(child.stderr, (line) => this.opts.log("error", `cluster lock helper: ${line}`));

    child.on("error", (err: NodeJS.ErrnoException) => {
      // Spawn failures (ENOENT, EACCES) arrive here; so do failed kill()s, which need nothing.
      if (this.run !== run || run.status !== undefined) return;
      this.fail(run, `cannot run cluster lock helper ${this.helper}: ${describeErr(err)}`);
    });
    child.on("exit", (code, signal) => {
      run.exited = true;
      if (run.takeTimer !== null) clearTimeout(run.takeTimer);
      if (run.killTimer !== null) clearTimeout(run.killTimer);
      run.takeTimer = null;
      run.killTimer = null;
      const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
      this.opts.log("debug", `${this.description}: helper pid ${child.pid} ${how}`);
      // Without a status byte yet, its output may still be in the pipe: stdout's end decides.
      if (this.run === run && this.phase === "held") {
        this.lose(run, `cluster lock helper ${this.helper} ${how}`);
      }
    });
  }

  release(): void {
    this.pending = null;
    const run = this.run;
    this.run = null;
    this.phase = "idle";
    if (run !== null) {
      if (run.status !== undefined && decodeHelperStatus(run.status) === "held") {
        this.opts.log("info", `${this.description}: releasing`);
      }
      this.stop(run);
    }
  }

  close(): void {
    this.release();
    this.closed = true;
  }

  private onStatus(run: Run): void {
    if (run.takeTimer !== null) clearTimeout(run.takeTimer);
    run.takeTimer = null;
    if (this.run !== run) return;
    const status = decodeHelperStatus(run.status);
    if (status === "held") {
      this.phase = "held";
      this.opts.log("notice", `${this.description}: taken`);
      this.onEvent({ kind: "held" });
      return;
    }
    // The helper has answered and has nothing more to do; make sure it goes.
    this.abandon(run);
    if (status === "error") {
      this.fail(run, `cluster lock helper ${this.helper} reported an error (${describeHelperByte(run.status)})`);
    } else {
      this.onEvent({ kind: status });
    }
  }

  /** The current run is over without the lock: forget it and stop its process. */
  private abandon(run: Run): void {
    if (this.run === run) {
      this.run = null;
      this.phase = "idle";
    }
    this.stop(run);
  }

  private fail(run: Run, reason: string): void {
    this.abandon(run);
    this.opts.log("error", `${this.description}: ${reason}`);
    this.onEvent({ kind: "error", reason });
  }

  private lose(run: Run, reason: string): void {
    this.abandon(run);
    this.opts.log("error", `${this.description}: cluster lock lost - ${reason}`);
    this.onEvent({ kind: "lost", reason });
  }

  private stop(run: Run): void {
    if (run.takeTimer !== null) clearTimeout(run.takeTimer);
    run.takeTimer = null;
    if (run.exited || run.child.pid === undefined || run.killTimer !== null) return;
    run.child.kill("SIGTERM");
    run.killTimer = setTimeout(() => {
      run.killTimer = null;
      if (!run.exited) {
        this.opts.log("warning", `${this.description}: helper pid ${run.child.pid} ignored SIGTERM, sending SIGKILL`);
        run.child.kill("SIGKILL");
      }
    }, KILL_GRACE_MS);
  }

  private emitLater(e: LockEvent): void {
    queueMicrotask(() => {
      if (e.kind === "held" && this.phase !== "held") return;
      this.onEvent(e);
    });
  }
}

function describeErr(err: NodeJS.ErrnoException): string {
  if (typeof err.errno === "number") {
    const e = sysError(-err.errno);
    return `${e.code} (${e.message})`;
  }
  return err.message;
}

function forwardLines(stream: NodeJS.ReadableStream | null, sink: (line: string) => void): void {
  if (stream === null) return;
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, "");
      if (line !== "") sink(line);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
    }
  });
  stream.on("end", () => {
    if (pending !== "") sink(pending);
    pending = "";
  });
}
