// Volatile record migration, one node's side: the pure core. No I/O — the
// shell reads the node's local copy of the record a packet is about (under
// the record's TDB chain lock) and passes it in; the core answers with what to
// store, what to send and which client call is finished.
//
// CTDB's scheme: every key has a location master (lmaster), the vnnmap entry
// its hash selects, which always knows which node holds the current copy (the
// data master, dmaster). A node wanting a record (smbd's fetch-locked: a
// REQ_CALL with CTDB_IMMEDIATE_MIGRATION and CTDB_NULL_FUNC) asks the lmaster;
// the lmaster forwards the request to the dmaster; the dmaster hands the
// record over through the lmaster (REQ_DMASTER), which records the new
// location and passes the record on (REPLY_DMASTER). The receiving node stores
// it with the record sequence number (RSN) one higher than every other copy,
// so that a recovery keeps its copy. A key the lmaster has never seen does not
// exist yet: the lmaster creates it for the caller. A call without
// IMMEDIATE_MIGRATION (CTDB_FETCH_FUNC) is answered by the dmaster in a
// REPLY_CALL and the record stays where it is.
//
// Packets of an older generation than the node's are dropped (a recovery came
// between); calls still waiting when the generation changes are sent again.

import { CallFlag, FETCH_FUNC, FETCH_WITH_HEADER_FUNC, NULL_FUNC } from "../protocol/constants.ts";
import { encodeLtdbHeader, type LtdbHeader } from "../protocol/types.ts";
import { lmasterOf } from "./hash.ts";

/** A node's local copy of a record: its header and the value after it. */
export interface Copy {
  header: LtdbHeader;
  value: Buffer;
}

/** CTDB_REC_FLAG_MIGRATED_WITH_DATA. */
const MIGRATED_WITH_DATA = 0x10000;
/** Forwarding more often than this means the nodes disagree; the caller gets an error (CTDB's MaxRedirectCount is 3 per hop kind). */
export const MAX_HOPS = 30;

/** A request for a record, as it travels between nodes (CTDB's REQ_CALL). */
export interface CallRequest {
  /** The node whose client asked; replies go straight to it. */
  origin: number;
  /** The origin's id for this call. */
  reqid: number;
  dbId: number;
  key: Buffer;
  flags: number;
  func: number;
  hopcount: number;
}

export type MigrationPacket =
  | ({ op: "req-call" } & CallRequest)
  | { op: "req-dmaster"; reqid: number; dbId: number; key: Buffer; rsn: bigint; dmaster: number; data: Buffer }
  | { op: "reply-dmaster"; reqid: number; dbId: number; key: Buffer; rsn: bigint; data: Buffer }
  | { op: "reply-call"; reqid: number; status: number; data: Buffer }
  | { op: "reply-error"; reqid: number; status: number; errmsg: string };

export type MigrationInput =
  /** A local client's REQ_CALL; `local` is this node's copy of the record. */
  | { kind: "client-call"; callId: number; dbId: number; key: Buffer; flags: number; func: number; local: Copy | null }
  /** A packet from another node (or from this node to itself); `local` is the copy of the packet's key, when it has one. */
  | { kind: "packet"; from: number; generation: number; packet: MigrationPacket; local: Copy | null; deferred?: boolean }
  /** A recovery finished: new generation and vnnmap. Waiting calls are asked for again ("refetch"). */
  | { kind: "membership"; generation: number; vnnmap: readonly number[] }
  /** The shell's answer to "refetch": send the waiting call again with the current local copy. */
  | { kind: "resend"; reqid: number; local: Copy | null };

export type MigrationEffect =
  | { kind: "store"; dbId: number; key: Buffer; header: LtdbHeader; value: Buffer }
  | { kind: "send"; to: number; generation: number; packet: MigrationPacket }
  | { kind: "reply-client"; callId: number; status: number; data: Buffer }
  /** A waiting call must be sent again: read the local copy and feed "resend". */
  | { kind: "refetch"; reqid: number; dbId: number; key: Buffer }
  /** A packet of another generation: feed it again (deferred) after the next "membership". */
  | { kind: "defer" }
  /** A request reached the dmaster after `hopcount` hops (hot key statistics). */
  | { kind: "hop"; dbId: number; key: Buffer; hopcount: number }
  | { kind: "log"; level: "error" | "warning" | "info" | "debug"; message: string };

interface Waiting {
  callId: number;
  request: CallRequest;
}

export interface MigrationState {
  pnn: number;
  generation: number;
  vnnmap: readonly number[];
  /** Calls of this node's clients waiting for another node. */
  waiting: Map<number, Waiting>;
  nextReqid: number;
}

export function initialMigrationState(pnn: number, generation: number, vnnmap: readonly number[]): MigrationState {
  return { pnn, generation, vnnmap: [...vnnmap], waiting: new Map(), nextReqid: 1 };
}

export function lmaster(state: MigrationState, key: Buffer): number {
  return lmasterOf(key, state.vnnmap);
}

/** The data a call function answers with, run on the dmaster's copy. */
export function callResult(func: number, copy: Copy): { status: number; data: Buffer } {
  if (func === NULL_FUNC) return { status: 0, data: Buffer.alloc(0) };
  if (func === FETCH_FUNC) return { status: 0, data: copy.value };
  if (func === FETCH_WITH_HEADER_FUNC) return { status: 0, data: Buffer.concat([encodeLtdbHeader(copy.header), copy.value]) };
  return { status: -1, data: Buffer.alloc(0) };
}

function header(rsn: bigint, dmaster: number, flags = 0): LtdbHeader {
  return { rsn, dmaster, reserved1: 0, flags };
}

export function stepMigration(state: MigrationState, input: MigrationInput): MigrationEffect[] {
  const fx: MigrationEffect[] = [];
  switch (input.kind) {
    case "client-call": {
      if (state.vnnmap.length === 0) {
        fx.push({ kind: "reply-client", callId: input.callId, status: -1, data: Buffer.alloc(0) });
        return fx;
      }
      const reqid = state.nextReqid++;
      const request: CallRequest = {
        origin: state.pnn,
        reqid,
        dbId: input.dbId,
        key: input.key,
        flags: input.flags,
        func: input.func,
        hopcount: 0,
      };
      state.waiting.set(reqid, { callId: input.callId, request });
      handleCall(state, request, input.local, fx);
      return fx;
    }
    case "resend": {
      const w = state.waiting.get(input.reqid);
      if (w !== undefined) handleCall(state, { ...w.request, hopcount: 0 }, input.local, fx);
      return fx;
    }
    case "membership": {
      state.generation = input.generation;
      state.vnnmap = [...input.vnnmap];
      for (const [reqid, w] of state.waiting) fx.push({ kind: "refetch", reqid, dbId: w.request.dbId, key: w.request.key });
      return fx;
    }
    case "packet": {
      if (input.generation !== state.generation) {
        // Generations are random, so which is newer cannot be told: the
        // packet waits for this node's next membership change once, and is
        // dropped if it still does not match then.
        if (input.deferred !== true) fx.push({ kind: "defer" });
        else fx.push({ kind: "log", level: "debug", message: `dropped ${input.packet.op} of generation ${input.generation} from node ${input.from}` });
        return fx;
      }
      onPacket(state, input.from, input.packet, input.local, fx);
      return fx;
    }
  }
}

function send(state: MigrationState, fx: MigrationEffect[], to: number, packet: MigrationPacket): void {
  fx.push({ kind: "send", to, generation: state.generation, packet });
}

/** A call for a record reaches this node (from a client here, or from another node). */
function handleCall(state: MigrationState, call: CallRequest, local: Copy | null, fx: MigrationEffect[]): void {
  const me = state.pnn;
  const lm = lmaster(state, call.key);
  if (local !== null && local.header.dmaster === me) {
    if (call.origin !== me) fx.push({ kind: "hop", dbId: call.dbId, key: call.key, hopcount: call.hopcount });
    if (call.origin === me) {
      finish(state, call.reqid, callResult(call.func, local), fx);
    } else if ((call.flags & CallFlag.IMMEDIATE_MIGRATION) !== 0) {
      handOver(state, call, local, lm, fx);
    } else {
      send(state, fx, call.origin, { op: "reply-call", reqid: call.reqid, ...callResult(call.func, local) });
    }
    return;
  }
  if (call.hopcount >= MAX_HOPS) {
    const errmsg = `record of db 0x${call.dbId.toString(16)} not found after ${call.hopcount} hops`;
    fx.push({ kind: "log", level: "error", message: errmsg });
    if (call.origin === me) finish(state, call.reqid, { status: -1, data: Buffer.alloc(0) }, fx);
    else send(state, fx, call.origin, { op: "reply-error", reqid: call.reqid, status: -1, errmsg });
    return;
  }
  if (me === lm) {
    if (local === null) {
      // The lmaster has never seen the key: it does not exist anywhere. It is
      // created, empty, for the caller.
      if (call.origin === me) {
        const created: Copy = { header: header(1n, me), value: Buffer.alloc(0) };
        fx.push({ kind: "store", dbId: call.dbId, key: call.key, header: created.header, value: created.value });
        finish(state, call.reqid, callResult(call.func, created), fx);
      } else {
        handOver(state, call, { header: header(0n, me), value: Buffer.alloc(0) }, lm, fx);
      }
      return;
    }
    forward(state, call, local.header.dmaster, fx);
    return;
  }
  forward(state, call, lm, fx);
}

function forward(state: MigrationState, call: CallRequest, to: number, fx: MigrationEffect[]): void {
  send(state, fx, to, { op: "req-call", ...call, hopcount: call.hopcount + 1 });
}

/** This node, the dmaster, gives the record to the caller. */
function handOver(state: MigrationState, call: CallRequest, copy: Copy, lm: number, fx: MigrationEffect[]): void {
  const { rsn } = copy.header;
  // The old copy stays, no longer authoritative, pointing at the new dmaster.
  fx.push({ kind: "store", dbId: call.dbId, key: call.key, header: header(rsn, call.origin, copy.header.flags), value: copy.value });
  if (state.pnn === lm) {
    send(state, fx, call.origin, { op: "reply-dmaster", reqid: call.reqid, dbId: call.dbId, key: call.key, rsn, data: copy.value });
  } else {
    send(state, fx, lm, {
      op: "req-dmaster",
      reqid: call.reqid,
      dbId: call.dbId,
      key: call.key,
      rsn,
      dmaster: call.origin,
      data: copy.value,
    });
  }
}

function becomeDmaster(state: MigrationState, reqid: number, dbId: number, key: Buffer, rsn: bigint, data: Buffer, fx: MigrationEffect[]): void {
  const copy: Copy = { header: header(rsn + 1n, state.pnn, data.length > 0 ? MIGRATED_WITH_DATA : 0), value: data };
  fx.push({ kind: "store", dbId, key, header: copy.header, value: copy.value });
  const w = state.waiting.get(reqid);
  if (w !== undefined) finish(state, reqid, callResult(w.request.func, copy), fx);
}

function finish(state: MigrationState, reqid: number, result: { status: number; data: Buffer }, fx: MigrationEffect[]): void {
  const w = state.waiting.get(reqid);
  if (w === undefined) return;
  state.waiting.delete(reqid);
  fx.push({ kind: "reply-client", callId: w.callId, status: result.status, data: result.data });
}

function onPacket(state: MigrationState, from: number, p: MigrationPacket, local: Copy | null, fx: MigrationEffect[]): void {
  switch (p.op) {
    case "req-call": {
      const { op: _op, ...call } = p;
      handleCall(state, call, local, fx);
      return;
    }
    case "req-dmaster": {
      if (lmaster(state, p.key) !== state.pnn) {
        fx.push({ kind: "log", level: "error", message: `REQ_DMASTER from node ${from} for a key this node is not lmaster of; dropped` });
        return;
      }
      if (p.dmaster === state.pnn) {
        becomeDmaster(state, p.reqid, p.dbId, p.key, p.rsn, p.data, fx);
        return;
      }
      fx.push({ kind: "store", dbId: p.dbId, key: p.key, header: header(p.rsn, p.dmaster), value: p.data });
      send(state, fx, p.dmaster, { op: "reply-dmaster", reqid: p.reqid, dbId: p.dbId, key: p.key, rsn: p.rsn, data: p.data });
      return;
    }
    case "reply-dmaster": {
      // The new copy must outrank every other, a stale local one included.
      const localRsn = local?.header.rsn ?? 0n;
      becomeDmaster(state, p.reqid, p.dbId, p.key, p.rsn > localRsn ? p.rsn : localRsn, p.data, fx);
      return;
    }
    case "reply-call":
      finish(state, p.reqid, { status: p.status, data: p.data }, fx);
      return;
    case "reply-error":
      fx.push({ kind: "log", level: "error", message: `call failed on node ${from}: ${p.errmsg}` });
      finish(state, p.reqid, { status: p.status, data: Buffer.alloc(0) }, fx);
      return;
  }
}
