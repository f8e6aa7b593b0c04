// Runs the migration core against this node's TDB files and the node
// transport. Each input about a record is handled under that record's TDB
// chain lock (taken without blocking; smbd or the ctdb tool may hold it for a
// moment, so the work waits and is tried again), with the local copy read
// just before the core decides and its stores written before the lock goes.
// Work on one key keeps its order; work on different keys does not wait for
// each other.

import type { LogLevel } from "../cluster/types.ts";
import { Operation } from "../protocol/constants.ts";
import { encodePacket, type Packet, type ReplyCall, type ReqCall } from "../protocol/packets.ts";
import type { LocalDatabases, LocalDb } from "./local.ts";
import {
  type Copy,
  initialMigrationState,
  type MigrationEffect,
  type MigrationInput,
  type MigrationPacket,
  type MigrationState,
  stepMigration,
} from "./migration.ts";

export interface MigrationHooks {
  pnn: number;
  log: (level: LogLevel, message: string) => void;
  sendToNode(pnn: number, packet: Buffer): boolean;
}

/** Where a finished call's REPLY_CALL goes. */
type ClientReply = (reply: ReplyCall) => void;

interface Work {
  dbId: number;
  key: Buffer;
  input: (local: Copy | null) => MigrationInput;
}

const LOCK_RETRY_MS = 1;

export class MigrationShell {
  private readonly state: MigrationState;
  private readonly calls = new Map<number, { reply: ClientReply; reqid: number }>();
  private nextCallId = 1;
  /** Per record (db id + key), work waiting for its chain lock, in order. */
  private readonly queues = new Map<string, Work[]>();
  private deferred: { from: number; packet: Packet }[] = [];
  private closed = false;
  /** Calls answered for this node's clients, and how far requests travelled to reach a dmaster here (STATISTICS). */
  readonly stats = { totalCalls: 0, migrations: 0, maxHopCount: 0, hopCountBuckets: new Array<number>(16).fill(0) };

  /** Client calls not answered yet. */
  get pendingCalls(): number {
    return this.calls.size;
  }

  constructor(
    private readonly dbs: LocalDatabases,
    private readonly hooks: MigrationHooks,
  ) {
    this.state = initialMigrationState(hooks.pnn, 0, []);
  }

  /** A recovery finished: calls still waiting are sent again under the new vnnmap. */
  membership(generation: number, vnnmap: readonly number[]): void {
    this.run(stepMigration(this.state, { kind: "membership", generation, vnnmap }), null);
    const deferred = this.deferred;
    this.deferred = [];
    for (const d of deferred) this.nodePacket(d.from, d.packet, true);
  }

  /** A local client's REQ_CALL (smbd's fetch-locked, `ctdb readkey`/`writekey`...). */
  clientCall(req: ReqCall, reply: ClientReply): void {
    const db = this.dbs.get(req.dbId);
    if (db === undefined) {
      reply(this.replyCall(req.reqid, -1, Buffer.alloc(0)));
      return;
    }
    if (req.key.length === 0) {
      reply(this.replyCall(req.reqid, -1, Buffer.alloc(0)));
      return;
    }
    const callId = this.nextCallId++;
    this.calls.set(callId, { reply, reqid: req.reqid });
    this.enqueue({
      dbId: req.dbId,
      key: req.key,
      input: (local) => ({ kind: "client-call", callId, dbId: req.dbId, key: req.key, flags: req.flags, func: req.callid, local }),
    });
  }

  /** A migration packet from another node. */
  nodePacket(from: number, packet: Packet, deferred = false): void {
    const m = toMigrationPacket(packet);
    if (m === null) return;
    const input = (local: Copy | null): MigrationInput => ({ kind: "packet", from, generation: packet.generation, packet: m, local, deferred });
    if (m.op === "reply-call" || m.op === "reply-error") {
      this.run(stepMigration(this.state, input(null)), { from, packet });
      return;
    }
    if (this.dbs.get(m.dbId) === undefined) {
      this.hooks.log("error", `Node ${from} sent ${m.op} for database 0x${m.dbId.toString(16)}, which is not attached here`);
      if (m.op === "req-call") {
        this.send(m.origin, { op: "reply-error", reqid: m.reqid, status: -1, errmsg: "database not attached" }, packet.generation);
      }
      return;
    }
    this.enqueue({ dbId: m.dbId, key: m.key, input }, { from, packet });
  }

  close(): void {
    this.closed = true;
  }

  private enqueue(work: Work, origin?: { from: number; packet: Packet }): void {
    const id = `${work.dbId}:${work.key.toString("latin1")}`;
    const queue = this.queues.get(id);
    const item = origin === undefined ? work : { ...work, origin };
    if (queue !== undefined) {
      queue.push(item);
      return;
    }
    this.queues.set(id, [item]);
    // Work that arises while another record is being handled starts afterwards, never nested in it.
    if (this.draining) setImmediate(() => this.drain(id));
    else this.drain(id);
  }

  private draining = false;

  private drain(id: string): void {
    this.draining = true;
    try {
      this.drainQueue(id);
    } finally {
      this.draining = false;
    }
  }

  private drainQueue(id: string): void {
    const queue = this.queues.get(id);
    while (queue !== undefined && queue.length > 0 && !this.closed) {
      const work = queue[0] as Work & { origin?: { from: number; packet: Packet } };
      const db = this.dbs.get(work.dbId);
      if (db === undefined) {
        queue.shift();
        continue;
      }
      if (!db.tdb.tryChainLock(work.key)) {
        db.statistics.locks.numPending++;
        setTimeout(() => this.drain(id), LOCK_RETRY_MS);
        return;
      }
      try {
        db.statistics.locks.numCalls++;
        const local = db.fetch(work.key);
        this.run(stepMigration(this.state, work.input(local)), work.origin ?? null, db);
      } catch (err) {
        db.statistics.locks.numFailed++;
        this.hooks.log("error", `Migration work on ${db.name} failed: ${(err as Error).message}`);
      } finally {
        db.tdb.chainUnlock(work.key);
      }
      queue.shift();
    }
    this.queues.delete(id);
  }

  private run(effects: MigrationEffect[], origin: { from: number; packet: Packet } | null, db?: LocalDb): void {
    for (const e of effects) {
      switch (e.kind) {
        case "store": {
          const target = db ?? this.dbs.get(e.dbId);
          target?.store(e.key, e.header, e.value);
          break;
        }
        case "send":
          this.send(e.to, e.packet, e.generation);
          break;
        case "reply-client": {
          const call = this.calls.get(e.callId);
          if (call === undefined) break;
          this.calls.delete(e.callId);
          this.stats.totalCalls++;
          if (e.status === 0) this.stats.migrations++;
          call.reply(this.replyCall(call.reqid, e.status, e.data));
          break;
        }
        case "refetch":
          this.enqueue({ dbId: e.dbId, key: e.key, input: (local) => ({ kind: "resend", reqid: e.reqid, local }) });
          break;
        case "defer":
          if (origin !== null) this.deferred.push(origin);
          break;
        case "hop": {
          const target = db ?? this.dbs.get(e.dbId);
          if (target === undefined) break;
          let bucket = 0;
          while (bucket < 15 && 2 ** (bucket + 1) <= e.hopcount) bucket++;
          target.statistics.hopCountBuckets[bucket] = (target.statistics.hopCountBuckets[bucket] ?? 0) + 1;
          this.stats.hopCountBuckets[bucket] = (this.stats.hopCountBuckets[bucket] ?? 0) + 1;
          this.stats.maxHopCount = Math.max(this.stats.maxHopCount, e.hopcount);
          target.noteHotKey(e.key, e.hopcount);
          break;
        }
        case "log":
          this.hooks.log(e.level, e.message);
          break;
      }
    }
  }

  private replyCall(reqid: number, status: number, data: Buffer): ReplyCall {
    return { operation: Operation.REPLY_CALL, generation: this.state.generation, destnode: this.hooks.pnn, srcnode: this.hooks.pnn, reqid, status, data };
  }

  private send(to: number, p: MigrationPacket, generation: number): void {
    const packet = toWire(p, generation, to, this.hooks.pnn);
    if (to === this.hooks.pnn) {
      setImmediate(() => this.nodePacket(to, packet));
      return;
    }
    if (!this.hooks.sendToNode(to, encodePacket(packet))) {
      this.hooks.log("warning", `Cannot send ${p.op} to node ${to}: not connected; the call waits for recovery`);
    }
  }
}

/** Our migration packets on the wire, as CTDB's call packets. */
export function toWire(p: MigrationPacket, generation: number, destnode: number, srcnode: number): Packet {
  const base = { generation, destnode, reqid: p.reqid };
  switch (p.op) {
    case "req-call":
      return {
        operation: Operation.REQ_CALL,
        ...base,
        // A forwarded call keeps its origin as source, so the dmaster answers it directly.
        srcnode: p.origin,
        flags: p.flags,
        dbId: p.dbId,
        callid: p.func,
        hopcount: p.hopcount,
        key: p.key,
        calldata: Buffer.alloc(0),
      };
    case "req-dmaster":
      return { operation: Operation.REQ_DMASTER, ...base, srcnode, dbId: p.dbId, rsn: p.rsn, dmaster: p.dmaster, key: p.key, data: p.data };
    case "reply-dmaster":
      return { operation: Operation.REPLY_DMASTER, ...base, srcnode, dbId: p.dbId, rsn: p.rsn, key: p.key, data: p.data };
    case "reply-call":
      return { operation: Operation.REPLY_CALL, ...base, srcnode, status: p.status, data: p.data };
    case "reply-error":
      return { operation: Operation.REPLY_ERROR, ...base, srcnode, status: p.status, errmsg: p.errmsg };
  }
}

export function toMigrationPacket(p: Packet): MigrationPacket | null {
  switch (p.operation) {
    case Operation.REQ_CALL:
      return { op: "req-call", origin: p.srcnode, reqid: p.reqid, dbId: p.dbId, key: p.key, flags: p.flags, func: p.callid, hopcount: p.hopcount };
    case Operation.REQ_DMASTER:
      return { op: "req-dmaster", reqid: p.reqid, dbId: p.dbId, key: p.key, rsn: p.rsn, dmaster: p.dmaster, data: p.data };
    case Operation.REPLY_DMASTER:
      return { op: "reply-dmaster", reqid: p.reqid, dbId: p.dbId, key: p.key, rsn: p.rsn, data: p.data };
    case Operation.REPLY_CALL:
      return { op: "reply-call", reqid: p.reqid, status: p.status, data: p.data };
    case Operation.REPLY_ERROR:
      return { op: "reply-error", reqid: p.reqid, status: p.status, errmsg: p.errmsg };
    default:
      return null;
  }
}
