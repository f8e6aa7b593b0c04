// One node's failover component: its participant, its coordinator (active
// while the node leads) and its banning core, joined so that what one decides
// reaches the others (an event timeout bans the node, a failed run credits
// the culprit, a ban on the leader's word reaches the banned node). Pure; the
// daemon's shell and the simulator both drive this same composition.

import { type BanConfig, type BanEffect, type BanState, banWakeAt, initialBans, stepBans } from "./banning.ts";
import {
  type CoordinatorConfig,
  type CoordinatorEffect,
  type CoordinatorInput,
  type CoordinatorState,
  coordinatorWakeAt,
  initialCoordinator,
  type RunRecord,
  stepCoordinator,
} from "./coordinator.ts";
import {
  initialParticipant,
  type ParticipantConfig,
  type ParticipantEffect,
  type ParticipantInput,
  type ParticipantState,
  participantWakeAt,
  stepParticipant,
} from "./participant.ts";
import type { FailoverMessage, NodeView, PublicAddress, ReplyTo } from "./types.ts";

export interface FailoverConfig {
  pnn: number;
  coordinator: Omit<CoordinatorConfig, "pnn">;
  participant: Omit<ParticipantConfig, "pnn">;
  bans: Omit<BanConfig, "pnn">;
}

/** The cluster core's view, as the failover component needs it. */
export interface ClusterFacts {
  nodes: readonly NodeView[];
  leader: number;
  leading: boolean;
  ownFlags: number;
  runstate: number;
  recoveryActive: boolean;
}

type ParticipantRequest = Extract<
  ParticipantInput,
  { kind: "configure" | "add-address" | "del-address" | "link" | "client-release" | "client-take" | "client-event" | "removed" | "lost-majority" }
>;
type NoTime<I> = I extends unknown ? Omit<I, "nowMs"> : never;

export type FailoverInput =
  | { kind: "tick"; nowMs: number }
  | ({ kind: "cluster"; nowMs: number } & ClusterFacts)
  | { kind: "message"; nowMs: number; from: number; msg: FailoverMessage }
  /** The leader (or an administrator through it) bans this node; 0 seconds unbans. */
  | { kind: "ban"; nowMs: number; seconds: number; reason: string }
  | { kind: "event-done"; nowMs: number; id: number; status: number }
  | { kind: "request"; nowMs: number; request: NoTime<ParticipantRequest> }
  | { kind: "trigger"; nowMs: number; reason: string; replyTo?: ReplyTo }
  | { kind: "disable-runs"; nowMs: number; untilMs: number }
  /** The lifecycle finished a recovery's events: a takeover run may start. */
  | { kind: "recovery-finished"; nowMs: number }
  | { kind: "holder-gone"; nowMs: number; pnn: number };

export type FailoverEffect =
  | Exclude<ParticipantEffect, { kind: "ban-self" | "log" }>
  | Exclude<CoordinatorEffect, { kind: "ban-credit" | "send" | "log" }>
  /** Tell node `to` to ban itself for `seconds`. */
  | { kind: "send-ban"; to: number; seconds: number }
  /** This node's BANNED flag, for the cluster core. */
  | { kind: "banned"; on: boolean }
  | { kind: "log"; level: "error" | "warning" | "notice" | "info"; message: string }
  | { kind: "wake-at"; atMs: number | undefined };

export interface FailoverState {
  config: FailoverConfig;
  nowMs: number;
  participant: ParticipantState;
  coordinator: CoordinatorState;
  bans: BanState;
  facts: ClusterFacts | undefined;
  /** For comparing: the last recovery mode and leading seen. */
  nodeCount: number;
}

export function initialFailover(config: FailoverConfig, addresses: readonly PublicAddress[], nowMs: number): FailoverState {
  return {
    config,
    nowMs,
    participant: initialParticipant({ pnn: config.pnn, ...config.participant }, addresses, nowMs),
    coordinator: initialCoordinator({ pnn: config.pnn, ...config.coordinator }, nowMs),
    bans: initialBans({ pnn: config.pnn, ...config.bans }, nowMs),
    facts: undefined,
    nodeCount: 1,
  };
}

export function stepFailover(state: FailoverState, input: FailoverInput): { state: FailoverState; effects: FailoverEffect[] } {
  const fx: FailoverEffect[] = [];
  const now = Math.max(state.nowMs, input.nowMs);
  state.nowMs = now;
  const toParticipant = (i: NoTime<ParticipantInput>) => participantFx(state, stepParticipant(state.participant, { ...i, nowMs: now } as ParticipantInput).effects, fx);
  const toCoordinator = (i: NoTime<CoordinatorInput>) => coordinatorFx(state, stepCoordinator(state.coordinator, { ...i, nowMs: now } as CoordinatorInput).effects, fx);
  switch (input.kind) {
    case "tick":
      toParticipant({ kind: "tick" });
      toCoordinator({ kind: "tick" });
      banFx(state, stepBans(state.bans, { kind: "tick", nowMs: now }).effects, fx);
      break;
    case "cluster": {
      const before = state.facts;
      state.facts = { nodes: input.nodes, leader: input.leader, leading: input.leading, ownFlags: input.ownFlags, runstate: input.runstate, recoveryActive: input.recoveryActive };
      state.nodeCount = Math.max(1, input.nodes.length);
      toParticipant({ kind: "self", flags: input.ownFlags, runstate: input.runstate });
      toParticipant({ kind: "leader", leader: input.leader });
      toCoordinator({ kind: "nodes", nodes: input.nodes });
      if (before?.recoveryActive !== input.recoveryActive && input.recoveryActive) toCoordinator({ kind: "recovery", active: true });
      toCoordinator({ kind: "leader", leading: input.leading });
      break;
    }
    case "message":
      if (isForCoordinator(input.msg)) toCoordinator({ kind: "message", from: input.from, msg: input.msg });
      else toParticipant({ kind: "message", from: input.from, msg: input.msg });
      break;
    case "ban":
      banFx(state, stepBans(state.bans, { kind: "ban", nowMs: now, seconds: input.seconds, reason: input.reason }).effects, fx);
      break;
    case "event-done":
      toParticipant({ kind: "event-done", id: input.id, status: input.status });
      break;
    case "request":
      toParticipant(input.request);
      break;
    case "trigger":
      toCoordinator({ kind: "trigger", reason: input.reason, ...(input.replyTo === undefined ? {} : { replyTo: input.replyTo }) });
      break;
    case "disable-runs":
      toCoordinator({ kind: "disable-runs", untilMs: input.untilMs });
      break;
    case "recovery-finished":
      toCoordinator({ kind: "recovery", active: false });
      break;
    case "holder-gone":
      toCoordinator({ kind: "holder-gone", pnn: input.pnn });
      break;
  }
  fx.push({ kind: "wake-at", atMs: failoverWakeAt(state) });
  return { state, effects: fx };
}

function isForCoordinator(msg: FailoverMessage): boolean {
  return msg.k === "ips" || msg.k === "ack" || msg.k === "run-request" || msg.k === "move";
}

export function failoverWakeAt(state: FailoverState): number | undefined {
  let at: number | undefined;
  for (const t of [participantWakeAt(state.participant), coordinatorWakeAt(state.coordinator), banWakeAt(state.bans)]) {
    if (t !== undefined && (at === undefined || t < at)) at = t;
  }
  return at;
}

function participantFx(state: FailoverState, effects: ParticipantEffect[], fx: FailoverEffect[]): void {
  for (const e of effects) {
    if (e.kind === "ban-self") {
      banFx(state, stepBans(state.bans, { kind: "ban-self", nowMs: state.nowMs, reason: e.reason }).effects, fx);
    } else {
      fx.push(e);
    }
  }
}

function coordinatorFx(state: FailoverState, effects: CoordinatorEffect[], fx: FailoverEffect[]): void {
  for (const e of effects) {
    if (e.kind === "ban-credit") {
      const nodeCount = state.nodeCount;
      banFx(state, stepBans(state.bans, { kind: "credit", nowMs: state.nowMs, pnn: e.pnn, reason: e.reason, nodeCount }).effects, fx);
    } else {
      fx.push(e);
    }
  }
}

function banFx(state: FailoverState, effects: BanEffect[], fx: FailoverEffect[]): void {
  for (const e of effects) {
    if (e.kind === "ban-node") {
      if (e.pnn === state.config.pnn) banFx(state, stepBans(state.bans, { kind: "ban", nowMs: state.nowMs, seconds: e.seconds, reason: "banned by the leader" }).effects, fx);
      else fx.push({ kind: "send-ban", to: e.pnn, seconds: e.seconds });
    } else {
      fx.push(e);
    }
  }
}

export type { RunRecord };
