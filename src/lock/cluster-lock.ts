// The cluster lock: the race that elects the leader (CTDB's
// server/ctdb_cluster_mutex.c and server/ctdb_recoverd.c).
//
// `[cluster] cluster lock` is either a FILE or `!helper args...`.
// - FILE: Tandem takes the fcntl lock in its own process (file-lock.ts).
//   ctdbd instead runs ctdb_mutex_fcntl_helper FILE as a child; that child
//   only notices its parent is gone by polling, so after `kill -9 ctdbd` it
//   keeps the lock for up to ~5 s. An in-process lock is freed by the kernel
//   the moment the daemon dies. Both lock the same byte, so Tandem and CTDB
//   nodes exclude each other on a shared file.
// - `!cmd args`: any CTDB mutex helper, spoken to with its status-byte
//   protocol (helper-lock.ts).

import { FileLock } from "./file-lock.ts";
import { HelperLock } from "./helper-lock.ts";
import { DEFAULT_HELPER_BINDIR, parseClusterLockSetting } from "./setting.ts";

export type LockEvent =
  | { kind: "held" }
  | { kind: "contended" }
  | { kind: "timeout" }
  | { kind: "error"; reason: string }
  | { kind: "lost"; reason: string };

export type LockLogLevel = "error" | "warning" | "notice" | "info" | "debug";
export type LockLog = (level: LockLogLevel, msg: string) => void;

export interface ClusterLock {
  /**
   * Asynchronous; the outcome arrives as exactly one of held / contended /
   * timeout / error through onEvent (never from inside take() itself).
   * take() while a take is in flight is ignored (that take's outcome answers
   * both); take() while held reports "held" again.
   */
  take(): void;
  /** Idempotent. Cancels an in-flight take silently; no "lost" follows. */
  release(): void;
  /** release() and free everything (timers, fds, child processes). */
  close(): void;
  onEvent: (e: LockEvent) => void;
  readonly description: string;
}

export interface ClusterLockOptions {
  /** FILE locks: how often to check the path still names the locked file. Default 5000 (CTDB's helper: 5 s). */
  recheckIntervalMs?: number;
  /** How long a take may take before "timeout". Default 120000 (CTDB's election uses 120 s). */
  takeTimeoutMs?: number;
  log?: LockLog;
  /** Where bare helper names are looked up. Default /usr/libexec/ctdb. */
  helperBindir?: string;
}

export const DEFAULT_RECHECK_INTERVAL_MS = 5000;
export const DEFAULT_TAKE_TIMEOUT_MS = 120_000;

/** A lock that can never be taken: every take() reports the same error. */
class InvalidLock implements ClusterLock {
  onEvent: (e: LockEvent) => void = () => {};
  readonly description: string;
  private closed = false;

  constructor(
    private readonly reason: string,
    setting: string,
  ) {
    this.description = `invalid cluster lock "${setting}"`;
  }

  take(): void {
    queueMicrotask(() => {
      if (!this.closed) this.onEvent({ kind: "error", reason: this.reason });
    });
  }
  release(): void {}
  close(): void {
    this.closed = true;
  }
}

export function createClusterLock(setting: string, opts: ClusterLockOptions = {}): ClusterLock {
  const log: LockLog = opts.log ?? (() => {});
  const takeTimeoutMs = positiveOr(opts.takeTimeoutMs, DEFAULT_TAKE_TIMEOUT_MS);
  const parsed = parseClusterLockSetting(setting, opts.helperBindir ?? DEFAULT_HELPER_BINDIR);
  switch (parsed.kind) {
    case "file":
      return new FileLock(parsed.path, {
        recheckIntervalMs: positiveOr(opts.recheckIntervalMs, DEFAULT_RECHECK_INTERVAL_MS),
        takeTimeoutMs,
        log,
      });
    case "helper":
      return new HelperLock(parsed.argv, { takeTimeoutMs, log });
    case "invalid":
      log("error", `cluster lock: ${parsed.reason}`);
      return new InvalidLock(parsed.reason, setting);
  }
}

function positiveOr(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : dflt;
}
