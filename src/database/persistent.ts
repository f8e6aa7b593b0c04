// Cluster-wide commit of a persistent (or replicated) transaction, TRANS3_COMMIT
// as CTDB has it: the node a client commits on sends the transaction's records
// to every active node of the vnnmap, itself included, each of which stores
// them in one local TDB transaction; the client is answered once all have.
//
// All or none: a transaction carries the database's sequence number record
// bumped by one, so if a node fails to store it the commit does not answer
// yet but asks for a recovery, and the recovery takes every persistent
// database whole from the node with the highest sequence number — with the
// transaction if any node stored it, without it if none did. Only after that
// recovery is the client told (status 2, "ended by recovery") and it re-reads
// the sequence number to learn which way it went, as CTDB's client does.
//
// Unlike CTDB, the coordinating node stores the transaction itself only after
// every other node has: a node cut off from the rest then never holds a
// transaction nobody else has, which a later recovery could otherwise pick
// over transactions the rest of the cluster committed meanwhile.

import { DB_SEQNUM_KEY } from "../protocol/constants.ts";
import type { RecordCopy } from "./recovery.ts";

/** TRANS3_COMMIT reply statuses, as CTDB answers them. */
export const CommitStatus = { OK: 0, TIMEOUT: 1, ENDED_BY_RECOVERY: 2, REFUSED: -1 } as const;

export interface PendingCommit {
  dbId: number;
  /** This node: it stores the transaction only after every other node has. */
  self: number;
  records: readonly RecordCopy[];
  waiting: Set<number>;
  failed: boolean;
  deadlineMs: number;
}

export interface CommitState {
  pending: Map<number, PendingCommit>;
  /**
   * A node was lost since the last recovery: a commit it coordinated may have
   * reached some nodes and not others, and only a recovery settles which
   * way. Until then no new commit may build on either outcome.
   */
  lostSinceRecovery: boolean;
}

export type CommitInput =
  | {
      kind: "commit";
      nowMs: number;
      commitId: number;
      dbId: number;
      records: readonly RecordCopy[];
      /** Recovery mode of this node: commits are refused while a recovery is on. */
      recovering: boolean;
      /** This node's PNN. */
      self: number;
      /** Active nodes of the vnnmap, this node among them. */
      nodes: readonly number[];
      timeoutMs: number;
    }
  | { kind: "stored"; nowMs: number; commitId: number; from: number; ok: boolean; error?: string }
  | { kind: "node-lost"; nowMs: number; pnn: number }
  | { kind: "tick"; nowMs: number }
  /** A recovery finished on this node: commits it interrupted are answered. */
  | { kind: "recovered"; nowMs: number };

export type CommitEffect =
  | { kind: "store"; to: number; commitId: number; dbId: number; records: readonly RecordCopy[] }
  | { kind: "reply"; commitId: number; status: number; error?: string }
  | { kind: "force-recovery"; reason: string }
  | { kind: "wake-at"; atMs: number };

export function initialCommitState(): CommitState {
  return { pending: new Map(), lostSinceRecovery: false };
}

export function stepCommit(state: CommitState, input: CommitInput): CommitEffect[] {
  const fx: CommitEffect[] = [];
  switch (input.kind) {
    case "commit": {
      if (input.recovering || state.lostSinceRecovery) {
        const error = input.recovering ? "recovery in progress" : "a node was lost: waiting for recovery";
        fx.push({ kind: "reply", commitId: input.commitId, status: CommitStatus.REFUSED, error });
        return fx;
      }
      for (const p of state.pending.values()) {
        if (p.dbId === input.dbId) {
          fx.push({ kind: "reply", commitId: input.commitId, status: CommitStatus.REFUSED, error: "a commit is already in progress on this database" });
          return fx;
        }
      }
      if (input.nodes.length === 0) {
        fx.push({ kind: "reply", commitId: input.commitId, status: CommitStatus.REFUSED, error: "no active nodes" });
        return fx;
      }
      const p: PendingCommit = {
        dbId: input.dbId,
        self: input.self,
        records: input.records,
        waiting: new Set(input.nodes),
        failed: false,
        deadlineMs: input.nowMs + input.timeoutMs,
      };
      state.pending.set(input.commitId, p);
      const others = [...p.waiting].filter((pnn) => pnn !== input.self);
      if (others.length === 0) fx.push({ kind: "store", to: input.self, commitId: input.commitId, dbId: input.dbId, records: input.records });
      for (const to of others) fx.push({ kind: "store", to, commitId: input.commitId, dbId: input.dbId, records: input.records });
      fx.push({ kind: "wake-at", atMs: p.deadlineMs });
      return fx;
    }
    case "stored": {
      const p = state.pending.get(input.commitId);
      if (p === undefined || !p.waiting.delete(input.from)) return fx;
      if (!input.ok) fail(fx, p, `node ${input.from} failed to store: ${input.error ?? "unknown error"}`);
      else if (p.failed) return fx;
      else if (p.waiting.size === 1 && p.waiting.has(p.self) && input.from !== p.self) {
        fx.push({ kind: "store", to: p.self, commitId: input.commitId, dbId: p.dbId, records: p.records });
      } else if (p.waiting.size === 0) {
        state.pending.delete(input.commitId);
        fx.push({ kind: "reply", commitId: input.commitId, status: CommitStatus.OK });
      }
      return fx;
    }
    case "node-lost":
      state.lostSinceRecovery = true;
      for (const p of state.pending.values()) {
        if (p.waiting.delete(input.pnn)) fail(fx, p, `node ${input.pnn} was lost during the commit`);
      }
      return fx;
    case "tick":
      for (const [id, p] of state.pending) {
        if (!p.failed && input.nowMs >= p.deadlineMs) {
          // Some nodes may hold the transaction and others not: only a
          // recovery makes them agree again.
          state.pending.delete(id);
          fx.push({ kind: "reply", commitId: id, status: CommitStatus.TIMEOUT, error: "timeout in ctdb_persistent_state" });
          fx.push({ kind: "force-recovery", reason: "a persistent commit timed out" });
        }
      }
      return fx;
    case "recovered":
      state.lostSinceRecovery = false;
      for (const id of [...state.pending.keys()]) {
        state.pending.delete(id);
        fx.push({ kind: "reply", commitId: id, status: CommitStatus.ENDED_BY_RECOVERY, error: "trans3 commit ended by recovery" });
      }
      return fx;
  }
}

function fail(fx: CommitEffect[], p: PendingCommit, reason: string): void {
  if (p.failed) return;
  p.failed = true;
  fx.push({ kind: "force-recovery", reason });
}

/** The sequence number a transaction's records set, if they set one. */
export function transactionSeqnum(records: readonly RecordCopy[]): bigint | undefined {
  for (const r of records) {
    if (r.key.length === DB_SEQNUM_KEY.length && r.key.toString("latin1") === DB_SEQNUM_KEY) {
      return r.data.length >= 8 ? r.data.readBigUInt64LE(0) : undefined;
    }
  }
  return undefined;
}

/** A persistent database's sequence number as its record holds it (0 when there is none). */
export function seqnumFromValue(data: Buffer | undefined): bigint {
  return data === undefined || data.length < 8 ? 0n : data.readBigUInt64LE(0);
}

/**
 * Whether a node may store a transaction on top of what it holds: one that
 * sets sequence number N must find N-1. A node left ahead by a commit cut
 * short (or behind, having missed one) refuses, which asks for a recovery,
 * instead of stacking one transaction onto another's leftovers.
 */
export function checkTransactionBase(current: bigint, records: readonly RecordCopy[]): string | undefined {
  const next = transactionSeqnum(records);
  if (next === undefined || next === current + 1n) return undefined;
  return `database is at sequence number ${current}, the transaction expects ${next - 1n}`;
}
