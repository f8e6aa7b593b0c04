// Shared pieces of the lock tests: a driver for the lock-holder fixture
// process, fake helper scripts, and PID checks.

import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { ClusterLock, LockEvent } from "../../src/lock/cluster-lock.ts";

export const REAL_HELPER = "/usr/libexec/ctdb/ctdb_mutex_fcntl_helper";
const FIXTURE = new URL("./fixtures/lock-holder.js", import.meta.url).pathname;

export interface Msg {
  ev: string;
  t: number;
  reason?: string;
  pid?: number;
  helperPid?: number;
  description?: string;
  level?: string;
  msg?: string;
}

/** Collects JSON lines / events and lets a test wait for the next match. */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: { pred: (m: T) => boolean; resolve: (m: T) => void }[] = [];

  push(m: T): void {
    const i = this.waiters.findIndex((w) => w.pred(m));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(m);
      return;
    }
    this.items.push(m);
  }

  /** All messages not yet taken by a wait. */
  get unclaimed(): readonly T[] {
    return this.items;
  }

  wait(pred: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const i = this.items.findIndex(pred);
    if (i >= 0) {
      const [m] = this.items.splice(i, 1);
      return Promise.resolve(m!);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (m: T) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; unclaimed: ${JSON.stringify(this.items)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

const OUTCOMES = new Set(["held", "contended", "timeout", "error", "lost"]);

/** A lock-holder fixture process. */
export class Holder {
  readonly inbox = new Inbox<Msg>();
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  pid = 0;
  description = "";

  private constructor(readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
    const rl = createInterface({ input: proc.stdout! });
    rl.on("line", (line) => {
      try {
        this.inbox.push(JSON.parse(line) as Msg);
      } catch {
        this.inbox.push({ ev: "garbage", msg: line, t: Date.now() });
      }
    });
    proc.stderr!.on("data", (d: Buffer) => process.stderr.write(`[holder ${proc.pid}] ${d}`));
  }

  static async start(setting: string, opts: Record<string, unknown> = {}, spawnOpts: SpawnOptions = {}): Promise<Holder> {
    const proc = spawn(process.execPath, [FIXTURE, "--lock-holder", setting, JSON.stringify(opts)], { ...spawnOpts, stdio: ["pipe", "pipe", "pipe"] });
    const h = new Holder(proc);
    // A fixture that dies at start-up (e.g. dist being rebuilt under it) fails at once, not after the wait.
    const died = h.exited.then(({ code, signal }) => {
      throw new Error(`lock-holder fixture exited before it was ready (code ${code}, signal ${signal})`);
    });
    const ready = await Promise.race([h.inbox.wait((m) => m.ev === "ready", 10_000, "fixture ready"), died]);
    h.pid = ready.pid!;
    h.description = ready.description!;
    return h;
  }

  send(cmd: string): void {
    this.proc.stdin!.write(`${cmd}\n`);
  }

  /** The next take outcome or lost event. */
  outcome(timeoutMs = 5000): Promise<Msg> {
    return this.inbox.wait((m) => OUTCOMES.has(m.ev), timeoutMs, "a lock event");
  }

  async take(timeoutMs = 5000): Promise<Msg> {
    this.send("take");
    return this.outcome(timeoutMs);
  }

  /** Kill by PID (idempotent) and wait for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    killPid(this.pid || this.proc.pid, signal);
    await this.exited;
  }
}

export function killPid(pid: number | undefined, signal: NodeJS.Signals = "SIGKILL"): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Running, not just present: a helper orphaned by a killed parent becomes a
 * zombie of PID 1 until that reaps it, and a zombie holds no locks.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3, after the parenthesised command name (which may hold spaces).
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export async function waitPidGone(pid: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (pidAlive(pid)) {
    if (Date.now() - start > timeoutMs) throw new Error(`pid ${pid} still running after ${timeoutMs} ms`);
    await sleep(10);
  }
  return Date.now() - start;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tandem-lock-${prefix}-`));
}

export function writeScript(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

/** Routes a ClusterLock's events into an inbox. */
export function eventsOf(lock: ClusterLock): Inbox<LockEvent & { t: number }> {
  const inbox = new Inbox<LockEvent & { t: number }>();
  lock.onEvent = (e) => inbox.push({ ...e, t: Date.now() });
  return inbox;
}

export function nextEvent(inbox: Inbox<LockEvent & { t: number }>, timeoutMs = 5000): Promise<LockEvent & { t: number }> {
  return inbox.wait(() => true, timeoutMs, "a lock event");
}
