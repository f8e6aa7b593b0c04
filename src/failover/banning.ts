// The banning core, as CTDB bans: a node's own ban (from `ctdb ban`, from the
// leader, or from itself after an event timed out) sets its BANNED flag until
// the ban time runs out; on the leader, nodes that keep failing their part of
// a takeover run collect ban credits, and one with 2 × (number of nodes)
// credits is banned for RecoveryBanPeriod. Credits are forgiven after
// RecoveryGracePeriod without a new one. Pure.

export interface BanConfig {
  pnn: number;
  /** EnableBans: 0 stops automatic bans (an administrator's ban still works). */
  enableBans: boolean;
  /** RecoveryBanPeriod, in seconds. */
  banPeriodSec: number;
  /** RecoveryGracePeriod, in milliseconds. */
  graceMs: number;
}

export type BanInput =
  | { kind: "tick"; nowMs: number }
  /** Ban this node for `seconds` (0 lifts the ban): SET_BAN_STATE for this node. */
  | { kind: "ban"; nowMs: number; seconds: number; reason: string }
  /** An event timed out here: CTDB bans itself. */
  | { kind: "ban-self"; nowMs: number; reason: string }
  /** On the leader: `pnn` failed its part of a run. */
  | { kind: "credit"; nowMs: number; pnn: number; reason: string; nodeCount: number };

export type BanEffect =
  /** This node's BANNED flag turns on or off. */
  | { kind: "banned"; on: boolean }
  /** On the leader: ban another node (or this one) for `seconds`. */
  | { kind: "ban-node"; pnn: number; seconds: number }
  | { kind: "log"; level: "error" | "notice"; message: string };

export interface BanState {
  config: BanConfig;
  nowMs: number;
  own: { untilMs: number; seconds: number } | undefined;
  credits: Map<number, { count: number; lastMs: number }>;
}

export function initialBans(config: BanConfig, nowMs: number): BanState {
  return { config, nowMs, own: undefined, credits: new Map() };
}

export function stepBans(state: BanState, input: BanInput): { state: BanState; effects: BanEffect[] } {
  const fx: BanEffect[] = [];
  state.nowMs = Math.max(state.nowMs, input.nowMs);
  switch (input.kind) {
    case "tick":
      break;
    case "ban":
      setOwnBan(state, input.seconds, input.reason, fx);
      break;
    case "ban-self":
      fx.push({ kind: "log", level: "error", message: `Banning this node for ${state.config.banPeriodSec} seconds: ${input.reason}` });
      setOwnBan(state, state.config.banPeriodSec, input.reason, fx);
      break;
    case "credit":
      onCredit(state, input.pnn, input.reason, input.nodeCount, fx);
      break;
  }
  if (state.own !== undefined && state.nowMs >= state.own.untilMs) {
    state.own = undefined;
    fx.push({ kind: "log", level: "notice", message: "Ban timed out: this node is no longer banned" });
    fx.push({ kind: "banned", on: false });
  }
  for (const [pnn, c] of state.credits) if (state.nowMs - c.lastMs >= state.config.graceMs) state.credits.delete(pnn);
  return { state, effects: fx };
}

function setOwnBan(state: BanState, seconds: number, reason: string, fx: BanEffect[]): void {
  const was = state.own !== undefined;
  if (seconds === 0) {
    if (!was) return;
    state.own = undefined;
    fx.push({ kind: "log", level: "notice", message: `Unbanned (${reason})` });
    fx.push({ kind: "banned", on: false });
    return;
  }
  state.own = { untilMs: state.nowMs + seconds * 1000, seconds };
  fx.push({ kind: "log", level: "notice", message: `Banned for ${seconds} seconds (${reason})` });
  if (!was) fx.push({ kind: "banned", on: true });
}

function onCredit(state: BanState, pnn: number, reason: string, nodeCount: number, fx: BanEffect[]): void {
  const c = state.credits.get(pnn) ?? { count: 0, lastMs: state.nowMs };
  c.count++;
  c.lastMs = state.nowMs;
  state.credits.set(pnn, c);
  if (!state.config.enableBans || c.count < 2 * Math.max(1, nodeCount)) return;
  state.credits.delete(pnn);
  fx.push({
    kind: "log",
    level: "error",
    message: `Node ${pnn} failed ${c.count} times (last: ${reason}): banning it for ${state.config.banPeriodSec} seconds`,
  });
  fx.push({ kind: "ban-node", pnn, seconds: state.config.banPeriodSec });
}

/** When the shell should tick next (undefined: only on input). */
export function banWakeAt(state: BanState): number | undefined {
  let at = state.own?.untilMs;
  for (const c of state.credits.values()) {
    const t = c.lastMs + state.config.graceMs;
    if (at === undefined || t < at) at = t;
  }
  return at;
}

/** GET_BAN_STATE: the ban time this node was given (0 when not banned). */
export function banTime(state: BanState): number {
  return state.own?.seconds ?? 0;
}
