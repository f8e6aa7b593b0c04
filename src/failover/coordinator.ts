// The coordinator core: the takeover run the leader drives, in CTDB 4.21's
// order and acknowledged stage by stage:
//   gather   every connected node reports its addresses (which it may host,
//            which it hosts);
//            the allocator computes the new holders;
//   start    every connected node runs startipreallocate (NFS grace) and acks;
//   release  each node releases what it loses, and acks;
//   take     each node takes (or moves to another interface) what it gains;
//   done     every node announces what it hosts and runs ipreallocated.
// One deadline covers the whole run (3 × TakeoverTimeout). A node that fails
// its part, or does not answer in time, gets a ban credit and the run is
// retried. A membership or flag change aborts the run and starts a new one
// from a fresh gather, so a plan is never carried out against a cluster that
// has changed under it.
//
// Safety:
// - release strictly before take: take messages go out only after every
//   release is acknowledged, and a participant reports only after its earlier
//   events finished, so no address is configured on two nodes;
// - no take before every node of the run acknowledged startipreallocate;
// - an address a disconnected node might still host is not handed out until
//   `holderGraceMs` after that node was last heard (its participant drops
//   everything once it has been without a leader for its own, shorter grace).
//
// Pure: the shell delivers messages (also to this node's own participant).

import { NodeFlag, Runstate } from "../protocol/constants.ts";
import { nodeMayHost } from "./alloc/index.ts";
import {
  type Allocate,
  type AllocAddress,
  type AllocNode,
  type AddressRef,
  type AddressReport,
  EAGAIN,
  type FailoverMessage,
  type NodeView,
  type ReplyTo,
  type Stage,
} from "./types.ts";

export interface CoordinatorConfig {
  pnn: number;
  allocate: Allocate;
  /** The one deadline of a run (CTDB: 3 × TakeoverTimeout). */
  runTimeoutMs: number;
  /** Pause before a failed run is tried again. */
  retryMs: number;
  /**
   * After last hearing a silent node, how long it might still host addresses:
   * its silence detection (KeepaliveInterval × KeepaliveLimit) plus its
   * participant's leaderless grace plus a margin.
   */
  holderGraceMs: number;
  /**
   * The same for a node whose connection closed: it died (its watchdog removes
   * its addresses) or it dropped the leader (and drops its addresses after its
   * leaderless grace). Defaults to holderGraceMs.
   */
  closedGraceMs?: number;
  /** Runs kept for `tandem failover history`. */
  historySize: number;
  /** Number of the first run (a restarted leader should not reuse the numbers of its last life). */
  firstRun?: number;
}

export type CoordinatorInput =
  | { kind: "tick"; nowMs: number }
  | { kind: "leader"; nowMs: number; leading: boolean }
  | { kind: "nodes"; nowMs: number; nodes: readonly NodeView[] }
  /** A recovery is running (active) or finished: runs wait for it. */
  | { kind: "recovery"; nowMs: number; active: boolean }
  | { kind: "trigger"; nowMs: number; reason: string; replyTo?: ReplyTo }
  | { kind: "message"; nowMs: number; from: number; msg: FailoverMessage }
  /** DISABLE_TAKEOVER_RUNS: no new run starts before untilMs (0 re-enables). */
  | { kind: "disable-runs"; nowMs: number; untilMs: number }
  /** A node is known to be dead with its addresses removed (its watchdog said so). */
  | { kind: "holder-gone"; nowMs: number; pnn: number };

export type CoordinatorEffect =
  | { kind: "send"; to: number; msg: FailoverMessage }
  /** Answer a takeover-run request: the leader's PNN on success, -1 on failure. */
  | { kind: "reply"; replyTo: ReplyTo; result: number }
  | { kind: "ban-credit"; pnn: number; reason: string }
  | { kind: "run-finished"; record: RunRecord }
  | { kind: "log"; level: "error" | "warning" | "notice" | "info"; message: string };

export interface RunRecord {
  run: number;
  leader: number;
  reasons: string[];
  triggeredMs: number;
  startedMs: number;
  finishedMs: number | undefined;
  result: "running" | "ok" | "failed" | "aborted";
  error: string | undefined;
  /** Whether this run needed grace at all (something moved). */
  grace: boolean;
  /** When each node acknowledged startipreallocate. */
  startAcks: { pnn: number; ms: number }[];
  released: { address: string; pnn: number; ms: number }[];
  taken: { address: string; pnn: number; ms: number }[];
  /** When each node acknowledged the final stage, after announcing its addresses. */
  announced: { pnn: number; ms: number }[];
}

interface Plan {
  assignment: Map<string, number>;
  prefixes: Map<string, number>;
  release: Map<number, AddressRef[]>;
  take: Map<number, AddressRef[]>;
  /** Moves requested by moveip that this plan carries out. */
  moves: PendingMove[];
}

interface PendingMove {
  from: number;
  token: number;
  address: string;
  to: number;
}

interface Run {
  id: number;
  members: number[];
  stage: Stage;
  waiting: Set<number>;
  deadlineMs: number;
  reports: Map<number, AddressReport[]>;
  plan: Plan | undefined;
  replyTo: ReplyTo[];
  record: RunRecord;
}

export interface CoordinatorState {
  config: CoordinatorConfig;
  nowMs: number;
  leading: boolean;
  recoveryActive: boolean;
  nodes: Map<number, NodeView>;
  /** Nodes whose death and address removal were confirmed (until heard again). */
  gone: Set<number>;
  /** The addresses each node listed when last gathered. */
  knownLists: Map<number, Set<string>>;
  pending: { reasons: string[]; sinceMs: number; replyTo: ReplyTo[] } | undefined;
  run: Run | undefined;
  nextRun: number;
  notBeforeMs: number;
  disabledUntilMs: number;
  moves: PendingMove[];
  history: RunRecord[];
  /** When the last run computed its plan: grace ends before it are already accounted for. */
  lastPlanMs: number;
  /** Runs failed in a row: the pause before the next one doubles with each, up to 8 × retryMs. */
  failures: number;
  /**
   * Since when this node leads: a node lost before then may have been heard
   * by the previous leader later than by this one, so its grace counts from
   * here at the earliest.
   */
  leadingSinceMs: number;
}

export function initialCoordinator(config: CoordinatorConfig, nowMs: number): CoordinatorState {
  return {
    config,
    nowMs,
    leading: false,
    recoveryActive: false,
    nodes: new Map(),
    gone: new Set(),
    knownLists: new Map(),
    pending: undefined,
    run: undefined,
    nextRun: config.firstRun ?? 1,
    notBeforeMs: 0,
    disabledUntilMs: 0,
    moves: [],
    history: [],
    lastPlanMs: -Infinity,
    failures: 0,
    leadingSinceMs: 0,
  };
}

export function stepCoordinator(
  state: CoordinatorState,
  input: CoordinatorInput,
): { state: CoordinatorState; effects: CoordinatorEffect[] } {
  const fx: CoordinatorEffect[] = [];
  state.nowMs = Math.max(state.nowMs, input.nowMs);
  switch (input.kind) {
    case "tick":
      break;
    case "leader":
      onLeading(state, input.leading, fx);
      break;
    case "nodes":
      onNodes(state, input.nodes, fx);
      break;
    case "recovery":
      state.recoveryActive = input.active;
      if (input.active) abort(state, fx, "recovery started");
      else trigger(state, "recovery finished");
      break;
    case "trigger":
      trigger(state, input.reason, input.replyTo);
      break;
    case "message":
      onMessage(state, input.from, input.msg, fx);
      break;
    case "disable-runs":
      state.disabledUntilMs = input.untilMs;
      break;
    case "holder-gone":
      state.gone.add(input.pnn);
      trigger(state, `node ${input.pnn} is gone`);
      break;
  }
  checkDeadline(state, fx);
  maybeStart(state, fx);
  return { state, effects: fx };
}

/** When the shell should tick the coordinator next (undefined: only on input). */
export function coordinatorWakeAt(state: CoordinatorState): number | undefined {
  if (!state.leading) return undefined;
  let at: number | undefined;
  const consider = (t: number) => {
    if (t > state.nowMs && (at === undefined || t < at)) at = t;
  };
  if (state.run !== undefined) consider(state.run.deadlineMs);
  else if (state.pending !== undefined) {
    consider(state.notBeforeMs);
    consider(state.disabledUntilMs);
  }
  for (const t of unblockTimes(state)) consider(t);
  return at;
}

function log(fx: CoordinatorEffect[], level: "error" | "warning" | "notice" | "info", message: string): void {
  fx.push({ kind: "log", level, message });
}

function trigger(state: CoordinatorState, reason: string, replyTo?: ReplyTo): void {
  // Only the leader runs (and answers: CTDB's tool broadcasts and waits for it);
  // a node that becomes leader runs anyway.
  if (!state.leading) return;
  if (state.pending === undefined) state.pending = { reasons: [], sinceMs: state.nowMs, replyTo: [] };
  if (!state.pending.reasons.includes(reason)) state.pending.reasons.push(reason);
  if (replyTo !== undefined) state.pending.replyTo.push(replyTo);
}

function onLeading(state: CoordinatorState, leading: boolean, fx: CoordinatorEffect[]): void {
  if (leading === state.leading) return;
  state.leading = leading;
  if (leading) {
    state.leadingSinceMs = state.nowMs;
    trigger(state, "new leader");
    return;
  }
  abort(state, fx, "no longer the leader");
  for (const m of state.moves) fx.push({ kind: "send", to: m.from, msg: { k: "moved", token: m.token, ok: false } });
  state.moves = [];
  state.pending = undefined;
}

/** The part of a node's view a run depends on. */
function shape(v: NodeView | undefined): string {
  if (v === undefined) return "absent";
  return `${v.connected ? 1 : 0}/${v.flags & ~NodeFlag.DISCONNECTED}/${v.runstate >= Runstate.RUNNING ? v.runstate : 0}`;
}

function onNodes(state: CoordinatorState, nodes: readonly NodeView[], fx: CoordinatorEffect[]): void {
  const changes: string[] = [];
  const changed: NodeView[] = [];
  for (const v of nodes) {
    const before = state.nodes.get(v.pnn);
    if (shape(before) !== shape(v)) {
      changes.push(describeChange(before, v));
      changed.push(v);
      if (v.connected) state.gone.delete(v.pnn);
    }
    state.nodes.set(v.pnn, { ...v });
  }
  if (changes.length === 0) return;
  for (const c of changes) trigger(state, c);
  const run = state.run;
  // A member that changed, or a node that joined, makes the plan stale.
  if (run !== undefined && changed.some((v) => v.connected || run.members.includes(v.pnn))) {
    abort(state, fx, `cluster changed: ${changes.join("; ")}`);
  }
}

function describeChange(before: NodeView | undefined, v: NodeView): string {
  if (before === undefined || before.connected !== v.connected) return `node ${v.pnn} ${v.connected ? "connected" : "disconnected"}`;
  if (before.flags !== v.flags) return `node ${v.pnn} flags 0x${before.flags.toString(16)} -> 0x${v.flags.toString(16)}`;
  return `node ${v.pnn} runstate ${before.runstate} -> ${v.runstate}`;
}

function connectedNodes(state: CoordinatorState): number[] {
  const out: number[] = [];
  for (const v of state.nodes.values()) if (v.connected) out.push(v.pnn);
  if (!out.includes(state.config.pnn)) out.push(state.config.pnn);
  return out.sort((a, b) => a - b);
}

function maybeStart(state: CoordinatorState, fx: CoordinatorEffect[]): void {
  if (!state.leading || state.run !== undefined || state.recoveryActive) return;
  // A holder's grace running out is a reason of its own to run again.
  for (const t of unblockTimes(state)) {
    if (t <= state.nowMs && t > state.lastPlanMs) trigger(state, "a disconnected node's addresses became free");
  }
  if (state.pending === undefined) return;
  if (state.nowMs < state.notBeforeMs || state.nowMs < state.disabledUntilMs) return;
  const pending = state.pending;
  state.pending = undefined;
  const id = state.nextRun++;
  const members = connectedNodes(state);
  const record: RunRecord = {
    run: id,
    leader: state.config.pnn,
    reasons: pending.reasons,
    triggeredMs: pending.sinceMs,
    startedMs: state.nowMs,
    finishedMs: undefined,
    result: "running",
    error: undefined,
    grace: false,
    startAcks: [],
    released: [],
    taken: [],
    announced: [],
  };
  state.run = {
    id,
    members,
    stage: "gather",
    waiting: new Set(members),
    deadlineMs: state.nowMs + state.config.runTimeoutMs,
    reports: new Map(),
    plan: undefined,
    replyTo: pending.replyTo,
    record,
  };
  log(fx, "info", `Takeover run ${id} (${pending.reasons.join("; ")}) over nodes [${members.join(",")}]`);
  for (const pnn of members) send(fx, pnn, { k: "gather", run: id });
}

function send(fx: CoordinatorEffect[], to: number, msg: FailoverMessage): void {
  fx.push({ kind: "send", to, msg });
}

function onMessage(state: CoordinatorState, from: number, msg: FailoverMessage, fx: CoordinatorEffect[]): void {
  switch (msg.k) {
    case "run-request":
      if (state.leading) trigger(state, `node ${from}: ${msg.reason}`);
      return;
    case "move":
      if (!state.leading) {
        send(fx, from, { k: "moved", token: msg.token, ok: false });
        return;
      }
      state.moves.push({ from, token: msg.token, address: msg.address, to: msg.to });
      trigger(state, `moveip ${msg.address} to node ${msg.to}`);
      return;
    case "ips":
      return onReport(state, from, msg.run, msg.ips, fx);
    case "ack":
      return onAck(state, from, msg.run, msg.stage, msg.status, fx);
    default:
      return;
  }
}

function onReport(state: CoordinatorState, from: number, runId: number, ips: AddressReport[], fx: CoordinatorEffect[]): void {
  const run = state.run;
  if (run === undefined || run.id !== runId || run.stage !== "gather" || !run.waiting.has(from)) return;
  run.waiting.delete(from);
  run.reports.set(from, ips);
  state.knownLists.set(from, new Set(ips.map((i) => i.address)));
  if (run.waiting.size === 0) planRun(state, run, fx);
}

/** Connected and, by the allocator's own rule, allowed to host. */
function eligible(v: NodeView | undefined): boolean {
  return v?.connected === true && nodeMayHost(v);
}

function graceOf(state: CoordinatorState, v: NodeView): number {
  return v.closed === true ? (state.config.closedGraceMs ?? state.config.holderGraceMs) : state.config.holderGraceMs;
}

/** When addresses that disconnected nodes might hold become free to hand out. */
function unblockTimes(state: CoordinatorState): number[] {
  const out: number[] = [];
  for (const v of state.nodes.values()) {
    if (v.connected || v.pnn === state.config.pnn || state.gone.has(v.pnn)) continue;
    out.push(Math.max(v.lastHeardMs, state.leadingSinceMs) + graceOf(state, v));
  }
  return out;
}

/** Disconnected nodes that may still host `address`. */
function mayBeHeldElsewhere(state: CoordinatorState, address: string): boolean {
  for (const v of state.nodes.values()) {
    if (v.connected || v.pnn === state.config.pnn || state.gone.has(v.pnn)) continue;
    if (state.nowMs >= Math.max(v.lastHeardMs, state.leadingSinceMs) + graceOf(state, v)) continue;
    const known = state.knownLists.get(v.pnn);
    if (known === undefined || known.has(address)) return true;
  }
  return false;
}

function planRun(state: CoordinatorState, run: Run, fx: CoordinatorEffect[]): void {
  state.lastPlanMs = state.nowMs;
  const holders = new Map<string, number[]>();
  const available = new Map<string, number[]>();
  const known = new Map<string, number[]>();
  const prefixes = new Map<string, number>();
  for (const [pnn, ips] of run.reports) {
    for (const ip of ips) {
      prefixes.set(ip.address, ip.prefix);
      push(known, ip.address, pnn);
      if (ip.hostedOn !== null) push(holders, ip.address, pnn);
      if (ip.available && eligible(state.nodes.get(pnn) ?? selfView(state, pnn))) push(available, ip.address, pnn);
    }
  }
  const allocNodes: AllocNode[] = run.members.map((pnn) => {
    const v = state.nodes.get(pnn) ?? selfView(state, pnn);
    return { pnn, flags: v.flags, runstate: v.runstate };
  });
  const blocked = new Set<string>();
  const allocAddrs: AllocAddress[] = [];
  for (const [address, knownOn] of known) {
    const heldBy = holders.get(address) ?? [];
    if (heldBy.length === 0 && mayBeHeldElsewhere(state, address)) blocked.add(address);
    allocAddrs.push({
      address,
      current: heldBy[0] ?? -1,
      allowed: knownOn.sort((a, b) => a - b),
      available: (available.get(address) ?? []).sort((a, b) => a - b),
    });
  }
  const result = state.config.allocate(allocNodes, allocAddrs);
  const assignment = new Map<string, number>();
  for (const a of allocAddrs) {
    let target = result.get(a.address) ?? -1;
    // Never trust a target that cannot host the address.
    if (!(a.available ?? []).includes(target)) target = -1;
    if (blocked.has(a.address)) target = -1;
    assignment.set(a.address, target);
  }
  const moves: PendingMove[] = [];
  for (const m of state.moves) {
    const a = allocAddrs.find((x) => x.address === m.address);
    if (a?.available?.includes(m.to) && !blocked.has(m.address)) {
      assignment.set(m.address, m.to);
      moves.push(m);
    } else {
      send(fx, m.from, { k: "moved", token: m.token, ok: false });
      log(fx, "error", `moveip ${m.address} to node ${m.to}: that node cannot host it`);
    }
  }
  state.moves = [];
  const release = new Map<number, AddressRef[]>();
  const take = new Map<number, AddressRef[]>();
  let moving = false;
  for (const a of allocAddrs) {
    const target = assignment.get(a.address) ?? -1;
    const ref = { address: a.address, prefix: prefixes.get(a.address) ?? 0 };
    for (const h of holders.get(a.address) ?? []) {
      if (h !== target) {
        push(release, h, ref);
        moving = true;
      }
    }
    if (target !== -1) {
      push(take, target, ref);
      if (!(holders.get(a.address) ?? []).includes(target)) moving = true;
    }
  }
  run.plan = { assignment, prefixes, release, take, moves };
  run.record.grace = moving;
  if (blocked.size > 0) log(fx, "notice", `Run ${run.id}: ${blocked.size} address(es) wait for a disconnected node's grace`);
  if (moving) {
    // Tandem runs startipreallocate only when an address moves (CTDB runs it
    // every time, putting every NFS server into grace for nothing).
    enterStage(state, run, "start", run.members, fx);
  } else {
    enterRelease(state, run, fx);
  }
}

function selfView(state: CoordinatorState, pnn: number): NodeView {
  return { pnn, connected: true, flags: 0, runstate: Runstate.RUNNING, lastHeardMs: state.nowMs };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

function enterStage(state: CoordinatorState, run: Run, stage: Stage, nodes: number[], fx: CoordinatorEffect[]): void {
  run.stage = stage;
  run.waiting = new Set(nodes);
  const plan = run.plan!;
  const assignment = [...plan.assignment];
  for (const pnn of nodes) {
    switch (stage) {
      case "start":
        send(fx, pnn, { k: "start", run: run.id });
        break;
      case "release":
        send(fx, pnn, { k: "release", run: run.id, ips: plan.release.get(pnn) ?? [], assignment });
        break;
      case "take":
        send(fx, pnn, { k: "take", run: run.id, ips: plan.take.get(pnn) ?? [], grace: run.record.grace });
        break;
      case "done":
        send(fx, pnn, { k: "done", run: run.id, assignment });
        break;
      case "gather":
        break;
    }
  }
  if (nodes.length === 0) advance(state, run, fx);
}

function enterRelease(state: CoordinatorState, run: Run, fx: CoordinatorEffect[]): void {
  enterStage(state, run, "release", [...run.plan!.release.keys()].sort((a, b) => a - b), fx);
}

function advance(state: CoordinatorState, run: Run, fx: CoordinatorEffect[]): void {
  switch (run.stage) {
    case "start":
      return enterRelease(state, run, fx);
    case "release":
      return enterStage(state, run, "take", [...run.plan!.take.keys()].sort((a, b) => a - b), fx);
    case "take":
      return enterStage(state, run, "done", run.members, fx);
    case "done":
      return finish(state, run, "ok", undefined, fx);
    case "gather":
      return;
  }
}

function onAck(state: CoordinatorState, from: number, runId: number, stage: Stage, status: number, fx: CoordinatorEffect[]): void {
  const run = state.run;
  if (run === undefined || run.id !== runId || run.stage !== stage || !run.waiting.has(from)) return;
  run.waiting.delete(from);
  const now = state.nowMs;
  const plan = run.plan!;
  if (status === -EAGAIN) {
    // Its addresses changed after it reported (its watchdog removed them): not
    // its fault; gather again.
    finish(state, run, "aborted", `node ${from}'s report went stale`, fx);
    trigger(state, `restart of run ${run.id}: node ${from}'s report went stale`);
    return;
  }
  if (status !== 0) {
    fx.push({ kind: "ban-credit", pnn: from, reason: `${stage} failed (${status})` });
    finish(state, run, "failed", `node ${from} failed ${stageName(stage)} (${status})`, fx);
    return;
  }
  switch (stage) {
    case "start":
      run.record.startAcks.push({ pnn: from, ms: now });
      break;
    case "release":
      for (const ip of plan.release.get(from) ?? []) run.record.released.push({ address: ip.address, pnn: from, ms: now });
      break;
    case "take":
      for (const ip of plan.take.get(from) ?? []) run.record.taken.push({ address: ip.address, pnn: from, ms: now });
      break;
    case "done":
      run.record.announced.push({ pnn: from, ms: now });
      break;
    case "gather":
      break;
  }
  if (run.waiting.size === 0) advance(state, run, fx);
}

function stageName(stage: Stage): string {
  switch (stage) {
    case "gather":
      return "to report its public addresses";
    case "start":
      return "startipreallocate";
    case "release":
      return "releaseip";
    case "take":
      return "takeip";
    case "done":
      return "ipreallocated";
  }
}

function checkDeadline(state: CoordinatorState, fx: CoordinatorEffect[]): void {
  const run = state.run;
  if (run === undefined || state.nowMs < run.deadlineMs) return;
  const late = [...run.waiting].sort((a, b) => a - b);
  for (const pnn of late) fx.push({ kind: "ban-credit", pnn, reason: `no answer to ${run.stage} in time` });
  finish(state, run, "failed", `timed out in stage ${run.stage} waiting for node(s) ${late.join(",")}`, fx);
}

function abort(state: CoordinatorState, fx: CoordinatorEffect[], why: string): void {
  const run = state.run;
  if (run === undefined) return;
  // The run's askers and moves carry over to the run that replaces it.
  trigger(state, `restart of run ${run.id}`);
  if (state.pending !== undefined) {
    state.pending.replyTo.push(...run.replyTo);
    run.replyTo = [];
    if (run.plan !== undefined) {
      state.moves.push(...run.plan.moves);
      run.plan.moves = [];
    }
  }
  finish(state, run, "aborted", why, fx);
}

function finish(state: CoordinatorState, run: Run, result: "ok" | "failed" | "aborted", error: string | undefined, fx: CoordinatorEffect[]): void {
  state.run = undefined;
  run.record.result = result;
  run.record.error = error;
  run.record.finishedMs = state.nowMs;
  state.history.push(run.record);
  if (state.history.length > state.config.historySize) state.history.splice(0, state.history.length - state.config.historySize);
  fx.push({ kind: "run-finished", record: run.record });
  if (result === "ok") {
    state.failures = 0;
    log(fx, "info", `Takeover run ${run.id} done`);
    for (const r of run.replyTo) fx.push({ kind: "reply", replyTo: r, result: state.config.pnn });
    for (const m of run.plan?.moves ?? []) send(fx, m.from, { k: "moved", token: m.token, ok: true });
    return;
  }
  if (result === "failed") {
    log(fx, "error", `Takeover run ${run.id} failed: ${error}`);
    for (const r of run.replyTo) fx.push({ kind: "reply", replyTo: r, result: -1 });
    for (const m of run.plan?.moves ?? []) send(fx, m.from, { k: "moved", token: m.token, ok: false });
    trigger(state, `retry of failed run ${run.id}`);
    state.failures++;
    // Backing off keeps a node whose scripts always fail from running events
    // back to back (each would cancel its monitor) until it is banned.
    state.notBeforeMs = state.nowMs + state.config.retryMs * 2 ** Math.min(state.failures - 1, 3);
    return;
  }
  log(fx, "notice", `Takeover run ${run.id} aborted: ${error}`);
}
