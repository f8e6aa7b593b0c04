// The participant core: what one node does in takeover runs. It knows which
// public addresses this node may host, which it hosts and on which interface,
// and runs the address events one at a time, in the order they were asked
// for: the coordinator's stages (startipreallocate, releaseip, takeip or
// updateip, ipreallocated) and the client controls behind `ctdb moveip`,
// `addip`, `delip` and `reloadips`. Pure: the shell runs the events, sends the
// messages and carries out the address effects.
//
// Safety rules kept here:
// - a report (gather) waits for every event before it, so the coordinator
//   always learns what is really configured;
// - a node that has followed no leader for `leaderlessGraceMs` drops every
//   address at once (it may be cut off, and the majority will hand them out);
// - a banned node releases everything it hosts.

import { NodeFlag, Runstate, UNKNOWN_PNN } from "../protocol/constants.ts";
import {
  type AddressRef,
  type AddressReport,
  EAGAIN,
  ETIMEDOUT,
  type FailoverMessage,
  type PublicAddress,
  type Stage,
} from "./types.ts";

export interface ParticipantConfig {
  pnn: number;
  /** Keep addresses this long after losing the leader, waiting for a new one. */
  leaderlessGraceMs: number;
}

/** How many early messages of a would-be leader are kept (a run sends one per stage). */
const EARLY_KEPT = 8;

export type AddressEvent = "startipreallocate" | "releaseip" | "takeip" | "updateip" | "ipreallocated";

/** Local client messages CTDB sends on address changes (SRVIDs of the same names). */
export type ClientNotice = "release-ip" | "take-ip" | "start-ipreallocate" | "ipreallocated";

export type ParticipantInput =
  | { kind: "tick"; nowMs: number }
  | { kind: "leader"; nowMs: number; leader: number }
  | { kind: "self"; nowMs: number; flags: number; runstate: number }
  | { kind: "message"; nowMs: number; from: number; msg: FailoverMessage }
  | { kind: "event-done"; nowMs: number; id: number; status: number }
  /** The public_addresses file (again): addresses gone from it are released. */
  | { kind: "configure"; nowMs: number; addresses: readonly PublicAddress[]; token?: number }
  | { kind: "add-address"; nowMs: number; address: PublicAddress; token: number }
  | { kind: "del-address"; nowMs: number; address: string; token: number }
  | { kind: "link"; nowMs: number; iface: string; up: boolean; token: number }
  /** RELEASE_IP from a client (`ctdb moveip`): `pnn` is the new holder. */
  | { kind: "client-release"; nowMs: number; address: string; pnn: number; token: number }
  /** TAKEOVER_IP from a client. */
  | { kind: "client-take"; nowMs: number; address: string; token: number }
  | { kind: "client-event"; nowMs: number; event: "startipreallocate" | "ipreallocated"; token: number }
  /** Addresses removed behind the daemon's back (its watchdog, while it was stopped or stuck). */
  | { kind: "removed"; nowMs: number; addresses: readonly string[] }
  /** The cluster core found this node's part of the cluster without a majority: drop every address now. */
  | { kind: "lost-majority"; nowMs: number };

export type ParticipantEffect =
  | { kind: "send"; to: number; msg: FailoverMessage }
  | { kind: "run-event"; id: number; event: AddressEvent; args: string[] }
  /** An address is now configured here (takeip/updateip succeeded). */
  | { kind: "taken"; address: string; iface: string; previousIface: string | null }
  /** An address was released here: connections to it should be killed. */
  | { kind: "released"; address: string; iface: string }
  /** A run ended: tell the network about every address this node hosts (ARP/NA, tickle ACKs). */
  | { kind: "announce"; addresses: { address: string; iface: string }[] }
  /** Remove these addresses now, without scripts: this node lost its leader. */
  | { kind: "drop-addresses"; addresses: { address: string; iface: string; prefix: number }[] }
  | { kind: "client-notice"; notice: ClientNotice; address?: string }
  | { kind: "client-reply"; token: number; status: number; errmsg: string }
  | { kind: "ban-self"; reason: string }
  | { kind: "log"; level: "error" | "warning" | "notice" | "info"; message: string };

interface Hosted {
  iface: string;
}

type JobOrigin =
  | { kind: "leader"; leader: number; run: number; stage: Stage }
  | { kind: "client"; token: number }
  | { kind: "self" };

type JobWork =
  | { type: "gather" }
  | { type: "start" }
  | { type: "release"; ips: AddressRef[]; assignment: [string, number][] }
  | { type: "take"; ips: AddressRef[]; grace: boolean }
  | { type: "done"; assignment: [string, number][] }
  | { type: "event"; event: "startipreallocate" | "ipreallocated" }
  | { type: "forget"; address: string };

interface Job {
  origin: JobOrigin;
  work: JobWork;
  /** Events still to run, computed when the job starts. */
  steps: Step[] | undefined;
  status: number;
}

interface Step {
  event: AddressEvent;
  args: string[];
  apply?: (state: ParticipantState, ok: boolean, fx: ParticipantEffect[]) => void;
}

export interface ParticipantState {
  config: ParticipantConfig;
  nowMs: number;
  addresses: Map<string, PublicAddress>;
  /** Addresses being deleted: still hosted until released. */
  deleting: Set<string>;
  hosted: Map<string, Hosted>;
  links: Map<string, boolean>;
  /** Cluster-wide holder of each address as last told by the coordinator. */
  assignment: Map<string, number>;
  leader: number;
  leaderLostMs: number;
  flags: number;
  runstate: number;
  queue: Job[];
  current: Job | undefined;
  running: { id: number; step: Step } | undefined;
  nextEventId: number;
  /** Latest run seen per leader: older queued work of that leader is dropped. */
  latestRun: { leader: number; run: number };
  /** moveip requests waiting for the coordinator, by client token. */
  moves: Set<number>;
  /** Run work from a node not (yet) known as leader, kept in case it turns out to lead. */
  early: { from: number; msg: FailoverMessage }[];
}

export function initialParticipant(config: ParticipantConfig, addresses: readonly PublicAddress[], nowMs: number): ParticipantState {
  const state: ParticipantState = {
    config,
    nowMs,
    addresses: new Map(),
    deleting: new Set(),
    hosted: new Map(),
    links: new Map(),
    assignment: new Map(),
    leader: UNKNOWN_PNN,
    leaderLostMs: nowMs,
    flags: 0,
    runstate: Runstate.INIT,
    queue: [],
    current: undefined,
    running: undefined,
    nextEventId: 1,
    latestRun: { leader: UNKNOWN_PNN, run: 0 },
    moves: new Set(),
    early: [],
  };
  for (const a of addresses) addAddress(state, a);
  return state;
}

function addAddress(state: ParticipantState, a: PublicAddress): void {
  state.addresses.set(a.address, { ...a, interfaces: [...a.interfaces] });
  // CTDB starts every interface as up; 10.interface's monitor corrects it.
  for (const i of a.interfaces) if (!state.links.has(i)) state.links.set(i, true);
}

export function stepParticipant(
  state: ParticipantState,
  input: ParticipantInput,
): { state: ParticipantState; effects: ParticipantEffect[] } {
  const fx: ParticipantEffect[] = [];
  state.nowMs = Math.max(state.nowMs, input.nowMs);
  switch (input.kind) {
    case "tick":
      break;
    case "leader":
      onLeader(state, input.leader, fx);
      break;
    case "lost-majority":
      // The majority takes these addresses once its lease on them runs out;
      // giving them up now, not after the leaderless grace, keeps that margin.
      onLeader(state, UNKNOWN_PNN, fx);
      dropHosted(state, fx, "This node's part of the cluster lost its majority");
      break;
    case "self":
      onSelf(state, input.flags, input.runstate, fx);
      break;
    case "message":
      onMessage(state, input.from, input.msg, fx);
      break;
    case "event-done":
      onEventDone(state, input.id, input.status, fx);
      break;
    case "configure":
      onConfigure(state, input.addresses, input.token, fx);
      break;
    case "add-address":
      if (state.addresses.has(input.address.address) && !state.deleting.has(input.address.address)) {
        reply(fx, input.token, 0);
      } else {
        state.deleting.delete(input.address.address);
        addAddress(state, input.address);
        reply(fx, input.token, 0);
        requestRun(state, fx, `address ${input.address.address} added`);
      }
      break;
    case "del-address":
      onDelete(state, input.address, { kind: "client", token: input.token }, fx);
      break;
    case "link":
      onLink(state, input.iface, input.up, input.token, fx);
      break;
    case "client-release":
      onClientRelease(state, input.address, input.pnn, input.token, fx);
      break;
    case "client-take":
      if (!state.addresses.has(input.address)) reply(fx, input.token, -1, `Node does not know about IP ${input.address}`);
      else enqueue(state, { origin: { kind: "client", token: input.token }, work: { type: "take", ips: [ref(state, input.address)], grace: true }, steps: undefined, status: 0 });
      break;
    case "removed": {
      const gone = input.addresses.filter((a) => state.hosted.delete(a));
      if (gone.length > 0) {
        fx.push({ kind: "log", level: "warning", message: `Addresses removed without a release: ${gone.join(" ")}` });
        requestRun(state, fx, "addresses removed by the watchdog");
      }
      break;
    }
    case "client-event":
      enqueue(state, { origin: { kind: "client", token: input.token }, work: { type: "event", event: input.event }, steps: undefined, status: 0 });
      break;
  }
  checkLeaderless(state, fx);
  pump(state, fx);
  return { state, effects: fx };
}

/**
 * Until when this node may keep its addresses if it stops now (its watchdog's
 * deadline when the daemon stops beating): the leaderless grace from now
 * while it follows a leader, else from when it lost the leader.
 */
export function keepAddressesUntil(state: ParticipantState): number {
  const from = state.leader === UNKNOWN_PNN ? state.leaderLostMs : state.nowMs;
  return from + state.config.leaderlessGraceMs;
}

/** When the shell should step the participant again with a tick (undefined: only on input). */
export function participantWakeAt(state: ParticipantState): number | undefined {
  if (state.leader !== UNKNOWN_PNN || state.hosted.size === 0) return undefined;
  return state.leaderLostMs + state.config.leaderlessGraceMs;
}

function reply(fx: ParticipantEffect[], token: number, status: number, errmsg = ""): void {
  fx.push({ kind: "client-reply", token, status, errmsg });
}

function ref(state: ParticipantState, address: string): AddressRef {
  return { address, prefix: state.addresses.get(address)?.prefix ?? 0 };
}

function requestRun(state: ParticipantState, fx: ParticipantEffect[], reason: string): void {
  if (state.leader !== UNKNOWN_PNN) fx.push({ kind: "send", to: state.leader, msg: { k: "run-request", reason } });
}

function onLeader(state: ParticipantState, leader: number, fx: ParticipantEffect[]): void {
  if (leader === state.leader) return;
  if (leader === UNKNOWN_PNN) state.leaderLostMs = state.nowMs;
  state.leader = leader;
  // A leader seen anew may be a restarted process numbering its runs afresh.
  state.latestRun = { leader: UNKNOWN_PNN, run: 0 };
  // Work queued by a leader that is gone would act on a plan nobody drives any more.
  state.queue = state.queue.filter((j) => j.origin.kind !== "leader" || j.origin.leader === leader);
  for (const token of state.moves) reply(fx, token, -1, "Leader changed during the move");
  state.moves.clear();
  const early = state.early.filter((e) => e.from === leader);
  state.early = [];
  for (const e of early) onMessage(state, e.from, e.msg, fx);
}

function onSelf(state: ParticipantState, flags: number, runstate: number, fx: ParticipantEffect[]): void {
  const wasBanned = (state.flags & NodeFlag.BANNED) !== 0;
  state.flags = flags;
  state.runstate = runstate;
  if (!wasBanned && (flags & NodeFlag.BANNED) !== 0 && state.hosted.size > 0) {
    fx.push({ kind: "log", level: "notice", message: "Banned: releasing all public addresses" });
    enqueue(state, {
      origin: { kind: "self" },
      work: { type: "release", ips: [...state.hosted.keys()].map((a) => ref(state, a)), assignment: [] },
      steps: undefined,
      status: 0,
    });
  }
}

function checkLeaderless(state: ParticipantState, fx: ParticipantEffect[]): void {
  if (state.leader !== UNKNOWN_PNN) return;
  if (state.nowMs < state.leaderLostMs + state.config.leaderlessGraceMs) return;
  dropHosted(state, fx, `No leader for ${state.config.leaderlessGraceMs} ms`);
}

function dropHosted(state: ParticipantState, fx: ParticipantEffect[], why: string): void {
  if (state.hosted.size === 0) return;
  const addresses = [...state.hosted].map(([address, h]) => ({ address, iface: h.iface, prefix: ref(state, address).prefix }));
  state.hosted.clear();
  for (const a of addresses) state.assignment.set(a.address, -1);
  fx.push({ kind: "log", level: "error", message: `${why}: dropping ${addresses.length} public address(es)` });
  fx.push({ kind: "drop-addresses", addresses });
  for (const a of addresses) fx.push({ kind: "released", address: a.address, iface: a.iface });
}

function onMessage(state: ParticipantState, from: number, msg: FailoverMessage, fx: ParticipantEffect[]): void {
  if (msg.k === "moved") {
    if (from !== state.leader || !state.moves.delete(msg.token)) return;
    reply(fx, msg.token, msg.ok ? 0 : -1, msg.ok ? "" : "Leader could not move the address");
    return;
  }
  if (msg.k !== "gather" && msg.k !== "start" && msg.k !== "release" && msg.k !== "take" && msg.k !== "done") return;
  // Only the leader this node follows drives its addresses. A new leader's
  // first message can overtake the news that it leads: keep it until then.
  if (from !== state.leader) {
    state.early = [...state.early.filter((e) => e.from === from), { from, msg }].slice(-EARLY_KEPT);
    return;
  }
  if (state.latestRun.leader !== from || msg.run > state.latestRun.run) {
    // A newer run replaces what is still queued of older ones; a report for it
    // is then taken after the event already running, so it is exact.
    state.queue = state.queue.filter((j) => j.origin.kind !== "leader" || j.origin.run >= msg.run);
    state.latestRun = { leader: from, run: msg.run };
  } else if (msg.run < state.latestRun.run) {
    return;
  }
  const stage: Stage = msg.k;
  const origin: JobOrigin = { kind: "leader", leader: from, run: msg.run, stage };
  let work: JobWork;
  switch (msg.k) {
    case "gather":
      work = { type: "gather" };
      break;
    case "start":
      work = { type: "start" };
      break;
    case "release":
      work = { type: "release", ips: msg.ips, assignment: msg.assignment };
      break;
    case "take":
      work = { type: "take", ips: msg.ips, grace: msg.grace };
      break;
    case "done":
      work = { type: "done", assignment: msg.assignment };
      break;
  }
  enqueue(state, { origin, work, steps: undefined, status: 0 });
}

function onConfigure(state: ParticipantState, addresses: readonly PublicAddress[], token: number | undefined, fx: ParticipantEffect[]): void {
  const wanted = new Map(addresses.map((a) => [a.address, a]));
  let changed = false;
  for (const address of [...state.addresses.keys()]) {
    if (wanted.has(address) || state.deleting.has(address)) continue;
    onDelete(state, address, { kind: "self" }, fx);
    changed = true;
  }
  for (const a of addresses) {
    const old = state.addresses.get(a.address);
    if (old !== undefined && old.prefix === a.prefix && old.interfaces.join(",") === a.interfaces.join(",")) continue;
    state.deleting.delete(a.address);
    addAddress(state, a);
    changed = true;
  }
  if (token !== undefined) reply(fx, token, 0);
  if (changed) requestRun(state, fx, "public addresses reloaded");
}

function onDelete(state: ParticipantState, address: string, origin: JobOrigin, fx: ParticipantEffect[]): void {
  if (!state.addresses.has(address)) {
    if (origin.kind === "client") reply(fx, origin.token, -1, `Node does not know about IP ${address}`);
    return;
  }
  state.deleting.add(address);
  enqueue(state, { origin, work: { type: "forget", address }, steps: undefined, status: 0 });
}

function onLink(state: ParticipantState, iface: string, up: boolean, token: number, fx: ParticipantEffect[]): void {
  if (!state.links.has(iface)) {
    reply(fx, token, -1, `Interface ${iface} not configured`);
    return;
  }
  const was = state.links.get(iface);
  state.links.set(iface, up);
  reply(fx, token, 0);
  if (was !== up) {
    fx.push({ kind: "log", level: "notice", message: `Interface ${iface} link ${up ? "up" : "down"}` });
    requestRun(state, fx, `interface ${iface} went ${up ? "up" : "down"}`);
  }
}

function onClientRelease(state: ParticipantState, address: string, pnn: number, token: number, fx: ParticipantEffect[]): void {
  if (!state.addresses.has(address)) {
    // CTDB answers success for an address it does not know: nothing to release.
    reply(fx, token, 0);
    return;
  }
  if (!state.hosted.has(address)) {
    state.assignment.set(address, pnn);
    reply(fx, token, 0);
    return;
  }
  if (pnn !== state.config.pnn && pnn !== UNKNOWN_PNN && state.leader !== UNKNOWN_PNN) {
    // `moveip`: the leader moves it in a full run, so every node is in grace
    // (startipreallocate) before the address leaves this one.
    state.moves.add(token);
    fx.push({ kind: "send", to: state.leader, msg: { k: "move", token, address, to: pnn } });
    return;
  }
  enqueue(state, {
    origin: { kind: "client", token },
    work: { type: "release", ips: [ref(state, address)], assignment: [[address, pnn]] },
    steps: undefined,
    status: 0,
  });
}

function enqueue(state: ParticipantState, job: Job): void {
  state.queue.push(job);
}

/** This node may host `address` now (CTDB's ctdb_vnn_available). */
export function addressAvailable(state: ParticipantState, address: string): boolean {
  const a = state.addresses.get(address);
  if (a === undefined || state.deleting.has(address)) return false;
  if (state.runstate !== Runstate.RUNNING) return false;
  if ((state.flags & (NodeFlag.INACTIVE | NodeFlag.DISABLED)) !== 0) return false;
  return a.interfaces.some((i) => state.links.get(i) === true);
}

/** The interface to put `address` on: the current one while it is up, else the up one with fewest addresses. */
function chooseIface(state: ParticipantState, address: string): string | undefined {
  const a = state.addresses.get(address);
  if (a === undefined) return undefined;
  const current = state.hosted.get(address)?.iface;
  if (current !== undefined && state.links.get(current) === true) return current;
  let best: string | undefined;
  let bestRefs = Infinity;
  for (const i of a.interfaces) {
    if (state.links.get(i) !== true) continue;
    const refs = references(state, i);
    if (refs < bestRefs) {
      best = i;
      bestRefs = refs;
    }
  }
  return best;
}

export function references(state: ParticipantState, iface: string): number {
  let n = 0;
  for (const h of state.hosted.values()) if (h.iface === iface) n++;
  return n;
}

function report(state: ParticipantState): AddressReport[] {
  return [...state.addresses.values()].map((a) => ({
    address: a.address,
    prefix: a.prefix,
    interfaces: [...a.interfaces],
    available: addressAvailable(state, a.address),
    hostedOn: state.hosted.get(a.address)?.iface ?? null,
  }));
}

function releaseStep(address: string, iface: string, prefix: number): Step {
  return {
    event: "releaseip",
    args: [iface, address, String(prefix)],
    apply: (s, ok, fx) => {
      // A failed releaseip may have left the address up: keep it as hosted so
      // the coordinator never hands it to another node.
      if (!ok) return;
      s.hosted.delete(address);
      fx.push({ kind: "released", address, iface });
      fx.push({ kind: "client-notice", notice: "release-ip", address });
    },
  };
}

function takeStep(address: string, iface: string, previous: string | undefined, prefix: number): Step {
  const event: AddressEvent = previous === undefined ? "takeip" : "updateip";
  const args = previous === undefined ? [iface, address, String(prefix)] : [previous, iface, address, String(prefix)];
  return {
    event,
    args,
    apply: (s, ok, fx) => {
      // Even a failed takeip may have configured the address: count it as
      // hosted, and release it again before the job ends, so it is neither
      // left half-configured nor believed to be here when it is not.
      s.hosted.set(address, { iface });
      if (!ok) {
        s.current?.steps?.unshift(releaseStep(address, iface, prefix));
        return;
      }
      s.assignment.set(address, s.config.pnn);
      fx.push({ kind: "taken", address, iface, previousIface: previous ?? null });
      fx.push({ kind: "client-notice", notice: "take-ip", address });
    },
  };
}

/** An event after which local clients get the message of the same name (CTDB 4.20+). */
function noticeStep(event: "startipreallocate" | "ipreallocated"): Step {
  const notice: ClientNotice = event === "startipreallocate" ? "start-ipreallocate" : "ipreallocated";
  return {
    event,
    args: [],
    apply: (_s, ok, fx) => {
      if (ok) fx.push({ kind: "client-notice", notice });
    },
  };
}

function planSteps(state: ParticipantState, job: Job, fx: ParticipantEffect[]): Step[] {
  const w = job.work;
  switch (w.type) {
    case "gather":
      return [];
    case "start":
    case "event": {
      const event = w.type === "start" ? "startipreallocate" : w.event;
      // A node that is not running, or is banned or stopped and hosts nothing,
      // has no clients to protect: it acknowledges without running scripts.
      const idle = (state.flags & NodeFlag.INACTIVE) !== 0 && state.hosted.size === 0;
      if (event === "startipreallocate" && (state.runstate < Runstate.RUNNING || idle)) return [];
      return [noticeStep(event)];
    }
    case "release": {
      for (const [a, p] of w.assignment) if (state.addresses.has(a)) state.assignment.set(a, p);
      const steps: Step[] = [];
      for (const ip of w.ips) {
        const h = state.hosted.get(ip.address);
        if (h !== undefined) steps.push(releaseStep(ip.address, h.iface, ip.prefix));
      }
      return steps;
    }
    case "take": {
      const steps: Step[] = [];
      for (const ip of w.ips) {
        if (!state.addresses.has(ip.address) || state.deleting.has(ip.address)) {
          job.status = -1;
          fx.push({ kind: "log", level: "error", message: `Asked to take ${ip.address}, which this node cannot host` });
          continue;
        }
        const iface = chooseIface(state, ip.address);
        if (iface === undefined) {
          job.status = -1;
          fx.push({ kind: "log", level: "error", message: `No interface up for ${ip.address}` });
          continue;
        }
        const current = state.hosted.get(ip.address)?.iface;
        if (current === iface) continue;
        if (current === undefined && !w.grace) {
          // The leader believed this node holds it, so nobody is in grace for it.
          job.status = -EAGAIN;
          fx.push({ kind: "log", level: "warning", message: `Not taking ${ip.address} without grace: it is no longer here` });
          continue;
        }
        steps.push(takeStep(ip.address, iface, current, ip.prefix));
      }
      return steps;
    }
    case "done": {
      for (const [a, p] of w.assignment) if (state.addresses.has(a)) state.assignment.set(a, p);
      for (const a of state.hosted.keys()) state.assignment.set(a, state.config.pnn);
      // Also the addresses this node already had: a client that lost its ARP
      // entry while the address seemed gone must learn it again.
      if (state.hosted.size > 0) {
        fx.push({ kind: "announce", addresses: [...state.hosted].map(([address, h]) => ({ address, iface: h.iface })) });
      }
      return [noticeStep("ipreallocated")];
    }
    case "forget": {
      const h = state.hosted.get(w.address);
      const prefix = ref(state, w.address).prefix;
      const forget: Step = {
        event: "releaseip",
        args: [],
        apply: (s, ok) => {
          if (!ok) return;
          if (!s.deleting.delete(w.address)) return;
          s.addresses.delete(w.address);
          s.assignment.delete(w.address);
        },
      };
      if (h === undefined) {
        // Nothing to release: forget it at once.
        forget.apply?.(state, true, fx);
        return [];
      }
      const release = releaseStep(w.address, h.iface, prefix);
      return [{ ...release, apply: (s, ok, f) => { release.apply?.(s, ok, f); forget.apply?.(s, ok, f); } }];
    }
  }
}

function pump(state: ParticipantState, fx: ParticipantEffect[]): void {
  for (;;) {
    if (state.running !== undefined) return;
    if (state.current === undefined) {
      const next = state.queue.shift();
      if (next === undefined) return;
      state.current = next;
      next.steps = planSteps(state, next, fx);
    }
    const job = state.current;
    const step = job.steps?.shift();
    if (step !== undefined) {
      const id = state.nextEventId++;
      state.running = { id, step };
      fx.push({ kind: "run-event", id, event: step.event, args: step.args });
      return;
    }
    finish(state, job, fx);
    state.current = undefined;
  }
}

function onEventDone(state: ParticipantState, id: number, status: number, fx: ParticipantEffect[]): void {
  const running = state.running;
  if (running === undefined || running.id !== id) return;
  state.running = undefined;
  const ok = status === 0;
  running.step.apply?.(state, ok, fx);
  if (!ok) {
    if (state.current !== undefined && state.current.status === 0) state.current.status = status;
    fx.push({ kind: "log", level: "error", message: `${[running.step.event, ...running.step.args].join(" ")} failed (${status})` });
    // CTDB: a node whose event script times out bans itself.
    if (status === ETIMEDOUT) fx.push({ kind: "ban-self", reason: `${running.step.event} event timed out` });
  }
}

function finish(state: ParticipantState, job: Job, fx: ParticipantEffect[]): void {
  const o = job.origin;
  if (o.kind === "client") {
    const failed = job.status !== 0;
    reply(fx, o.token, failed ? -1 : 0, failed ? `${job.work.type} failed (${job.status})` : "");
    if (job.work.type === "forget" && !failed) requestRun(state, fx, "address deleted");
    return;
  }
  if (o.kind === "self") {
    if (job.work.type === "forget") requestRun(state, fx, "address deleted");
    return;
  }
  if (job.work.type === "gather") {
    fx.push({ kind: "send", to: o.leader, msg: { k: "ips", run: o.run, ips: report(state) } });
    return;
  }
  fx.push({ kind: "send", to: o.leader, msg: { k: "ack", run: o.run, stage: o.stage, status: job.status } });
}

// ---- what the client controls read ----

/** GET_PUBLIC_IPS: every address this node knows, with the holder it believes in. */
export function publicIps(state: ParticipantState, availableOnly: boolean): { address: string; pnn: number }[] {
  const out: { address: string; pnn: number }[] = [];
  for (const a of state.addresses.keys()) {
    if (availableOnly && !addressAvailable(state, a)) continue;
    const pnn = state.hosted.has(a) ? state.config.pnn : (state.assignment.get(a) ?? -1);
    out.push({ address: a, pnn });
  }
  return out;
}

export interface IfaceInfo {
  name: string;
  linkUp: boolean;
  references: number;
}

/** GET_IFACES: every interface named by this node's addresses. */
export function ifaces(state: ParticipantState): IfaceInfo[] {
  return [...state.links].map(([name, up]) => ({ name, linkUp: up, references: references(state, name) }));
}

/** GET_PUBLIC_IP_INFO, or undefined for an address this node does not know. */
export function ipInfo(
  state: ParticipantState,
  address: string,
): { address: string; pnn: number; activeIdx: number; ifaces: IfaceInfo[] } | undefined {
  const a = state.addresses.get(address);
  if (a === undefined) return undefined;
  const hosted = state.hosted.get(address);
  const list = a.interfaces.map((name) => ({ name, linkUp: state.links.get(name) === true, references: references(state, name) }));
  const idx = hosted === undefined ? -1 : a.interfaces.indexOf(hosted.iface);
  const pnn = hosted !== undefined ? state.config.pnn : (state.assignment.get(address) ?? -1);
  return { address, pnn, activeIdx: idx, ifaces: list };
}
