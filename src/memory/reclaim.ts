// When the daemon gives back memory after a burst of client sessions.
//
// Each session on the client socket is a handful of short-lived objects
// (socket, reader, buffers). Under a burst of them V8 grows its young
// generation and promotes what was alive at a scavenge; that memory is freed
// only by a full collection, and a full collection shrinks the heap only when
// it sees a low allocation rate. An idle daemon allocates almost nothing, so no
// full collection ever runs and the grown heap stays resident (42k sessions:
// 56 MB → 92 MB, for good). Nothing is retained: a full collection brings the
// used heap back to where it was. So after a burst, once the socket has been
// quiet, the daemon collects twice: the first ends the burst's accounting, the
// second, a few seconds later, sees the quiet and returns the space.

export interface ReclaimConfig {
  /** Sessions since the last collection that make one worth doing. */
  minSessions: number;
  /** How long the client socket must have seen no new session. */
  quietMs: number;
  /** Delay between the first and the second collection. */
  settleMs: number;
}

export const DEFAULT_RECLAIM: ReclaimConfig = { minSessions: 500, quietMs: 2000, settleMs: 5000 };

export interface ReclaimState {
  sessions: number;
  lastSessionMs: number;
  /** When the second collection is due, if the first has run. */
  secondDueMs: number | undefined;
}

export type ReclaimInput = { kind: "session"; nowMs: number } | { kind: "tick"; nowMs: number };

export interface ReclaimStep {
  state: ReclaimState;
  collect: boolean;
}

export function initialReclaim(): ReclaimState {
  return { sessions: 0, lastSessionMs: 0, secondDueMs: undefined };
}

export function reclaimStep(config: ReclaimConfig, state: ReclaimState, input: ReclaimInput): ReclaimStep {
  if (input.kind === "session") {
    // A new burst: the pending second collection would see allocation again.
    return { state: { sessions: state.sessions + 1, lastSessionMs: input.nowMs, secondDueMs: undefined }, collect: false };
  }
  const quiet = input.nowMs - state.lastSessionMs >= config.quietMs;
  if (!quiet) return { state, collect: false };
  if (state.sessions >= config.minSessions) {
    return { state: { ...state, sessions: 0, secondDueMs: input.nowMs + config.settleMs }, collect: true };
  }
  if (state.secondDueMs !== undefined && input.nowMs >= state.secondDueMs) {
    return { state: { ...state, secondDueMs: undefined }, collect: true };
  }
  return { state, collect: false };
}
