// Pure rules from CTDB's server/ctdb_monitor.c and server/eventscript.c:
// how monitor results change the node's health, when the next monitor runs,
// and which events may run in which recovery mode.
import { ECANCELED, ETIMEDOUT } from "./errno.ts";

export type RecoveryMode = "normal" | "active";

export type Runstate = "UNKNOWN" | "INIT" | "SETUP" | "FIRST_RECOVERY" | "STARTUP" | "RUNNING" | "SHUTDOWN";

export interface MonitorState {
  /** NODE_FLAGS_UNHEALTHY of this node; ctdbd starts every node unhealthy. */
  unhealthy: boolean;
  /** Consecutive monitor timeouts (reset by any completed, non-timeout result). */
  timeouts: number;
  /** Seconds until the monitor after next (doubles up to MonitorInterval). */
  nextIntervalSec: number;
}

export interface MonitorTunables {
  monitorIntervalSec: number; // MonitorInterval, default 15
  monitorTimeoutCount: number; // MonitorTimeoutCount, default 20
}

export const DEFAULT_MONITOR_TUNABLES: MonitorTunables = { monitorIntervalSec: 15, monitorTimeoutCount: 20 };

const CANCELLED_RETRY_SEC = 0.5;

export function initialMonitorState(): MonitorState {
  return { unhealthy: true, timeouts: 0, nextIntervalSec: 5 };
}

export interface MonitorVerdict {
  state: MonitorState;
  /** A health change to announce (notification script, flag push, takeover run). */
  transition: "healthy" | "unhealthy" | null;
  /** When to run the next monitor, in seconds from now. */
  delaySec: number;
}

/**
 * Apply one monitor result as ctdbd receives it from eventd (0, ETIMEDOUT,
 * ECANCELED, ENOEXEC or another positive errno). Cancelled monitors change
 * nothing; a timeout only counts as a failure once MonitorTimeoutCount
 * consecutive timeouts are reached (and keeps counting past it).
 */
export function monitorResult(state: MonitorState, result: number, tun: MonitorTunables): MonitorVerdict {
  let { unhealthy, timeouts, nextIntervalSec } = state;
  let transition: MonitorVerdict["transition"] = null;
  let judge = true;
  if (result === ECANCELED) {
    judge = false;
  } else if (result === ETIMEDOUT) {
    timeouts++;
    if (timeouts < tun.monitorTimeoutCount) judge = false;
  } else {
    timeouts = 0;
  }
  if (result === ECANCELED) {
    // Cancelled by another event, so nothing was judged. CTDB waits the whole
    // interval; Tandem tries again soon, and the interval does not grow.
    return { state, transition: null, delaySec: Math.min(state.nextIntervalSec, CANCELLED_RETRY_SEC) };
  }
  if (judge) {
    if (result !== 0 && !unhealthy) {
      unhealthy = true;
      nextIntervalSec = 5;
      transition = "unhealthy";
    } else if (result === 0 && unhealthy) {
      unhealthy = false;
      nextIntervalSec = 5;
      transition = "healthy";
    }
  }
  const delaySec = nextIntervalSec;
  nextIntervalSec = Math.min(nextIntervalSec * 2, tun.monitorIntervalSec);
  return { state: { unhealthy, timeouts, nextIntervalSec }, transition, delaySec };
}

/**
 * After a successful startup event: runstate RUNNING. CTDB waits 2 s for the
 * first monitor; Tandem runs it at once, so a healthy node reports OK as soon
 * as its services say so. The interval then starts at 2 s as in CTDB.
 */
export function monitorAfterStartup(state: MonitorState): { state: MonitorState; delaySec: number } {
  return { state: { ...state, nextIntervalSec: 2 }, delaySec: 0 };
}

/** The monitor could not be launched at all: retry in 5 s. */
export function monitorLaunchFailed(state: MonitorState): { state: MonitorState; delaySec: number } {
  return { state: { ...state, nextIntervalSec: 5 }, delaySec: 5 };
}

/** A skipped monitor (see monitorMayRun) is retried after the current interval, which does not grow. */
export function monitorSkipped(state: MonitorState): { state: MonitorState; delaySec: number } {
  return { state, delaySec: state.nextIntervalSec };
}

/** ctdb_check_health(): monitor only when RUNNING, not in recovery, node active, databases not all frozen. */
export function monitorMayRun(ctx: {
  recoveryMode: RecoveryMode;
  runstate: Runstate;
  inactive: boolean;
  allFrozen: boolean;
}): boolean {
  return ctx.recoveryMode === "normal" && ctx.runstate === "RUNNING" && !ctx.inactive && !ctx.allFrozen;
}

// startipreallocate (CTDB 4.21) may run during recovery too.
const ALLOWED_DURING_RECOVERY = new Set(["init", "setup", "startrecovery", "shutdown", "releaseip", "ipreallocated", "startipreallocate"]);

/**
 * server/eventscript.c: outside normal recovery mode only these events run;
 * the rest are refused ("Refusing to run event '%s' while in recovery") so
 * scripts never touch databases that recovery has locked. The runstate does
 * not gate events here (monitor gating is monitorMayRun).
 */
export function eventAllowed(event: string, ctx: { recoveryMode: RecoveryMode; runstate?: Runstate }): boolean {
  if (ctx.recoveryMode === "normal") return true;
  return ALLOWED_DURING_RECOVERY.has(event);
}

const ARG_COUNTS: Record<string, number> = {
  init: 0,
  setup: 0,
  startup: 0,
  startrecovery: 0,
  recovered: 0,
  monitor: 0,
  shutdown: 0,
  ipreallocated: 0,
  startipreallocate: 0,
  takeip: 3,
  releaseip: 3,
  updateip: 4,
};

/** check_options(): ctdbd refuses unknown events and wrong argument counts ("Bad event script arguments"). */
export function eventArgsValid(event: string, args: readonly string[]): boolean {
  const want = ARG_COUNTS[event];
  if (want === undefined) return false;
  const words = args.join(" ").split(/[ \t]+/).filter((w) => w.length > 0);
  return words.length === want;
}

const TIMEOUT_IS_SUCCESS = new Set(["startrecovery", "recovered", "takeip", "releaseip"]);

/** ctdbd logs "Ignoring hung script for %s event" and carries on as if these had succeeded. */
export function timeoutIsSuccess(event: string): boolean {
  return TIMEOUT_IS_SUCCESS.has(event);
}

/** The result ctdbd acts on: eventd's reply with ignored timeouts turned into success. */
export function effectiveResult(event: string, reply: number): number {
  return reply === ETIMEDOUT && timeoutIsSuccess(event) ? 0 : reply;
}
