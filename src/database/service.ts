// The database component's shell on one node: answers the database controls
// (attach, paths, flags, health, statistics, traverse) over the local TDB
// files, and carries cluster-wide database operations between nodes: an
// attach reaches every node, a traverse gathers every node's records.

import type { LogLevel } from "../cluster/types.ts";
import type { ControlReply } from "../control/dispatch.ts";
import { Control, ControlFlag, DB_SEQNUM_KEY, DbFlag, Operation } from "../protocol/constants.ts";
import {
  decodeRecData,
  decodeTraverseAll,
  emptyDbStatistics,
  encodeDbStatistics,
  encodeRecData,
  encodeTraverseAllExt,
  isTraverseEnd,
  type TraverseAll,
} from "../protocol/database.ts";
import { encodeReqControl, type ReqControl } from "../protocol/packets.ts";
import {
  decodeString,
  decodeTraverseStart,
  decodeTraverseStartExt,
  decodeU32,
  encodeDbidMap,
  encodeI32,
  encodeString,
  encodeU32,
  encodeU64,
} from "../protocol/types.ts";
import { MigrationShell } from "./migration-shell.ts";
import { type DbKind, LocalDatabases, type LocalDb, type LocalDatabasesOptions } from "./local.ts";

export interface DatabaseHooks {
  pnn: number;
  log: (level: LogLevel, message: string) => void;
  /** Sends a CTDB packet to another node; false when it is not connected. */
  sendToNode(pnn: number, packet: Buffer): boolean;
  /** Sends a message to a server id on a node (this one included), as a client's REQ_MESSAGE would go. */
  sendMessage(dest: number, srvid: bigint, data: Buffer): void;
  /** Other nodes connected to this one (an attach reaches them all). */
  otherConnectedNodes(): number[];
  /** Other connected nodes that are active (not banned or stopped): a traverse reads their records. */
  otherActiveNodes(): number[];
  generation(): number;
  tunable(name: string): number | undefined;
}

export type ControlSource = { kind: "client"; clientId: number } | { kind: "node"; pnn: number };
export type Reply = (r: ControlReply) => void;

const EMPTY = Buffer.alloc(0);
const ok = (data: Buffer = EMPTY, status = 0): ControlReply => ({ status, data, errmsg: "" });
const fail = (errmsg: string, status = -1): ControlReply => ({ status, data: EMPTY, errmsg });

interface Traverse {
  srvid: bigint;
  clientReqid: number;
  waiting: Set<number>;
  timer: NodeJS.Timeout;
}

const ATTACH_KIND = new Map<number, DbKind>([
  [Control.DB_ATTACH, "volatile"],
  [Control.DB_ATTACH_PERSISTENT, "persistent"],
  [Control.DB_ATTACH_REPLICATED, "replicated"],
]);
const ATTACH_OPCODE: Record<DbKind, Control> = {
  volatile: Control.DB_ATTACH,
  persistent: Control.DB_ATTACH_PERSISTENT,
  replicated: Control.DB_ATTACH_REPLICATED,
};

export class DatabaseService {
  readonly local: LocalDatabases;
  readonly migration: MigrationShell;
  private readonly traverses = new Map<number, Traverse>();
  private nextReqid = 1;

  constructor(
    private readonly hooks: DatabaseHooks,
    options: Omit<LocalDatabasesOptions, "log" | "pnn">,
  ) {
    this.local = new LocalDatabases({ ...options, pnn: hooks.pnn, log: hooks.log });
    this.migration = new MigrationShell(this.local, hooks);
    for (const e of this.local.attachExistingPersistent()) hooks.log("error", e);
  }

  /** Answers req if it is a database control (now or later, through reply); false when it is not one. */
  control(req: ReqControl, source: ControlSource, reply: Reply): boolean {
    const handler = this.handlers.get(req.opcode);
    if (handler === undefined) return false;
    try {
      const r = handler(req, source, reply);
      if (r !== undefined) reply(r);
    } catch (err) {
      reply(fail(`Bad data for database control ${req.opcode}: ${(err as Error).message}`));
    }
    return true;
  }

  /** A node joined: it learns every database this node has, as CTDB's recovery would create them. */
  peerUp(pnn: number): void {
    for (const db of this.local.list()) this.sendControl(pnn, ATTACH_OPCODE[db.kind], encodeString(db.name));
  }

  /** A node left: a traverse stops waiting for it. */
  peerDown(pnn: number): void {
    for (const [reqid, t] of this.traverses) {
      t.waiting.delete(pnn);
      if (t.waiting.size === 0) this.finishTraverse(reqid);
    }
  }

  close(): void {
    this.migration.close();
    for (const reqid of [...this.traverses.keys()]) this.finishTraverse(reqid);
    this.local.close();
  }

  private db(req: ReqControl): LocalDb {
    const dbId = decodeU32(req.data.subarray(0, 4));
    const db = this.local.get(dbId);
    if (db === undefined) throw new UnknownDb(dbId);
    return db;
  }

  private sendControl(pnn: number, opcode: number, data: Buffer, srvid = 0n): boolean {
    return this.hooks.sendToNode(
      pnn,
      encodeReqControl({
        operation: Operation.REQ_CONTROL,
        generation: this.hooks.generation(),
        destnode: pnn,
        srcnode: this.hooks.pnn,
        reqid: 0,
        opcode,
        srvid,
        clientId: 0,
        flags: ControlFlag.NOREPLY,
        data,
      }),
    );
  }

  private withDb(f: (db: LocalDb, req: ReqControl, source: ControlSource) => ControlReply) {
    return (req: ReqControl, source: ControlSource): ControlReply => {
      try {
        return f(this.db(req), req, source);
      } catch (err) {
        if (err instanceof UnknownDb) return fail(err.message);
        throw err;
      }
    };
  }

  private attach(req: ReqControl, source: ControlSource): ControlReply {
    const kind = ATTACH_KIND.get(req.opcode)!;
    const name = decodeString(req.data);
    const r = this.local.attach(name, kind);
    if (!r.ok) {
      this.hooks.log("error", `Attach to ${kind} database ${name} failed: ${r.error}`);
      return fail(r.error);
    }
    // Every node holds every database: a client's attach creates it everywhere.
    if (r.created && source.kind === "client") {
      for (const pnn of this.hooks.otherConnectedNodes()) this.sendControl(pnn, req.opcode, req.data);
    }
    return ok(encodeU32(r.db.dbId));
  }

  private detach(db: LocalDb, source: ControlSource): ControlReply {
    if (db.kind !== "volatile") return fail(`Cannot detach ${db.kind} database ${db.name}`);
    if (source.kind === "client") {
      for (const pnn of this.hooks.otherConnectedNodes()) this.sendControl(pnn, Control.DB_DETACH, encodeU32(db.dbId));
    }
    this.local.detach(db.dbId);
    this.hooks.log("notice", `Detached from database '${db.path}'`);
    return ok();
  }

  private seqnum(db: LocalDb): ControlReply {
    // A persistent database's sequence number is a record of its own, kept by
    // the transaction commit protocol; a volatile one has none.
    const rec = db.fetch(Buffer.from(DB_SEQNUM_KEY, "utf8"));
    let seqnum = 0n;
    if (rec !== null && rec.value.length >= 8) seqnum = rec.value.readBigUInt64LE(0);
    return ok(encodeU64(seqnum));
  }

  private statistics(db: LocalDb): ControlReply {
    const s = emptyDbStatistics();
    s.locks = { ...db.statistics.locks };
    s.roDelegations = db.statistics.roDelegations;
    s.roRevokes = db.statistics.roRevokes;
    s.hopCountBuckets = [...db.statistics.hopCountBuckets];
    s.hotKeys = db.hotKeys();
    return ok(encodeDbStatistics(s));
  }

  // ---- traverse ----

  /** A client starts a cluster-wide traverse; records go to its srvid as messages, then an empty record. */
  private traverseStart(req: ReqControl, ext: boolean): ControlReply {
    const start = ext ? decodeTraverseStartExt(req.data) : decodeTraverseStart(req.data);
    const db = this.local.get(start.dbId);
    if (db === undefined) return fail(new UnknownDb(start.dbId).message);
    const reqid = this.nextReqid++;
    // Every node holds a persistent database whole, so its own copy is the answer.
    const others = db.kind === "persistent" ? [] : this.hooks.otherActiveNodes();
    const timeoutMs = (this.hooks.tunable("TraverseTimeout") ?? 20) * 1000;
    const traverse: Traverse = {
      srvid: start.srvid,
      clientReqid: start.reqid,
      waiting: new Set(others),
      timer: setTimeout(() => {
        this.hooks.log("error", `Traverse of ${db.name} timed out waiting for nodes ${[...traverse.waiting].join(",")}`);
        this.finishTraverse(reqid);
      }, timeoutMs),
    };
    this.traverses.set(reqid, traverse);
    const all: TraverseAll = {
      dbId: db.dbId,
      reqid,
      pnn: this.hooks.pnn,
      clientReqid: start.reqid,
      srvid: start.srvid,
      withEmptyRecords: start.withEmptyRecords ?? false,
    };
    for (const pnn of others) {
      if (!this.sendControl(pnn, Control.TRAVERSE_ALL_EXT, encodeTraverseAllExt(all))) traverse.waiting.delete(pnn);
    }
    // Answer first, then stream: the client is registered for its srvid already.
    setImmediate(() => {
      this.traverseLocal(db, all.withEmptyRecords, (key, data) => this.toClient(traverse, key, data));
      if (traverse.waiting.size === 0) this.finishTraverse(reqid);
    });
    return ok();
  }

  /** Records this node is authoritative for: a volatile record only where this node is its dmaster. */
  private traverseLocal(db: LocalDb, withEmptyRecords: boolean, emit: (key: Buffer, data: Buffer) => void): void {
    db.tdb.traverseRead((key, stored) => {
      if (db.kind !== "persistent") {
        if (stored.length < 24 || (!withEmptyRecords && stored.length === 24)) return;
        if (stored.readUInt32LE(8) !== this.hooks.pnn) return;
      }
      emit(key, stored);
    });
  }

  private toClient(t: Traverse, key: Buffer, data: Buffer): void {
    this.hooks.sendMessage(this.hooks.pnn, t.srvid, encodeRecData({ reqid: t.clientReqid, key, data }));
  }

  private finishTraverse(reqid: number): void {
    const t = this.traverses.get(reqid);
    if (t === undefined) return;
    clearTimeout(t.timer);
    this.traverses.delete(reqid);
    this.hooks.sendMessage(this.hooks.pnn, t.srvid, encodeRecData({ reqid: t.clientReqid, key: EMPTY, data: EMPTY }));
  }

  /** Another node asks for this node's records of a traverse it runs. */
  private traverseAll(req: ReqControl, source: ControlSource, ext: boolean): ControlReply {
    if (source.kind !== "node") return fail("TRAVERSE_ALL is sent between nodes only");
    const all = decodeTraverseAll(req.data, ext);
    const db = this.local.get(all.dbId);
    const to = source.pnn;
    setImmediate(() => {
      if (db !== undefined) {
        this.traverseLocal(db, all.withEmptyRecords, (key, data) => {
          this.sendControl(to, Control.TRAVERSE_DATA, encodeRecData({ reqid: all.reqid, key, data }));
        });
      }
      this.sendControl(to, Control.TRAVERSE_DATA, encodeRecData({ reqid: all.reqid, key: EMPTY, data: EMPTY }));
    });
    return ok();
  }

  private traverseData(req: ReqControl, source: ControlSource): ControlReply {
    if (source.kind !== "node") return fail("TRAVERSE_DATA is sent between nodes only");
    const rec = decodeRecData(req.data);
    const t = this.traverses.get(rec.reqid);
    if (t === undefined) return ok(); // finished (timed out) already
    if (isTraverseEnd(rec)) {
      t.waiting.delete(source.pnn);
      if (t.waiting.size === 0) this.finishTraverse(rec.reqid);
    } else {
      this.toClient(t, rec.key, rec.data);
    }
    return ok();
  }

  private readonly handlers = new Map<number, (req: ReqControl, source: ControlSource, reply: Reply) => ControlReply | undefined>([
    [Control.DB_ATTACH, (req, source) => this.attach(req, source)],
    [Control.DB_ATTACH_PERSISTENT, (req, source) => this.attach(req, source)],
    [Control.DB_ATTACH_REPLICATED, (req, source) => this.attach(req, source)],
    [Control.GET_DBMAP, () => ok(encodeDbidMap(this.local.list().map((db) => ({ dbId: db.dbId, flags: db.flags }))))],
    [Control.GETDBPATH, this.withDb((db) => ok(encodeString(db.path)))],
    [Control.GET_DBNAME, this.withDb((db) => ok(encodeString(db.name)))],
    [Control.DB_OPEN_FLAGS, this.withDb((db) => ok(encodeI32(db.tdbFlags)))],
    [Control.DB_GET_HEALTH, this.withDb((db) => ok(encodeString(db.unhealthyReason)))],
    [
      Control.DB_SET_HEALTHY,
      this.withDb((db) => {
        db.unhealthyReason = null;
        return ok();
      }),
    ],
    [
      Control.ENABLE_SEQNUM,
      this.withDb((db) => {
        db.enableSeqnum();
        return ok();
      }),
    ],
    [Control.GET_DB_SEQNUM, this.withDb((db) => this.seqnum(db))],
    [Control.GET_DB_STATISTICS, this.withDb((db) => this.statistics(db))],
    [Control.DB_DETACH, this.withDb((db, _req, source) => this.detach(db, source))],
    [
      Control.SET_DB_STICKY,
      this.withDb((db) => {
        if (db.kind !== "volatile") return fail(`Can only set STICKY on volatile database ${db.name}`);
        db.flags |= DbFlag.STICKY;
        return ok();
      }),
    ],
    [
      Control.SET_DB_READONLY,
      this.withDb((db) => {
        if (db.kind !== "volatile") return fail(`Can only set READONLY on volatile database ${db.name}`);
        db.flags |= DbFlag.READONLY;
        return ok();
      }),
    ],
    [Control.TRAVERSE_START, (req) => this.traverseStart(req, false)],
    [Control.TRAVERSE_START_EXT, (req) => this.traverseStart(req, true)],
    [Control.TRAVERSE_ALL, (req, source) => this.traverseAll(req, source, false)],
    [Control.TRAVERSE_ALL_EXT, (req, source) => this.traverseAll(req, source, true)],
    [Control.TRAVERSE_DATA, (req, source) => this.traverseData(req, source)],
  ]);
}

class UnknownDb extends Error {
  constructor(dbId: number) {
    super(`Unknown database 0x${(dbId >>> 0).toString(16).padStart(8, "0")}`);
  }
}
