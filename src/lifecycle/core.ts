// The node lifecycle: the runstate walk, the events it runs, the chain of
// events after each recovery and the monitor loop. Pure: no clock, timers,
// processes or sockets. `step` takes the state (and owns it from then on,
// mutating it in place like the cluster core) plus one input, and returns the
// effects for the daemon or the simulator to carry out.
//
// The walk follows ctdbd: runstate INIT, `init` event, join the cluster,
// SETUP, `setup` event, FIRST_RECOVERY until the cluster reports the node's
// first recovery, STARTUP with the `startup` event retried every 5 s until it
// succeeds, then RUNNING with the monitor loop. `init` or `setup` failing ends
// the daemon (code 1). A shutdown request sets SHUTDOWN, lets the event in
// flight finish, drops what is queued, runs `shutdown` and exits.
//
// Events (other than `monitor`) go one at a time through one lane, in the order
// they were queued: the walk's events, the chain after a recovery and events
// other components ask for. The monitor has a lane of its own, because eventd
// cancels a running monitor when another event arrives (the monitor core then
// retries it soon).
//
// After each recovery the cluster reports (input `recovered`) the lane runs,
// never overlapping another recovery's chain (recoveries that arrive while one
// is queued fold into it):
//
//   startrecovery event
//   [database seam]   effect `recover-databases {generation}`; the lane waits
//                     for input `databases-recovered {generation}`. Only when
//                     config.recoverDatabases is set; a database component
//                     recovers records here, while no event runs.
//   recovered event
//   [failover seam]   effect `recovery-finished {generation}`: a takeover run
//                     may start now. A failover core asks for its events
//                     (startipreallocate, releaseip, takeip, updateip,
//                     ipreallocated) with input `request-event {ref, event,
//                     args}`; each runs in the same lane and is answered with
//                     effect `event-finished {ref, event, result}`.
//   ipreallocated event, only while config.ipreallocatedAfterRecovery is set
//                     (until a failover core runs the takeover run itself).

import { ECANCELED } from "../event/errno.ts";
import {
  effectiveResult,
  eventAllowed,
  initialMonitorState,
  type MonitorState,
  type MonitorTunables,
  monitorAfterStartup,
  monitorMayRun,
  monitorResult,
  monitorSkipped,
  type Runstate as RunstateName,
} from "../event/health.ts";
import { Runstate } from "../protocol/constants.ts";

export type LogLevel = "error" | "warning" | "notice" | "info" | "debug";

export interface LifecycleConfig {
  /** Pause before the failed startup event is run again (ctdbd: 5 s). */
  startupRetryMs: number;
  /** EventScriptTimeout, seconds. */
  eventTimeoutSec: number;
  monitor: MonitorTunables;
  /** Run `ipreallocated` after each recovery (the takeover run's last step, while no failover core runs it). */
  ipreallocatedAfterRecovery: boolean;
  /** Stop between startrecovery and recovered until the databases are recovered. */
  recoverDatabases: boolean;
}

export const DEFAULT_LIFECYCLE_CONFIG: LifecycleConfig = {
  startupRetryMs: 5000,
  eventTimeoutSec: 30,
  monitor: { monitorIntervalSec: 15, monitorTimeoutCount: 20 },
  ipreallocatedAfterRecovery: true,
  recoverDatabases: false,
};

/** What the cluster core says that the lifecycle's decisions depend on. */
export interface ClusterView {
  /** Recovery mode active: only some events may run. */
  recoveryActive: boolean;
  /** This node is stopped, banned or disconnected: it does not monitor. */
  inactive: boolean;
}

export type LifecycleInput =
  /** Begin the walk (the client socket is open). */
  | { kind: "start"; nowMs: number }
  /** The node transport is listening and dialling, as `join-cluster` asked. */
  | { kind: "joined"; nowMs: number }
  /** An event this core asked for (effect `run-event`) finished; `result` as eventd replies (0 = success). */
  | { kind: "event-done"; nowMs: number; id: number; result: number }
  | { kind: "tick"; nowMs: number }
  /** The cluster core finished this node's first recovery. */
  | { kind: "first-recovery-done"; nowMs: number }
  /** The cluster core applied a recovery. */
  | { kind: "recovered"; nowMs: number; generation: number }
  /** Answer to `recover-databases`. */
  | { kind: "databases-recovered"; nowMs: number; generation: number }
  /** The cluster core's current view (fed after its steps; unchanged views change nothing). */
  | ({ kind: "cluster"; nowMs: number } & ClusterView)
  /** Another component asks for an event to run in the lane; answered by `event-finished`. */
  | { kind: "request-event"; nowMs: number; ref: number; event: string; args: string[] }
  /** Tunables changed at run time (setvar). */
  | { kind: "tunables"; nowMs: number; eventTimeoutSec: number; monitor: MonitorTunables }
  /** Stop the node; `reason` (with a non-zero code) says why start-up failed. */
  | { kind: "shutdown"; nowMs: number; code: number; reason?: string };

export type LifecycleEffect =
  | { kind: "run-event"; id: number; event: string; args: string[]; timeoutSec: number }
  /** Tell the cluster core (which broadcasts it) the node's runstate. */
  | { kind: "set-runstate"; runstate: number }
  /** Start the node transport; answer with input `joined`. */
  | { kind: "join-cluster" }
  /** Tell the cluster core whether the node's services are healthy. */
  | { kind: "set-health"; healthy: boolean }
  /** Run the notification scripts for this event. */
  | { kind: "notify"; event: string }
  | { kind: "recover-databases"; generation: number }
  | { kind: "recovery-finished"; generation: number }
  | { kind: "event-finished"; ref: number; event: string; result: number }
  | { kind: "wake-at"; atMs: number }
  | { kind: "log"; level: LogLevel; message: string }
  /** Close everything and end the process; `reason` says why start-up failed. */
  | { kind: "exit"; code: number; reason?: string };

type WalkEvent = "init" | "setup" | "startup";
type ChainStep = "startrecovery" | "databases" | "recovered" | "ipreallocated";

type LaneItem =
  | { kind: "walk"; event: WalkEvent }
  | { kind: "chain"; generation: number }
  | { kind: "request"; ref: number; event: string; args: string[] }
  | { kind: "shutdown" };

export interface LifecycleState {
  config: LifecycleConfig;
  nowMs: number;
  runstate: number;
  started: boolean;
  /** Shutdown requested: nothing new is queued. */
  stopping: boolean;
  exitCode: number;
  /** Why start-up failed, for the exit. */
  failReason: string | undefined;
  exited: boolean;
  view: ClusterView;
  nextId: number;
  /** The lane's event in flight. */
  current: { id: number; event: string; item: LaneItem } | undefined;
  queue: LaneItem[];
  /** The recovery chain the lane is in, if any. */
  chain: { generation: number; step: ChainStep } | undefined;
  /** When to run the failed startup event again. */
  startupRetryAtMs: number | undefined;
  monitor: MonitorState;
  monitorId: number | undefined;
  nextMonitorAtMs: number | undefined;
}

export function initialLifecycle(config: LifecycleConfig, nowMs: number): LifecycleState {
  return {
    config,
    nowMs,
    runstate: Runstate.INIT,
    started: false,
    stopping: false,
    exitCode: 0,
    failReason: undefined,
    exited: false,
    view: { recoveryActive: true, inactive: false },
    nextId: 1,
    current: undefined,
    queue: [],
    chain: undefined,
    startupRetryAtMs: undefined,
    monitor: initialMonitorState(),
    monitorId: undefined,
    nextMonitorAtMs: undefined,
  };
}

const RUNSTATE_NAMES: RunstateName[] = ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"];
const NOTIFY_AFTER = new Set(["init", "setup", "startup"]);

export function stepLifecycle(state: LifecycleState, input: LifecycleInput): { state: LifecycleState; effects: LifecycleEffect[] } {
  const fx: LifecycleEffect[] = [];
  state.nowMs = Math.max(state.nowMs, input.nowMs);
  if (state.exited) return { state, effects: fx };
  switch (input.kind) {
    case "start":
      if (state.started) break;
      state.started = true;
      setRunstate(state, Runstate.INIT, fx);
      enqueue(state, { kind: "walk", event: "init" });
      break;
    case "joined":
      if (state.stopping || state.runstate !== Runstate.INIT) break;
      setRunstate(state, Runstate.SETUP, fx);
      enqueue(state, { kind: "walk", event: "setup" });
      break;
    case "event-done":
      onEventDone(state, input.id, input.result, fx);
      break;
    case "tick":
      break;
    case "first-recovery-done":
      if (state.stopping || state.runstate !== Runstate.FIRST_RECOVERY) break;
      setRunstate(state, Runstate.STARTUP, fx);
      enqueue(state, { kind: "walk", event: "startup" });
      break;
    case "recovered":
      onRecovered(state, input.generation);
      break;
    case "databases-recovered":
      if (state.chain?.step !== "databases" || state.chain.generation !== input.generation) break;
      state.chain.step = "recovered";
      break;
    case "cluster":
      state.view = { recoveryActive: input.recoveryActive, inactive: input.inactive };
      break;
    case "request-event":
      if (state.stopping) {
        fx.push({ kind: "event-finished", ref: input.ref, event: input.event, result: -ECANCELED });
        break;
      }
      enqueue(state, { kind: "request", ref: input.ref, event: input.event, args: input.args });
      break;
    case "tunables":
      state.config = { ...state.config, eventTimeoutSec: input.eventTimeoutSec, monitor: input.monitor };
      break;
    case "shutdown":
      if (input.reason !== undefined && !state.stopping) startupFailed(state, input.reason, fx);
      else onShutdown(state, input.code, fx);
      break;
  }
  pumpLane(state, fx);
  pumpMonitor(state, fx);
  const wake = nextWake(state);
  if (wake !== undefined) fx.push({ kind: "wake-at", atMs: wake });
  return { state, effects: fx };
}

function log(fx: LifecycleEffect[], level: LogLevel, message: string): void {
  fx.push({ kind: "log", level, message });
}

function setRunstate(state: LifecycleState, runstate: number, fx: LifecycleEffect[]): void {
  state.runstate = runstate;
  fx.push({ kind: "set-runstate", runstate });
}

function enqueue(state: LifecycleState, item: LaneItem): void {
  state.queue.push(item);
}

function onRecovered(state: LifecycleState, generation: number): void {
  // A recovery seen before the node is set up is not the node's (the cluster
  // core asks for another once it enters FIRST_RECOVERY).
  if (state.stopping || state.runstate < Runstate.FIRST_RECOVERY) return;
  const queued = state.queue.find((i): i is LaneItem & { kind: "chain" } => i.kind === "chain");
  if (queued !== undefined) {
    queued.generation = generation;
    return;
  }
  enqueue(state, { kind: "chain", generation });
}

function onShutdown(state: LifecycleState, code: number, fx: LifecycleEffect[]): void {
  if (state.stopping) return;
  state.stopping = true;
  state.exitCode = code;
  log(fx, "notice", "Shutting down");
  setRunstate(state, Runstate.SHUTDOWN, fx);
  for (const item of state.queue) {
    if (item.kind === "request") fx.push({ kind: "event-finished", ref: item.ref, event: item.event, result: -ECANCELED });
  }
  state.queue = [{ kind: "shutdown" }];
  // A chain waiting for the databases is abandoned; one with an event in
  // flight ends when that event does.
  if (state.chain?.step === "databases") state.chain = undefined;
  state.startupRetryAtMs = undefined;
  state.nextMonitorAtMs = undefined;
}

function startupFailed(state: LifecycleState, reason: string, fx: LifecycleEffect[]): void {
  state.failReason = reason;
  onShutdown(state, 1, fx);
}

function onEventDone(state: LifecycleState, id: number, reply: number, fx: LifecycleEffect[]): void {
  if (state.monitorId === id) return onMonitorDone(state, reply, fx);
  const current = state.current;
  if (current === undefined || current.id !== id) return;
  state.current = undefined;
  finishLaneEvent(state, current.item, current.event, effectiveResult(current.event, reply), fx);
}

/** The lane's event `event` (of `item`) ended with `result` (timeouts of some events already count as success). */
function finishLaneEvent(state: LifecycleState, item: LaneItem, event: string, result: number, fx: LifecycleEffect[]): void {
  if (result !== 0) log(fx, "error", `${event} event failed (${result})`);
  else if (NOTIFY_AFTER.has(event)) fx.push({ kind: "notify", event });
  switch (item.kind) {
    case "walk":
      return finishWalk(state, item.event, result, fx);
    case "chain":
      return advanceChain(state, fx);
    case "request":
      fx.push({ kind: "event-finished", ref: item.ref, event: item.event, result });
      return;
    case "shutdown":
      state.exited = true;
      state.startupRetryAtMs = undefined;
      fx.push({
        kind: "exit",
        code: state.exitCode,
        ...(state.failReason === undefined ? {} : { reason: state.failReason }),
      });
      return;
  }
}

function finishWalk(state: LifecycleState, event: WalkEvent, result: number, fx: LifecycleEffect[]): void {
  if (state.stopping) return;
  switch (event) {
    case "init":
      if (result !== 0) return startupFailed(state, `init event failed (${result})`, fx);
      fx.push({ kind: "join-cluster" });
      return;
    case "setup":
      if (result !== 0) return startupFailed(state, `setup event failed (${result})`, fx);
      setRunstate(state, Runstate.FIRST_RECOVERY, fx);
      return;
    case "startup":
      if (result !== 0) {
        log(fx, "error", `startup event failed; retrying in ${state.config.startupRetryMs / 1000} s`);
        state.startupRetryAtMs = state.nowMs + state.config.startupRetryMs;
        return;
      }
      setRunstate(state, Runstate.RUNNING, fx);
      {
        const first = monitorAfterStartup(state.monitor);
        state.monitor = first.state;
        state.nextMonitorAtMs = state.nowMs + first.delaySec * 1000;
      }
      return;
  }
}

/** The chain's current step finished: move to the next one (the lane starts it). */
function advanceChain(state: LifecycleState, fx: LifecycleEffect[]): void {
  const chain = state.chain;
  if (chain === undefined) return;
  if (state.stopping) {
    state.chain = undefined;
    return;
  }
  switch (chain.step) {
    case "startrecovery":
      if (state.config.recoverDatabases) {
        chain.step = "databases";
        fx.push({ kind: "recover-databases", generation: chain.generation });
      } else {
        chain.step = "recovered";
      }
      return;
    case "databases":
      return;
    case "recovered":
      fx.push({ kind: "recovery-finished", generation: chain.generation });
      if (state.config.ipreallocatedAfterRecovery) chain.step = "ipreallocated";
      else state.chain = undefined;
      return;
    case "ipreallocated":
      state.chain = undefined;
      return;
  }
}

/** Start lane work while the lane is free: the chain's next event, else the next queued item. */
function pumpLane(state: LifecycleState, fx: LifecycleEffect[]): void {
  if (state.startupRetryAtMs !== undefined && state.nowMs >= state.startupRetryAtMs) {
    state.startupRetryAtMs = undefined;
    enqueue(state, { kind: "walk", event: "startup" });
  }
  for (;;) {
    if (state.current !== undefined || state.exited) return;
    if (state.chain !== undefined) {
      if (state.chain.step === "databases") return;
      launch(state, { kind: "chain", generation: state.chain.generation }, state.chain.step, [], fx);
      continue;
    }
    const item = state.queue.shift();
    if (item === undefined) return;
    switch (item.kind) {
      case "walk":
        launch(state, item, item.event, [], fx);
        break;
      case "chain":
        state.chain = { generation: item.generation, step: "startrecovery" };
        break;
      case "request":
        launch(state, item, item.event, item.args, fx);
        break;
      case "shutdown":
        launch(state, item, "shutdown", [], fx);
        break;
    }
  }
}

/** Ask for `event` to run, or refuse it at once as ctdbd does in recovery mode. */
function launch(state: LifecycleState, item: LaneItem, event: string, args: string[], fx: LifecycleEffect[]): void {
  if (!eventAllowed(event, { recoveryMode: state.view.recoveryActive ? "active" : "normal" })) {
    log(fx, "error", `Refusing to run event '${event}' while in recovery`);
    finishLaneEvent(state, item, event, -1, fx);
    return;
  }
  const id = state.nextId++;
  state.current = { id, event, item };
  fx.push({ kind: "run-event", id, event, args, timeoutSec: state.config.eventTimeoutSec });
}

function pumpMonitor(state: LifecycleState, fx: LifecycleEffect[]): void {
  const at = state.nextMonitorAtMs;
  if (state.stopping || state.monitorId !== undefined || at === undefined || state.nowMs < at) return;
  const mayRun = monitorMayRun({
    recoveryMode: state.view.recoveryActive ? "active" : "normal",
    runstate: RUNSTATE_NAMES[state.runstate] ?? "UNKNOWN",
    inactive: state.view.inactive,
    allFrozen: false,
  });
  if (!mayRun) {
    const skipped = monitorSkipped(state.monitor);
    state.monitor = skipped.state;
    state.nextMonitorAtMs = state.nowMs + skipped.delaySec * 1000;
    return;
  }
  const id = state.nextId++;
  state.monitorId = id;
  state.nextMonitorAtMs = undefined;
  fx.push({ kind: "run-event", id, event: "monitor", args: [], timeoutSec: state.config.eventTimeoutSec });
}

function onMonitorDone(state: LifecycleState, reply: number, fx: LifecycleEffect[]): void {
  state.monitorId = undefined;
  if (state.stopping) return;
  const verdict = monitorResult(state.monitor, reply, state.config.monitor);
  state.monitor = verdict.state;
  if (verdict.transition !== null) {
    log(fx, "notice", `Node became ${verdict.transition.toUpperCase()}`);
    fx.push({ kind: "set-health", healthy: verdict.transition === "healthy" });
    fx.push({ kind: "notify", event: verdict.transition });
  }
  state.nextMonitorAtMs = state.nowMs + verdict.delaySec * 1000;
}

function nextWake(state: LifecycleState): number | undefined {
  if (state.exited) return undefined;
  let at: number | undefined;
  for (const t of [state.startupRetryAtMs, state.monitorId === undefined ? state.nextMonitorAtMs : undefined]) {
    if (t !== undefined && (at === undefined || t < at)) at = t;
  }
  return at;
}
