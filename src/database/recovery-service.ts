// The shell around the recovery and commit cores on one node: it carries the
// cores' requests between nodes (the transport's DATABASE channel), runs the
// storage work they decide on against the node's TDB files, keeps their
// timers, and answers TRANS3_COMMIT for clients.
//
// Freezing a database is opening a TDB transaction on it: TDB then holds a
// read lock over the whole file, so no other process (smbd, the ctdb tool)
// can write while the recovery works, and the push (wipe, store) becomes
// visible at the thaw's commit in one step — or, if the daemon dies first,
// never. A persistent commit is also one TDB transaction per node, synced to
// disk by TDB before the node acknowledges it (persistent files are opened
// without TDB_NOSYNC), so a power cut loses no acknowledged transaction.
//
// The leader runs a recovery when the lifecycle reaches its database seam for
// a generation; followers wait at the seam until the leader says that
// generation's databases are recovered.

import type { LogLevel } from "../cluster/types.ts";
import type { ControlReply } from "../control/dispatch.ts";
import type { ReqControl } from "../protocol/packets.ts";
import { Control, DB_SEQNUM_KEY } from "../protocol/constants.ts";
import { decodeRecBuffer } from "../protocol/database.ts";
import { LTDB_HEADER_SIZE, decodeLtdbHeader } from "../protocol/types.ts";
import { type LocalDatabases, type LocalDb, kindOfFlags } from "./local.ts";
import { type CommitEffect, type CommitInput, checkTransactionBase, initialCommitState, seqnumFromValue, stepCommit } from "./persistent.ts";
import {
  type DbInfo,
  type RecordCopy,
  type RecoveryEffect,
  type RecoveryInput,
  type RecoveryRequest,
  type RecoveryResult,
  type RecoveryRun,
  startRecovery,
  stepRecovery,
} from "./recovery.ts";
import { decideRecoveryRequest, initialNodeState, invalidateVolatile, type RecoveryWork, writable } from "./recovery-node.ts";
import { type DbMessage, decodeDbMessage, encodeDbMessage } from "./wire.ts";

export interface RecoveryServiceHooks {
  pnn: number;
  log: (level: LogLevel, message: string) => void;
  local: LocalDatabases;
  /** Sends a database message to another node; false when it is not connected. */
  send(pnn: number, payload: Buffer): boolean;
  /** Nodes that are active and connected, this one included when it is active. */
  activeNodes(): number[];
  /** Every other connected node (a follower waits at its seam for the leader's word). */
  connectedNodes(): number[];
  leader(): number;
  /** The cluster's newest generation as this node knows it. */
  generation(): number;
  /** The leader's recovery failed: ask the cluster for another one. */
  forceRecovery(reason: string): void;
  /** Ban a node for `seconds` (the recovery's verdict on a node that kept failing). */
  ban(pnn: number, seconds: number): void;
  tunable(name: string): number | undefined;
}

type Reply = (r: ControlReply) => void;

/** How long a freeze or commit waits for a TDB transaction lock held by a client before it fails. */
const LOCK_WAIT_MS = 5000;
const LOCK_RETRY_MS = 5;
/** Pause before a failed recovery is asked for again (CTDB's recovery daemon loops every second). */
const RETRY_FAILED_RECOVERY_MS = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class RecoveryService {
  private part = initialNodeState();
  private commits = initialCommitState();
  private run: RecoveryRun | undefined;
  private runId = 0;
  private runGeneration = 0;
  private readonly runTimers = new Map<number, NodeJS.Timeout>();
  /** Nodes of the last successful recovery this node led: only they offer volatile records. */
  private lastRecovered: Set<number> | undefined;
  private wasLeader = false;
  /** Seams waiting, per generation. */
  private readonly seams = new Map<number, () => void>();
  /** Generations whose databases the leader said are recovered (the word may come before the seam). */
  private readonly done = new Set<number>();
  /** Work on one database runs one at a time (a TDB handle has one transaction). */
  private readonly queues = new Map<number, Promise<void>>();
  private readonly commitReplies = new Map<number, Reply>();
  private nextCommitId = 1;
  private commitTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly hooks: RecoveryServiceHooks) {}

  private get pnn(): number {
    return this.hooks.pnn;
  }

  close(): void {
    this.closed = true;
    this.abortRun("daemon shutting down");
    clearTimeout(this.commitTimer);
    for (const resolve of this.seams.values()) resolve();
    this.seams.clear();
  }

  // ---- the lifecycle seam ----

  /**
   * Resolves once the databases are recovered. The lifecycle folds
   * recoveries that queue up, so a follower's chain and the leader's may be
   * for different generations: a follower goes on once the leader has
   * recovered the newest generation it knows of, whichever its chain is for.
   */
  recoverDatabases(generation: number): Promise<void> {
    for (const [g, resolve] of this.seams) {
      if (g !== generation) {
        this.seams.delete(g);
        resolve();
      }
    }
    return new Promise<void>((resolve) => {
      if (this.done.has(generation) || this.done.has(this.hooks.generation())) {
        this.databasesRecovered();
        resolve();
        return;
      }
      this.seams.set(generation, () => {
        resolve();
      });
      if (this.hooks.leader() === this.pnn) this.startRun(generation);
    });
  }

  /**
   * The cluster moved to a new generation. The lifecycle's lane waits at the
   * seam of the chain it is in, so an older chain's seam is let go now (its
   * recovery is void; the new generation's chain follows and recovers), and
   * the leader drops a run for an older generation.
   */
  generationChanged(generation: number): void {
    if (this.run !== undefined && this.runGeneration !== generation) this.abortRun(`superseded by generation ${generation}`);
    for (const [g, resolve] of this.seams) {
      if (g !== generation) {
        this.seams.delete(g);
        resolve();
      }
    }
  }

  /** This node's flags changed: one that became inactive marks its volatile records invalid. */
  ownFlagsChanged(inactive: boolean): void {
    if (inactive) invalidateVolatile(this.part, this.hooks.local.list().map(dbInfo));
  }

  peerDown(pnn: number): void {
    this.lastRecovered?.delete(pnn);
    if (this.run !== undefined) this.feedRun(stepRecovery(this.run, { kind: "node-lost", pnn }));
    this.feedCommit({ kind: "node-lost", nowMs: performance.now(), pnn });
  }

  /** Whether this generation's databases are recovered (on the leader: its run succeeded). */
  recovered(generation: number): boolean {
    return this.done.has(generation);
  }

  /** Whether clients may change the database now (no recovery holds it). */
  writable(dbId: number): boolean {
    return writable(this.part, dbId);
  }

  private databasesRecovered(): void {
    this.feedCommit({ kind: "recovered", nowMs: performance.now() });
  }

  private seamDone(generation: number): void {
    this.done.add(generation);
    if (this.done.size > 16) this.done.delete(this.done.values().next().value as number);
    // The leader's own seam is for the generation it ran; a follower's, for
    // whatever generation its chain was for, once the newest is recovered.
    const own = this.seams.get(generation);
    const all = generation === this.hooks.generation();
    if (own === undefined && !all) return;
    const waiting = all ? [...this.seams.values()] : [own!];
    if (all) this.seams.clear();
    else this.seams.delete(generation);
    this.databasesRecovered();
    for (const resolve of waiting) resolve();
  }

  // ---- the leader's run ----

  private startRun(generation: number): void {
    this.abortRun(`superseded by generation ${generation}`);
    const isLeader = this.hooks.leader() === this.pnn;
    if (isLeader && !this.wasLeader) this.lastRecovered = undefined;
    this.wasLeader = isLeader;
    const nodes = this.hooks.activeNodes();
    const last = this.lastRecovered;
    this.runId++;
    this.runGeneration = generation;
    const { run, effects } = startRecovery({
      generation,
      leader: this.pnn,
      nodes,
      ...(last === undefined ? {} : { contributors: nodes.filter((p) => last.has(p)) }),
      timeoutMs: (this.hooks.tunable("RecoverTimeout") ?? 30) * 1000,
      banSeconds: this.hooks.tunable("RecoveryBanPeriod") ?? 300,
    });
    this.run = run;
    this.feedRun(effects);
  }

  private abortRun(reason: string): void {
    if (this.run === undefined) return;
    const run = this.run;
    this.run = undefined;
    stepRecovery(run, { kind: "abort", reason });
    for (const t of this.runTimers.values()) clearTimeout(t);
    this.runTimers.clear();
  }

  private feedRun(effects: RecoveryEffect[]): void {
    const runId = this.runId;
    const run = this.run;
    for (const e of effects) {
      switch (e.kind) {
        case "request": {
          const timer = setTimeout(() => this.runInput(runId, { kind: "failed", reqId: e.reqId, from: e.to, error: "timed out" }), e.timeoutMs);
          timer.unref();
          this.runTimers.set(e.reqId, timer);
          if (e.to === this.pnn) {
            void this.serveRecovery(e.req).then((answer) => this.runAnswer(runId, e.reqId, e.to, answer));
          } else if (!this.hooks.send(e.to, encodeDbMessage({ t: "rec-req", run: runId, reqId: e.reqId, req: e.req }))) {
            setImmediate(() => this.runInput(runId, { kind: "failed", reqId: e.reqId, from: e.to, error: "not connected" }));
          }
          break;
        }
        case "log":
          this.hooks.log(e.level, e.message);
          break;
        case "ban":
          this.hooks.ban(e.pnn, e.seconds);
          break;
        case "done":
          if (run !== this.run) break;
          this.run = undefined;
          for (const t of this.runTimers.values()) clearTimeout(t);
          this.runTimers.clear();
          if (e.ok) this.runSucceeded(run!);
          else if (!this.closed) {
            // Let the lane go on; the recovery asked for below brings a new chain.
            const seam = this.seams.get(this.runGeneration);
            this.seams.delete(this.runGeneration);
            seam?.();
            const reason = e.reason ?? "recovery failed";
            setTimeout(() => {
              if (!this.closed && this.hooks.leader() === this.pnn) this.hooks.forceRecovery(reason);
            }, RETRY_FAILED_RECOVERY_MS).unref();
          }
          break;
      }
    }
  }

  private runSucceeded(run: RecoveryRun): void {
    this.lastRecovered = new Set(run.opts.nodes);
    const generation = this.runGeneration;
    const word = encodeDbMessage({ t: "recovered", generation });
    for (const pnn of this.hooks.connectedNodes()) if (pnn !== this.pnn) this.hooks.send(pnn, word);
    this.seamDone(generation);
  }

  private runAnswer(runId: number, reqId: number, from: number, answer: RecoveryResult | string): void {
    if (typeof answer === "string") this.runInput(runId, { kind: "failed", reqId, from, error: answer });
    else this.runInput(runId, { kind: "reply", reqId, from, result: answer });
  }

  private runInput(runId: number, input: RecoveryInput): void {
    if (runId !== this.runId || this.run === undefined) return;
    if (input.kind === "reply" || input.kind === "failed") {
      clearTimeout(this.runTimers.get(input.reqId));
      this.runTimers.delete(input.reqId);
    }
    this.feedRun(stepRecovery(this.run, input));
  }

  // ---- messages from other nodes ----

  onMessage(from: number, payload: Buffer): void {
    let m: DbMessage;
    try {
      m = decodeDbMessage(payload);
    } catch (err) {
      this.hooks.log("error", `Node ${from} sent a bad database message: ${(err as Error).message}`);
      return;
    }
    switch (m.t) {
      case "rec-req":
        void this.serveRecovery(m.req).then((answer) => {
          const reply: DbMessage =
            typeof answer === "string"
              ? { t: "rec-fail", run: m.run, reqId: m.reqId, error: answer }
              : { t: "rec-ok", run: m.run, reqId: m.reqId, result: answer };
          this.hooks.send(from, encodeDbMessage(reply));
        });
        return;
      case "rec-ok":
        this.runInput(m.run, { kind: "reply", reqId: m.reqId, from, result: m.result });
        return;
      case "rec-fail":
        this.runInput(m.run, { kind: "failed", reqId: m.reqId, from, error: m.error });
        return;
      case "store":
        void this.storeTransaction(m.dbId, m.records).then((error) => {
          this.hooks.send(from, encodeDbMessage({ t: "stored", commitId: m.commitId, ok: error === undefined, error: error ?? "" }));
        });
        return;
      case "stored":
        this.feedCommit({
          kind: "stored",
          nowMs: performance.now(),
          commitId: m.commitId,
          from,
          ok: m.ok,
          ...(m.ok ? {} : { error: m.error }),
        });
        return;
      case "recovered":
        if (from === this.hooks.leader()) this.seamDone(m.generation);
        return;
    }
  }

  // ---- a node's side of recovery ----

  private serialised<T>(dbId: number, work: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(dbId) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.then(
      () => {},
      () => {},
    );
    this.queues.set(dbId, tail);
    void tail.then(() => {
      if (this.queues.get(dbId) === tail) this.queues.delete(dbId);
    });
    return next;
  }

  /** Opens a TDB transaction, waiting a while for a client that holds the lock. */
  private async beginTransaction(db: LocalDb): Promise<void> {
    const until = performance.now() + LOCK_WAIT_MS;
    for (;;) {
      if (db.tdb.tryTransactionStart()) return;
      if (performance.now() >= until) throw new Error(`database ${db.name} stayed locked for ${LOCK_WAIT_MS} ms`);
      await sleep(LOCK_RETRY_MS);
    }
  }

  private serveRecovery(req: RecoveryRequest): Promise<RecoveryResult | string> {
    const local = this.hooks.local;
    const decision = decideRecoveryRequest(this.part, req, (dbId) => {
      const db = local.get(dbId);
      return db === undefined ? undefined : dbInfo(db);
    });
    if (!decision.ok) return Promise.resolve(decision.error);
    const work = decision.work;
    const run = async (): Promise<RecoveryResult | string> => {
      try {
        return await this.doWork(work);
      } catch (err) {
        return (err as Error).message;
      }
    };
    if (work.kind === "dbmap") return run();
    const dbId = work.kind === "attach" ? work.db.dbId : work.dbId;
    return this.serialised(dbId, run);
  }

  private async doWork(work: RecoveryWork): Promise<RecoveryResult> {
    const local = this.hooks.local;
    if (work.kind === "dbmap") return { op: "dbmap", dbs: local.list().map(dbInfo) };
    if (work.kind === "attach") {
      const r = local.attach(work.db.name, kindOfFlags(work.db.flags));
      if (!r.ok) throw new Error(r.error);
      return { op: "attach" };
    }
    const db = local.get(work.dbId);
    if (db === undefined) throw new Error(`database 0x${work.dbId.toString(16)} is not attached`);
    switch (work.kind) {
      case "freeze": {
        // A transaction left by an earlier attempt (or a superseded recovery) is dropped.
        if (db.tdb.inTransaction) db.tdb.transactionCancel();
        await this.beginTransaction(db);
        const seq = db.kind === "volatile" ? 0n : seqnumFromValue(db.fetch(Buffer.from(DB_SEQNUM_KEY))?.value);
        return { op: "freeze", seqnum: seq };
      }
      case "pull": {
        const records: RecordCopy[] = [];
        db.traverse((key, rec) => {
          records.push({ key: Buffer.from(key), rsn: rec.header.rsn, dmaster: rec.header.dmaster, flags: rec.header.flags, data: Buffer.from(rec.value) });
        });
        return { op: "pull", records };
      }
      case "pull-none":
        return { op: "pull", records: [] };
      case "push": {
        if (!db.tdb.inTransaction) throw new Error(`database ${db.name} has no recovery transaction open`);
        db.tdb.wipe();
        for (const r of work.records) db.store(r.key, { rsn: r.rsn, dmaster: r.dmaster, reserved1: 0, flags: r.flags }, r.data);
        return { op: "push", count: work.records.length };
      }
      case "thaw":
        if (db.tdb.inTransaction) db.tdb.transactionCommit();
        return { op: "thaw" };
    }
  }

  // ---- persistent commits ----

  /** Answers TRANS3_COMMIT (now or later); false for any other control. */
  control(req: ReqControl, reply: Reply): boolean {
    if (req.opcode !== Control.TRANS3_COMMIT) return false;
    let buffer: ReturnType<typeof decodeRecBuffer>;
    try {
      buffer = decodeRecBuffer(req.data);
    } catch (err) {
      reply({ status: -1, data: Buffer.alloc(0), errmsg: `Bad TRANS3_COMMIT data: ${(err as Error).message}` });
      return true;
    }
    const db = this.hooks.local.get(buffer.dbId);
    if (db === undefined || db.kind === "volatile") {
      reply({ status: -1, data: Buffer.alloc(0), errmsg: `Unknown persistent database 0x${buffer.dbId.toString(16).padStart(8, "0")}` });
      return true;
    }
    const records: RecordCopy[] = [];
    for (const r of buffer.records) {
      if (r.data.length < LTDB_HEADER_SIZE) {
        reply({ status: -1, data: Buffer.alloc(0), errmsg: "TRANS3_COMMIT record shorter than its header" });
        return true;
      }
      const h = decodeLtdbHeader(r.data.subarray(0, LTDB_HEADER_SIZE));
      records.push({ key: Buffer.from(r.key), rsn: h.rsn, dmaster: h.dmaster, flags: h.flags, data: Buffer.from(r.data.subarray(LTDB_HEADER_SIZE)) });
    }
    const commitId = this.nextCommitId++;
    this.commitReplies.set(commitId, reply);
    const nodes = this.hooks.activeNodes();
    this.feedCommit({
      kind: "commit",
      nowMs: performance.now(),
      commitId,
      dbId: buffer.dbId,
      records,
      recovering: this.seams.size > 0 || !writable(this.part, buffer.dbId),
      self: this.pnn,
      nodes,
      timeoutMs: (this.hooks.tunable("ControlTimeout") ?? 60) * 1000,
    });
    return true;
  }

  private feedCommit(input: CommitInput): void {
    this.applyCommit(stepCommit(this.commits, input));
  }

  private applyCommit(effects: CommitEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case "store":
          if (e.to === this.pnn) {
            void this.storeTransaction(e.dbId, e.records).then((error) =>
              this.feedCommit({
                kind: "stored",
                nowMs: performance.now(),
                commitId: e.commitId,
                from: this.pnn,
                ok: error === undefined,
                ...(error === undefined ? {} : { error }),
              }),
            );
          } else if (!this.hooks.send(e.to, encodeDbMessage({ t: "store", commitId: e.commitId, dbId: e.dbId, records: e.records }))) {
            setImmediate(() => this.feedCommit({ kind: "stored", nowMs: performance.now(), commitId: e.commitId, from: e.to, ok: false, error: "not connected" }));
          }
          break;
        case "reply": {
          const reply = this.commitReplies.get(e.commitId);
          this.commitReplies.delete(e.commitId);
          reply?.({ status: e.status, data: Buffer.alloc(0), errmsg: e.error ?? "" });
          break;
        }
        case "force-recovery":
          this.hooks.log("error", `Persistent commit: ${e.reason}; asking for a recovery`);
          this.hooks.forceRecovery(e.reason);
          break;
        case "wake-at":
          clearTimeout(this.commitTimer);
          this.commitTimer = setTimeout(() => this.feedCommit({ kind: "tick", nowMs: performance.now() }), Math.max(0, e.atMs - performance.now()));
          this.commitTimer.unref();
          break;
      }
    }
  }

  /** Stores one transaction's records in one TDB transaction; an error message if it can not. */
  private storeTransaction(dbId: number, records: readonly RecordCopy[]): Promise<string | undefined> {
    return this.serialised(dbId, async () => {
      if (!writable(this.part, dbId)) return "recovery in progress";
      const db = this.hooks.local.get(dbId);
      if (db === undefined) return `database 0x${dbId.toString(16)} is not attached`;
      try {
        await this.beginTransaction(db);
      } catch (err) {
        return (err as Error).message;
      }
      try {
        if (!writable(this.part, dbId)) throw new Error("recovery in progress");
        const base = checkTransactionBase(seqnumFromValue(db.fetch(Buffer.from(DB_SEQNUM_KEY))?.value), records);
        if (base !== undefined) throw new Error(base);
        for (const r of records) {
          if (r.data.length === 0) db.delete(r.key);
          else db.store(r.key, { rsn: r.rsn, dmaster: r.dmaster, reserved1: 0, flags: r.flags }, r.data);
        }
        db.tdb.transactionCommit();
        return undefined;
      } catch (err) {
        if (db.tdb.inTransaction) db.tdb.transactionCancel();
        return (err as Error).message;
      }
    });
  }
}

function dbInfo(db: LocalDb): DbInfo {
  return { dbId: db.dbId, name: db.name, flags: db.flags };
}
