// What a node does when the leader's recovery asks it for something: the
// pure decisions (may it, and what storage work follows), with the storage
// work itself left to the shell, which answers the leader with the result.
//
// A database is frozen for one generation at a time: pushing or thawing for
// another generation is refused, so a late request of a superseded recovery
// can not overwrite the work of a newer one. While frozen, clients may not
// change the database. When the node becomes inactive (stopped, banned) its
// volatile records are marked invalid: until a recovery has thawed the
// database again the node contributes no records to a pull, so whatever it
// kept from before can not outlive a deletion made meanwhile (CTDB bug 14294).

import { type DbInfo, dbKind, type RecordCopy, type RecoveryRequest } from "./recovery.ts";

export interface NodeDbState {
  /** Generation of the recovery holding the database frozen, if any. */
  frozen: number | undefined;
  /** Volatile records not to be offered to a recovery (the node was inactive). */
  invalid: boolean;
}

export interface RecoveryNodeState {
  dbs: Map<number, NodeDbState>;
}

/** Storage work the shell does before answering. */
export type RecoveryWork =
  | { kind: "dbmap" }
  | { kind: "attach"; db: DbInfo }
  /** Lock the whole database and open a transaction (cancelling one left by an earlier attempt). */
  | { kind: "freeze"; dbId: number; generation: number }
  | { kind: "pull"; dbId: number }
  /** Answer a pull with no records. */
  | { kind: "pull-none"; dbId: number }
  /** Wipe, then store every record, inside the open transaction. */
  | { kind: "push"; dbId: number; records: readonly RecordCopy[] }
  /** Commit the transaction and unlock. */
  | { kind: "thaw"; dbId: number };

export type RecoveryDecision = { ok: true; work: RecoveryWork } | { ok: false; error: string };

export function initialNodeState(): RecoveryNodeState {
  return { dbs: new Map() };
}

function dbState(state: RecoveryNodeState, dbId: number): NodeDbState {
  let s = state.dbs.get(dbId);
  if (s === undefined) {
    s = { frozen: undefined, invalid: false };
    state.dbs.set(dbId, s);
  }
  return s;
}

function hex(dbId: number): string {
  return `0x${dbId.toString(16).padStart(8, "0")}`;
}

/** Decide on one request of the leader; `lookup` finds an attached database. */
export function decideRecoveryRequest(
  state: RecoveryNodeState,
  req: RecoveryRequest,
  lookup: (dbId: number) => DbInfo | undefined,
): RecoveryDecision {
  if (req.op === "dbmap") return { ok: true, work: { kind: "dbmap" } };
  if (req.op === "attach") {
    if (lookup(req.db.dbId) === undefined) dbState(state, req.db.dbId);
    return { ok: true, work: { kind: "attach", db: req.db } };
  }
  const db = lookup(req.dbId);
  if (db === undefined) return { ok: false, error: `database ${hex(req.dbId)} is not attached` };
  const s = dbState(state, req.dbId);
  switch (req.op) {
    case "freeze":
      s.frozen = req.generation;
      return { ok: true, work: { kind: "freeze", dbId: req.dbId, generation: req.generation } };
    case "pull":
      if (s.frozen === undefined) return { ok: false, error: `database ${db.name} is not frozen` };
      if (s.invalid && dbKind(db.flags) === "volatile") return { ok: true, work: { kind: "pull-none", dbId: req.dbId } };
      return { ok: true, work: { kind: "pull", dbId: req.dbId } };
    case "push":
      if (s.frozen !== req.generation) return { ok: false, error: generationError(db, s, req.generation) };
      return { ok: true, work: { kind: "push", dbId: req.dbId, records: req.records } };
    case "thaw":
      if (s.frozen !== req.generation) return { ok: false, error: generationError(db, s, req.generation) };
      s.frozen = undefined;
      s.invalid = false;
      return { ok: true, work: { kind: "thaw", dbId: req.dbId } };
  }
}

function generationError(db: DbInfo, s: NodeDbState, generation: number): string {
  return s.frozen === undefined
    ? `database ${db.name} is not frozen`
    : `database ${db.name} is frozen for generation ${s.frozen}, not ${generation}`;
}

/** The node became inactive: its volatile records may be stale by the time it is back. */
export function invalidateVolatile(state: RecoveryNodeState, dbs: Iterable<DbInfo>): void {
  for (const db of dbs) if (dbKind(db.flags) === "volatile") dbState(state, db.dbId).invalid = true;
}

/** Whether clients may change the database now. */
export function writable(state: RecoveryNodeState, dbId: number): boolean {
  return state.dbs.get(dbId)?.frozen === undefined;
}
