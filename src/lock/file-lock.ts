// ClusterLock on a FILE, held by an fcntl lock in this very process.
//
// take = open(O_RDWR|O_CREAT, 0600) + non-blocking F_SETLK on CTDB's lock
// byte. The descriptor stays open while held: closing any descriptor of the
// file in this process would drop the lock. For the same reason the recheck
// uses stat(path) (no open) and compares it with the identity fstat gave at
// take time, where CTDB's helper opens the path; an open+close here would
// silently release our own lock.
//
// Two FileLocks in one process on one file would both "win" (record locks
// never conflict within a process) and either one's close() would drop the
// other's lock, so a process-wide registry makes the second one contended
// and keeps its descriptor open until the holder releases.

import * as fs from "node:fs";
import type { ClusterLock, LockEvent, LockLog } from "./cluster-lock.ts";
import { answeredWithoutTaking, type LockPhase } from "./take-guard.ts";
import { sysError, tryWriteLock } from "./fcntl.ts";
import { type FileIdentity, identityChange } from "./setting.ts";

interface Holding {
  owner: FileLock;
  parked: number[];
}

const holdings = new Map<string, Holding>();

function keyOf(id: FileIdentity): string {
  return `${id.dev}:${id.ino}`;
}

function describeErr(err: NodeJS.ErrnoException): string {
  if (typeof err.errno === "number") {
    const e = sysError(-err.errno);
    return `${e.code} (${e.message})`;
  }
  return err.code ?? err.message;
}

/** Close a descriptor that holds no lock of ours, unless closing would drop another FileLock's lock. */
function dispose(fd: number, key: string | null): void {
  const holding = key === null ? undefined : holdings.get(key);
  if (holding !== undefined) {
    holding.parked.push(fd);
    return;
  }
  fs.close(fd, () => {});
}

export interface FileLockOptions {
  recheckIntervalMs: number;
  takeTimeoutMs: number;
  log: LockLog;
}

export class FileLock implements ClusterLock {
  onEvent: (e: LockEvent) => void = () => {};
  readonly description: string;
  private phase: LockPhase = "idle";
  private closed = false;
  // Bumped by every take and release; callbacks of an older attempt only clean up.
  private attempt = 0;
  private fd: number | null = null;
  private identity: FileIdentity | null = null;
  private takeTimer: NodeJS.Timeout | null = null;
  private recheckTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly opts: FileLockOptions,
  ) {
    this.description = `fcntl lock on ${path}`;
  }

  take(): void {
    const { closed, phase, description } = this;
    if (answeredWithoutTaking({ closed, phase, description }, (e) => this.emitLater(e), this.opts.log)) return;
    this.phase = "taking";
    const attempt = ++this.attempt;
    this.takeTimer = setTimeout(() => {
      if (attempt !== this.attempt) return;
      this.takeTimer = null;
      this.phase = "idle";
      this.attempt++;
      this.opts.log("error", `${this.description}: no result after ${this.opts.takeTimeoutMs} ms`);
      this.onEvent({ kind: "timeout" });
    }, this.opts.takeTimeoutMs);

    fs.open(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600, (err, fd) => {
      if (err) {
        if (attempt === this.attempt) this.finishTake({ kind: "error", reason: `cannot open lock file ${this.path}: ${describeErr(err)}` });
        return;
      }
      fs.fstat(fd, { bigint: true }, (serr, st) => {
        if (serr) {
          dispose(fd, null);
          if (attempt === this.attempt) this.finishTake({ kind: "error", reason: `cannot stat lock file ${this.path}: ${describeErr(serr)}` });
          return;
        }
        const identity = { dev: st.dev, ino: st.ino };
        const key = keyOf(identity);
        if (attempt !== this.attempt) {
          dispose(fd, key);
          return;
        }
        this.lockOpenFile(fd, identity, key);
      });
    });
  }

  release(): void {
    this.attempt++;
    this.clearTimers();
    if (this.fd !== null && this.identity !== null) {
      const key = keyOf(this.identity);
      const holding = holdings.get(key);
      if (holding !== undefined && holding.owner === this) {
        holdings.delete(key);
        for (const fd of holding.parked) closeQuietly(fd);
      }
      // Synchronous so that the lock is free when release() returns.
      closeQuietly(this.fd);
      this.opts.log("info", `${this.description}: released`);
    }
    this.fd = null;
    this.identity = null;
    this.phase = "idle";
  }

  close(): void {
    this.release();
    this.closed = true;
  }

  private lockOpenFile(fd: number, identity: FileIdentity, key: string): void {
    const other = holdings.get(key);
    if (other !== undefined && other.owner !== this) {
      other.parked.push(fd);
      this.opts.log("info", `${this.description}: already held by another lock in this process`);
      this.finishTake({ kind: "contended" });
      return;
    }
    let r: ReturnType<typeof tryWriteLock>;
    try {
      r = tryWriteLock(fd);
    } catch (err) {
      // libc could not be loaded (unsupported platform): a setting problem, not a crash.
      dispose(fd, key);
      this.finishTake({ kind: "error", reason: `cannot lock ${this.path}: ${(err as Error).message}` });
      return;
    }
    if (r.ok) {
      holdings.set(key, { owner: this, parked: [] });
      this.fd = fd;
      this.identity = identity;
      this.opts.log("notice", `${this.description}: taken`);
      this.finishTake({ kind: "held" });
      if (this.phase === "held") this.scheduleRecheck();
      return;
    }
    dispose(fd, key);
    if (r.contended) {
      this.finishTake({ kind: "contended" });
    } else {
      this.finishTake({ kind: "error", reason: `cannot lock ${this.path}: ${r.error.code} (${r.error.message})` });
    }
  }

  private finishTake(e: LockEvent): void {
    if (this.takeTimer !== null) clearTimeout(this.takeTimer);
    this.takeTimer = null;
    this.phase = e.kind === "held" ? "held" : "idle";
    if (e.kind === "error") this.opts.log("error", `${this.description}: ${e.reason}`);
    this.onEvent(e);
  }

  private scheduleRecheck(): void {
    const attempt = this.attempt;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      if (attempt !== this.attempt || this.identity === null) return;
      const locked = this.identity;
      fs.stat(this.path, { bigint: true }, (err, st) => {
        if (attempt !== this.attempt || this.phase !== "held") return;
        let why: string | null;
        if (err) {
          why = err.code === "ENOENT" ? "was removed" : `cannot be checked: ${describeErr(err)}`;
        } else {
          why = identityChange(locked, { dev: st.dev, ino: st.ino });
        }
        if (why === null) {
          this.scheduleRecheck();
          return;
        }
        const reason = `lock file ${this.path} ${why}`;
        this.opts.log("error", `${this.description}: lock lost - ${reason}`);
        this.release();
        this.onEvent({ kind: "lost", reason });
      });
    }, this.opts.recheckIntervalMs);
  }

  private clearTimers(): void {
    if (this.takeTimer !== null) clearTimeout(this.takeTimer);
    if (this.recheckTimer !== null) clearTimeout(this.recheckTimer);
    this.takeTimer = null;
    this.recheckTimer = null;
  }

  private emitLater(e: LockEvent): void {
    const attempt = this.attempt;
    queueMicrotask(() => {
      // A release() in between makes a queued "held" stale.
      if (e.kind === "held" && (attempt !== this.attempt || this.phase !== "held")) return;
      this.onEvent(e);
    });
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed; nothing left to release.
  }
}
