// What every cluster lock's take() does before starting an attempt.

import type { LockEvent, LockLog } from "./cluster-lock.ts";

export type LockPhase = "idle" | "taking" | "held";

/**
 * Answers a take() that needs no new attempt: a closed lock reports an error,
 * a held lock reports held again, and a take in progress will answer both
 * callers with its one outcome. Returns true when the caller should stop.
 */
export function answeredWithoutTaking(
  lock: { closed: boolean; phase: LockPhase; description: string },
  emitLater: (e: LockEvent) => void,
  log: LockLog,
): boolean {
  if (lock.closed) {
    emitLater({ kind: "error", reason: `${lock.description} is closed` });
    return true;
  }
  if (lock.phase === "held") {
    emitLater({ kind: "held" });
    return true;
  }
  if (lock.phase === "taking") {
    log("debug", `${lock.description}: take already in progress`);
    return true;
  }
  return false;
}
