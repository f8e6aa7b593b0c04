// The database simulator: clustered databases on N nodes under faults, with
// virtual time from one seed. It runs the real recovery cores — the leader's
// (database/recovery.ts), each node's (database/recovery-node.ts) and the
// persistent commit core (database/persistent.ts) — and models only the
// world around them: node storage as TDB behaves (a transaction is all or
// nothing, persistent files survive a restart, volatile ones do not), the
// links between nodes, and membership as the cluster core settles it (the
// leader is the lowest eligible node of the partition holding a majority;
// the active nodes are its members that are neither stopped nor banned).
//
// Clients commit persistent transactions (holding the database's g_lock, one
// at a time per database, as smbd and the ctdb tool do), store and delete
// volatile records, and the vacuum purges deleted volatile records from the
// active nodes. Meanwhile nodes die, restart, are stopped and continued,
// links are cut and healed, and disks fail for a while (failing recoveries
// earn ban credits and bans).
//
// After every completed recovery the checker demands: every active node holds
// the same records in every database (no divergence); every volatile record
// has the leader as its one dmaster; every committed persistent transaction
// is on every active node unless none of the nodes holding it took part in a
// recovery since; every node's persistent database is exactly the replay of
// its transaction history (a transaction is stored whole or not at all); and
// no volatile value overwritten or deleted before a purge comes back.

import {
  type CommitEffect,
  type CommitState,
  CommitStatus,
  checkTransactionBase,
  initialCommitState,
  seqnumFromValue,
  stepCommit,
} from "../database/persistent.ts";
import {
  type DbInfo,
  type RecordCopy,
  type RecoveryEffect,
  type RecoveryRequest,
  type RecoveryResult,
  type RecoveryRun,
  startRecovery,
  stepRecovery,
} from "../database/recovery.ts";
import {
  decideRecoveryRequest,
  initialNodeState,
  invalidateVolatile,
  type RecoveryNodeState,
  writable,
} from "../database/recovery-node.ts";
import { DB_SEQNUM_KEY, DbFlag } from "../protocol/constants.ts";
import { Prng } from "./prng.ts";
import { Scheduler } from "./scheduler.ts";

export const SIM_DBS: readonly DbInfo[] = [
  { dbId: 0x1a2b3c01, name: "locking.tdb", flags: 0 },
  { dbId: 0x1a2b3c02, name: "secrets.tdb", flags: DbFlag.PERSISTENT },
  { dbId: 0x1a2b3c03, name: "passdb.tdb", flags: DbFlag.PERSISTENT },
];
const VOLATILE = SIM_DBS[0]!;
const PERSISTENT = [SIM_DBS[1]!, SIM_DBS[2]!];
const HISTORY_KEY = "__sim_history__";
const KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"];
const BAN_SECONDS = 3;
const REQUEST_TIMEOUT_MS = 2000;
const COMMIT_TIMEOUT_MS = 3000;

/**
 * Test-only ways to break recovery on purpose, so a test can show the checker
 * notices: "include-inactive" lets stopped and banned nodes take part in
 * recovery; "keep-invalid-records" stops nodes from invalidating volatile
 * records when they become inactive; "all-contribute" lets the leader pull
 * volatile records from nodes that were out of the cluster since the last
 * recovery.
 */
export type DbSabotage = "include-inactive" | "keep-invalid-records" | "all-contribute";

export interface DbSimOptions {
  seed: number;
  nodes: number;
  /** Faults and client operations in the fault phase (default 60). */
  steps?: number;
  log?: boolean;
  sabotage?: DbSabotage;
}

export interface DbSimStats {
  virtualMs: number;
  recoveries: number;
  failedRecoveries: number;
  commitsTried: number;
  committed: number;
  volatileWrites: number;
  purges: number;
  bans: number;
  faults: number;
  /** Recoveries that went ahead without the holders of some persistent transactions. */
  forks: number;
  /** Committed transactions the checker held every recovery to (never excused). */
  checkedCommits: number;
}

export interface DbSimResult {
  ok: boolean;
  seed: number;
  failure?: string;
  trace: string[];
  stats: DbSimStats;
}

type Msg =
  | { t: "rec-req"; run: number; reqId: number; req: RecoveryRequest }
  | { t: "rec-reply"; run: number; reqId: number; ok: true; result: RecoveryResult }
  | { t: "rec-reply"; run: number; reqId: number; ok: false; error: string }
  | { t: "store"; commitId: number; dbId: number; records: readonly RecordCopy[] }
  | { t: "stored"; commitId: number; ok: boolean; error?: string };

type Table = Map<string, RecordCopy>;

interface SimDbNode {
  pnn: number;
  alive: boolean;
  life: number;
  stopped: boolean;
  bannedUntil: number;
  /** Committed contents of each attached database. */
  stores: Map<number, Table>;
  /** Recovery transactions open between freeze and thaw. */
  txns: Map<number, Table>;
  attached: Map<number, DbInfo>;
  part: RecoveryNodeState;
  commits: CommitState;
  /** Recovery mode active: no client may commit. */
  recovering: boolean;
  /** The vnnmap this node last recovered into (the nodes a commit goes to). */
  vnnmap: number[];
  diskFailUntil: number;
  /** Whether this node was active at the last membership change. */
  wasActive: boolean;
}

interface Txn {
  id: number;
  dbId: number;
  node: number;
  writes: Map<string, Buffer>;
  seqnum: bigint;
  outcome: "pending" | "committed" | "aborted" | "unknown";
  /** Begun while its database's history was forked: either branch may win. */
  duringFork: boolean;
}

interface Pending {
  commitId: number;
  txn: Txn;
  life: number;
}

export class DbSim {
  readonly sched = new Scheduler(0);
  readonly nodes: SimDbNode[] = [];
  readonly stats: DbSimStats = {
    virtualMs: 0,
    recoveries: 0,
    failedRecoveries: 0,
    commitsTried: 0,
    committed: 0,
    volatileWrites: 0,
    purges: 0,
    bans: 0,
    faults: 0,
    forks: 0,
    checkedCommits: 0,
  };
  failure: string | undefined;
  private readonly rng: Prng;
  private readonly cuts = new Set<number>();
  private readonly lastArrival = new Map<number, number>();
  private readonly trace: string[] = [];
  private readonly keepAll: boolean;
  private generation = 1;
  private leader = -1;
  private active: number[] = [];
  /** Every live node of the leader's partition, inactive ones too. */
  private members: number[] = [];
  private run: RecoveryRun | undefined;
  private runId = 0;
  private runTimers = new Map<number, boolean>();
  private needRecovery = true;
  /** Nodes of the last successful recovery by this leader, active ever since. */
  private readonly lastRecovered = new Set<number>();
  private reconsiderAt = Number.POSITIVE_INFINITY;
  private readonly txns = new Map<number, Txn>();
  private nextTxn = 1;
  private nextCommitId = 1;
  private readonly gLocks = new Map<number, number>();
  private readonly pendingCommits = new Map<number, Pending>();
  private nextValue = 1;
  /** Per volatile key, values written before it was last purged: they must never return. */
  private readonly purged = new Map<string, Set<string>>();
  private readonly written = new Map<string, Set<string>>();
  /** Committed transactions allowed to be gone: no node holding them took part in some recovery. */
  private readonly lostAllowed = new Set<number>();
  /**
   * Persistent databases whose history forked: a recovery went ahead without
   * any node holding the newest transactions, so until every node has been
   * through one recovery together, the sequence numbers of two branches
   * decide which branch survives (as in CTDB) and transactions of the other
   * may go. Transactions committed there are checked again once reunited.
   */
  private readonly forked = new Map<number, Set<number>>();

  constructor(
    readonly seed: number,
    readonly n: number,
    readonly opts: { log?: boolean; sabotage?: DbSabotage; noticeMs?: number } = {},
  ) {
    this.rng = new Prng(seed);
    this.keepAll = opts.log === true;
    for (let pnn = 0; pnn < n; pnn++) {
      const node: SimDbNode = {
        pnn,
        alive: true,
        life: 0,
        stopped: false,
        bannedUntil: 0,
        stores: new Map(),
        txns: new Map(),
        attached: new Map(),
        part: initialNodeState(),
        commits: initialCommitState(),
        recovering: true,
        vnnmap: [],
        diskFailUntil: 0,
        wasActive: false,
      };
      this.nodes.push(node);
      this.attachPersistent(node);
    }
    this.membershipChanged();
  }

  get now(): number {
    return this.sched.nowMs;
  }

  log(text: string): void {
    const line = `${String(this.now).padStart(7)} ${text}`;
    if (this.keepAll) this.trace.push(line);
    else {
      this.trace.push(line);
      if (this.trace.length > 60) this.trace.shift();
    }
  }

  traceLines(): string[] {
    return [...this.trace];
  }

  fail(why: string): void {
    if (this.failure === undefined) {
      this.failure = why;
      this.log(`VIOLATION: ${why}`);
    }
  }

  // ---- storage as TDB behaves ----

  private attachPersistent(node: SimDbNode): void {
    for (const db of PERSISTENT) this.attach(node, db);
  }

  private attach(node: SimDbNode, db: DbInfo): void {
    if (node.attached.has(db.dbId)) return;
    node.attached.set(db.dbId, db);
    if (!node.stores.has(db.dbId)) node.stores.set(db.dbId, new Map());
  }

  private diskOk(node: SimDbNode): boolean {
    return this.now >= node.diskFailUntil;
  }

  // ---- links ----

  private pair(a: number, b: number): number {
    return a < b ? a * this.n + b : b * this.n + a;
  }

  private linked(a: number, b: number): boolean {
    return a === b || !this.cuts.has(this.pair(a, b));
  }

  /** Deliver in order per direction; undeliverable messages call `lost` instead. */
  private send(from: number, to: number, msg: Msg, lost: () => void): void {
    const dir = from * this.n + to;
    const at = Math.max(this.now + 1 + this.rng.int(3), this.lastArrival.get(dir) ?? 0);
    this.lastArrival.set(dir, at);
    const fromLife = this.nodes[from]!.life;
    const toLife = this.nodes[to]!.life;
    this.sched.at(at, () => {
      const src = this.nodes[from]!;
      const dst = this.nodes[to]!;
      if (!src.alive || src.life !== fromLife) return;
      if (!dst.alive || dst.life !== toLife || !this.linked(from, to)) {
        lost();
        return;
      }
      this.deliver(to, from, msg);
    });
  }

  // ---- membership ----

  private inactive(node: SimDbNode): boolean {
    return node.stopped || this.now < node.bannedUntil;
  }

  /** The partition holding a majority of all nodes, its leader and its active nodes. */
  private view(): { leader: number; active: number[]; members: number[] } {
    const seen = new Set<number>();
    for (const start of this.nodes) {
      if (!start.alive || seen.has(start.pnn)) continue;
      const comp: number[] = [];
      const stack = [start.pnn];
      seen.add(start.pnn);
      while (stack.length > 0) {
        const p = stack.pop()!;
        comp.push(p);
        for (const q of this.nodes) {
          if (q.alive && !seen.has(q.pnn) && this.linked(p, q.pnn)) {
            seen.add(q.pnn);
            stack.push(q.pnn);
          }
        }
      }
      if (comp.length * 2 > this.n) {
        comp.sort((a, b) => a - b);
        const eligible = comp.filter((p) => !this.inactive(this.nodes[p]!));
        if (eligible.length === 0) return { leader: -1, active: [], members: comp };
        return { leader: eligible[0]!, active: eligible, members: comp };
      }
    }
    return { leader: -1, active: [], members: [] };
  }

  /** Something changed: the cluster core would notice within a detection delay. */
  membershipChanged(delayMs = 0): void {
    const at = this.now + delayMs;
    if (at >= this.reconsiderAt) return;
    this.reconsiderAt = at;
    this.sched.at(at, () => {
      if (this.reconsiderAt !== at) return;
      this.reconsiderAt = Number.POSITIVE_INFINITY;
      this.reconsider();
    });
  }

  private reconsider(): void {
    const v = this.view();
    for (const node of this.nodes) {
      const isActive = node.alive && v.active.includes(node.pnn);
      if (node.wasActive && !isActive) this.becameInactive(node);
      if (!isActive) this.lastRecovered.delete(node.pnn);
      node.wasActive = isActive;
    }
    // A new leader does not know who was in the last recovery.
    if (v.leader !== this.leader) this.lastRecovered.clear();
    const same = v.leader === this.leader && v.active.length === this.active.length && v.active.every((p, i) => p === this.active[i]);
    if (same && !this.needRecovery) return;
    if (this.run !== undefined) {
      this.feedRecovery(stepRecovery(this.run, { kind: "abort", reason: "membership changed" }));
    }
    this.leader = v.leader;
    this.active = v.active;
    this.members = v.members;
    this.needRecovery = true;
    if (v.leader < 0) {
      this.log("no leader");
      return;
    }
    this.beginRecovery();
  }

  /**
   * The cluster sees the node go inactive. The node itself notices a moment
   * later — if it is still out by then: one cut off briefly may never know.
   */
  private becameInactive(node: SimDbNode): void {
    node.recovering = true;
    this.log(`node ${node.pnn} inactive`);
    const life = node.life;
    this.sched.after(this.opts.noticeMs ?? this.rng.int(300), () => {
      if (!node.alive || node.life !== life || this.active.includes(node.pnn)) return;
      if (this.opts.sabotage !== "keep-invalid-records") invalidateVolatile(node.part, node.attached.values());
      this.log(`node ${node.pnn} knows it is inactive: volatile records invalid`);
    });
  }

  private beginRecovery(): void {
    this.generation++;
    this.stats.recoveries++;
    this.needRecovery = false;
    const id = ++this.runId;
    // Recovery mode on first (the lifecycle does this before the databases):
    // from now on no active node stores a commit.
    for (const p of this.active) this.nodes[p]!.recovering = true;
    this.allowLosses();
    const known = this.lastRecovered.size > 0 && this.opts.sabotage !== "all-contribute";
    const nodes = this.opts.sabotage === "include-inactive" ? this.members : this.active;
    const { run, effects } = startRecovery({
      generation: this.generation,
      leader: this.leader,
      nodes,
      ...(known ? { contributors: nodes.filter((p) => this.lastRecovered.has(p) || !this.active.includes(p)) } : {}),
      timeoutMs: REQUEST_TIMEOUT_MS,
      banSeconds: BAN_SECONDS,
    });
    this.run = run;
    this.log(`recovery ${id} gen ${this.generation} leader ${this.leader} nodes [${nodes.join(",")}]`);
    this.feedRecovery(effects);
  }

  /**
   * Before a recovery: a database forks when some node outside it holds a
   * transaction no participant holds (committed or not: a commit cut short
   * can leave one behind). Committed transactions no participant holds may
   * be lost from now on.
   */
  private allowLosses(): void {
    for (const db of PERSISTENT) {
      const held = new Set<number>();
      for (const p of this.active) for (const id of historyOf(this.nodes[p]!.stores.get(db.dbId))) held.add(id);
      let forks = false;
      for (const node of this.nodes) {
        if (historyOf(node.stores.get(db.dbId)).some((id) => !held.has(id))) forks = true;
      }
      for (const t of this.txns.values()) {
        if (t.dbId === db.dbId && t.outcome === "committed" && !held.has(t.id) && !this.lostAllowed.has(t.id)) {
          this.lostAllowed.add(t.id);
          this.log(`txn ${t.id} may be lost: no participant holds it`);
        }
      }
      if (forks && !this.forked.has(db.dbId)) {
        this.log(`${db.name} forks: nodes outside the recovery hold transactions its participants lack`);
        this.forked.set(db.dbId, new Set());
        this.stats.forks++;
        for (const p of this.pendingCommits.values()) if (p.txn.dbId === db.dbId) p.txn.duringFork = true;
      }
    }
    if (this.active.length === this.n) {
      // Every node takes part: the branches meet, one wins, and from now on
      // every commit counts again.
      for (const [dbId, during] of this.forked) {
        for (const id of during) this.lostAllowed.add(id);
        this.forked.delete(dbId);
      }
    }
  }

  private feedRecovery(effects: RecoveryEffect[]): void {
    const run = this.run;
    const id = this.runId;
    for (const e of effects) {
      switch (e.kind) {
        case "request": {
          const key = id * 1_000_000 + e.reqId;
          this.runTimers.set(key, true);
          this.send(this.leader, e.to, { t: "rec-req", run: id, reqId: e.reqId, req: e.req }, () => {
            this.recoveryInput(id, { kind: "failed", reqId: e.reqId, from: e.to, error: "connection lost" });
          });
          this.sched.after(e.timeoutMs, () => {
            if (this.runTimers.delete(key)) this.recoveryInput(id, { kind: "failed", reqId: e.reqId, from: e.to, error: "timed out" });
          });
          break;
        }
        case "log":
          if (e.level !== "info") this.log(`recovery: ${e.message}`);
          break;
        case "ban": {
          const node = this.nodes[e.pnn]!;
          if (node.alive && this.active.includes(e.pnn)) {
            node.bannedUntil = this.now + e.seconds * 1000;
            this.stats.bans++;
            this.log(`node ${e.pnn} banned for ${e.seconds} s`);
            this.membershipChanged(0);
            this.sched.at(node.bannedUntil, () => this.membershipChanged(0));
          }
          break;
        }
        case "done":
          if (run === this.run) this.recoveryDone(e.ok, e.reason);
          break;
      }
    }
  }

  private recoveryInput(id: number, input: Parameters<typeof stepRecovery>[1]): void {
    if (id !== this.runId || this.run === undefined) return;
    if (input.kind === "reply" || input.kind === "failed") this.runTimers.delete(id * 1_000_000 + input.reqId);
    this.feedRecovery(stepRecovery(this.run, input));
  }

  private recoveryDone(ok: boolean, reason: string | undefined): void {
    const nodes = this.run?.opts.nodes ?? [];
    this.run = undefined;
    if (!ok) {
      this.stats.failedRecoveries++;
      this.log(`recovery failed: ${reason ?? ""}`);
      if (reason !== "membership changed") {
        this.needRecovery = true;
        this.membershipChanged(500);
      }
      return;
    }
    this.log(`recovery done gen ${this.generation}`);
    for (const p of nodes) this.lastRecovered.add(p);
    for (const p of this.active) {
      const node = this.nodes[p]!;
      node.recovering = false;
      node.vnnmap = [...this.active];
      this.feedCommit(node, { kind: "recovered", nowMs: this.now });
    }
    this.checkRecovered();
  }

  // ---- a node handling messages ----

  private deliver(to: number, from: number, msg: Msg): void {
    const node = this.nodes[to]!;
    switch (msg.t) {
      case "rec-req":
        this.handleRecoveryRequest(node, from, msg.run, msg.reqId, msg.req);
        return;
      case "rec-reply":
        if (msg.ok) this.recoveryInput(msg.run, { kind: "reply", reqId: msg.reqId, from, result: msg.result });
        else this.recoveryInput(msg.run, { kind: "failed", reqId: msg.reqId, from, error: msg.error });
        return;
      case "store":
        this.handleStore(node, from, msg.commitId, msg.dbId, msg.records);
        return;
      case "stored":
        this.feedCommit(node, {
          kind: "stored",
          nowMs: this.now,
          commitId: msg.commitId,
          from,
          ok: msg.ok,
          ...(msg.error === undefined ? {} : { error: msg.error }),
        });
        return;
    }
  }

  private handleRecoveryRequest(node: SimDbNode, from: number, run: number, reqId: number, req: RecoveryRequest): void {
    const answer = (m: Msg) => this.send(node.pnn, from, m, () => {});
    const decision = decideRecoveryRequest(node.part, req, (dbId) => node.attached.get(dbId));
    if (!decision.ok) {
      answer({ t: "rec-reply", run, reqId, ok: false, error: decision.error });
      return;
    }
    if (!this.diskOk(node) && decision.work.kind !== "dbmap") {
      answer({ t: "rec-reply", run, reqId, ok: false, error: "I/O error" });
      return;
    }
    const w = decision.work;
    let result: RecoveryResult;
    switch (w.kind) {
      case "dbmap":
        result = { op: "dbmap", dbs: [...node.attached.values()] };
        break;
      case "attach":
        this.attach(node, w.db);
        result = { op: "attach" };
        break;
      case "freeze": {
        const store = node.stores.get(w.dbId)!;
        node.txns.set(w.dbId, new Map(store));
        result = { op: "freeze", seqnum: seqnumOf(store) };
        break;
      }
      case "pull":
        result = { op: "pull", records: [...node.stores.get(w.dbId)!.values()] };
        break;
      case "pull-none":
        result = { op: "pull", records: [] };
        break;
      case "push": {
        const t = new Map<string, RecordCopy>();
        for (const r of w.records) t.set(r.key.toString("latin1"), r);
        node.txns.set(w.dbId, t);
        result = { op: "push", count: t.size };
        break;
      }
      case "thaw": {
        const t = node.txns.get(w.dbId);
        if (t !== undefined) node.stores.set(w.dbId, t);
        node.txns.delete(w.dbId);
        result = { op: "thaw" };
        break;
      }
    }
    answer({ t: "rec-reply", run, reqId, ok: true, result });
  }

  private handleStore(node: SimDbNode, from: number, commitId: number, dbId: number, records: readonly RecordCopy[]): void {
    const reply = (ok: boolean, error?: string) =>
      this.send(node.pnn, from, { t: "stored", commitId, ok, ...(error === undefined ? {} : { error }) }, () => {});
    if (node.recovering || !writable(node.part, dbId)) return reply(false, "recovery in progress");
    if (!this.diskOk(node)) return reply(false, "I/O error");
    const store = node.stores.get(dbId);
    if (store === undefined) return reply(false, "database not attached");
    const base = checkTransactionBase(seqnumOf(store), records);
    if (base !== undefined) return reply(false, base);
    // One TDB transaction: every record or none.
    const next = new Map(store);
    for (const r of records) {
      const k = r.key.toString("latin1");
      if (r.data.length === 0) next.delete(k);
      else next.set(k, r);
    }
    node.stores.set(dbId, next);
    this.checkReplay(node, dbId);
    reply(true);
  }

  private feedCommit(node: SimDbNode, input: Parameters<typeof stepCommit>[1]): void {
    this.applyCommitEffects(node, stepCommit(node.commits, input));
  }

  private applyCommitEffects(node: SimDbNode, effects: CommitEffect[]): void {
    const life = node.life;
    for (const e of effects) {
      switch (e.kind) {
        case "store":
          this.send(node.pnn, e.to, { t: "store", commitId: e.commitId, dbId: e.dbId, records: e.records }, () => {
            if (node.life === life) this.feedCommit(node, { kind: "node-lost", nowMs: this.now, pnn: e.to });
          });
          break;
        case "reply":
          this.commitAnswered(e.commitId, e.status);
          break;
        case "force-recovery":
          this.log(`node ${node.pnn} asks for recovery: ${e.reason}`);
          this.needRecovery = true;
          this.membershipChanged(10);
          break;
        case "wake-at":
          this.sched.at(e.atMs, () => {
            if (node.alive && node.life === life) this.feedCommit(node, { kind: "tick", nowMs: this.now });
          });
          break;
      }
    }
  }

  // ---- clients ----

  /** A client on `pnn` runs one persistent transaction; false if it can not start. */
  transaction(pnn: number, db: DbInfo, writes: Map<string, Buffer>): boolean {
    const node = this.nodes[pnn]!;
    if (!node.alive || node.recovering || this.gLocks.has(db.dbId)) return false;
    const store = node.stores.get(db.dbId);
    if (store === undefined) return false;
    this.gLocks.set(db.dbId, pnn);
    const seqnum = seqnumOf(store) + 1n;
    const txn: Txn = { id: this.nextTxn++, dbId: db.dbId, node: pnn, writes, seqnum, outcome: "pending", duringFork: this.forked.has(db.dbId) };
    this.txns.set(txn.id, txn);
    const records: RecordCopy[] = [];
    const put = (key: string, data: Buffer) => {
      const old = store.get(key);
      records.push({ key: Buffer.from(key, "latin1"), rsn: (old?.rsn ?? 0n) + 1n, dmaster: pnn, flags: 0, data });
    };
    for (const [k, v] of writes) put(k, v);
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64LE(seqnum);
    put(DB_SEQNUM_KEY, seq);
    put(HISTORY_KEY, Buffer.from([...historyOf(store), txn.id].join(","), "latin1"));
    const commitId = this.nextCommitId++;
    this.pendingCommits.set(commitId, { commitId, txn, life: node.life });
    this.stats.commitsTried++;
    this.log(`txn ${txn.id} on node ${pnn} db ${db.name} seq ${seqnum}: ${[...writes].map(([k, v]) => `${k}=${v.toString() || "<del>"}`).join(" ")}`);
    this.feedCommit(node, {
      kind: "commit",
      nowMs: this.now,
      commitId,
      dbId: db.dbId,
      records,
      recovering: node.recovering,
      self: pnn,
      nodes: node.vnnmap,
      timeoutMs: COMMIT_TIMEOUT_MS,
    });
    return true;
  }

  private commitAnswered(commitId: number, status: number): void {
    const p = this.pendingCommits.get(commitId);
    if (p === undefined) return;
    this.pendingCommits.delete(commitId);
    const { txn } = p;
    const node = this.nodes[txn.node]!;
    if (status === CommitStatus.OK) {
      txn.outcome = "committed";
    } else if (status === CommitStatus.REFUSED) {
      txn.outcome = "aborted";
    } else {
      // As CTDB's client: re-read the sequence number to learn the outcome.
      const seq = seqnumOf(node.stores.get(txn.dbId));
      const last = historyOf(node.stores.get(txn.dbId)).at(-1);
      txn.outcome = seq === txn.seqnum && last === txn.id ? "committed" : "aborted";
      if (txn.outcome === "aborted" && seq >= txn.seqnum && !txn.duringFork) {
        this.fail(`txn ${txn.id}: sequence number ${seq} is past ${txn.seqnum} but the transaction is not the last one`);
      }
    }
    if (txn.outcome === "committed") {
      this.stats.committed++;
      if (txn.duringFork) this.lostAllowed.add(txn.id);
      this.forked.get(txn.dbId)?.add(txn.id);
    }
    this.log(`txn ${txn.id} ${txn.outcome} (status ${status})`);
    this.gLocks.delete(txn.dbId);
  }

  /** A client on `pnn` fetch-locks a volatile key and stores a value (empty: deletes it). */
  volatileStore(pnn: number, key: string, value: string): boolean {
    const node = this.nodes[pnn]!;
    if (!node.alive || node.recovering || !this.active.includes(pnn)) return false;
    this.attach(node, VOLATILE);
    if (!writable(node.part, VOLATILE.dbId)) return false;
    // Migration, done at once here: the dmaster hands the record over. The
    // record's single dmaster is what the checker holds recovery to.
    const owner = this.active.find((p) => this.nodes[p]!.stores.get(VOLATILE.dbId)?.get(key)?.dmaster === p);
    let rsn = node.stores.get(VOLATILE.dbId)!.get(key)?.rsn ?? 0n;
    if (owner !== undefined && owner !== pnn) {
      const o = this.nodes[owner]!;
      if (!writable(o.part, VOLATILE.dbId) || o.recovering) return false;
      const copy = o.stores.get(VOLATILE.dbId)!.get(key)!;
      o.stores.get(VOLATILE.dbId)!.set(key, { ...copy, dmaster: pnn });
      rsn = copy.rsn;
    } else if (owner === pnn) {
      rsn = node.stores.get(VOLATILE.dbId)!.get(key)!.rsn;
    }
    node.stores.get(VOLATILE.dbId)!.set(key, {
      key: Buffer.from(key, "latin1"),
      rsn: rsn + 1n,
      dmaster: pnn,
      flags: 0,
      data: Buffer.from(value, "latin1"),
    });
    if (value !== "") {
      const w = this.written.get(key) ?? new Set<string>();
      w.add(value);
      this.written.set(key, w);
    }
    this.stats.volatileWrites++;
    this.log(`node ${pnn} stores volatile ${key}=${value || "<del>"} rsn ${rsn + 1n}`);
    return true;
  }

  newValue(): string {
    return `v${this.nextValue++}`;
  }

  /** The vacuum purges a deleted volatile record from every active node, if its dmaster holds it empty. */
  vacuum(key: string): boolean {
    const owner = this.active.find((p) => this.nodes[p]!.stores.get(VOLATILE.dbId)?.get(key)?.dmaster === p);
    if (owner === undefined) return false;
    const copy = this.nodes[owner]!.stores.get(VOLATILE.dbId)!.get(key)!;
    if (copy.data.length !== 0) return false;
    if (this.active.some((p) => !writable(this.nodes[p]!.part, VOLATILE.dbId) || this.nodes[p]!.recovering)) return false;
    for (const p of this.active) this.nodes[p]!.stores.get(VOLATILE.dbId)?.delete(key);
    const gone = this.purged.get(key) ?? new Set<string>();
    for (const v of this.written.get(key) ?? []) gone.add(v);
    this.purged.set(key, gone);
    this.stats.purges++;
    this.log(`vacuum purged ${key} from [${this.active.join(",")}]`);
    return true;
  }

  // ---- faults ----

  kill(pnn: number): void {
    const node = this.nodes[pnn]!;
    if (!node.alive) return;
    node.alive = false;
    node.life++;
    // Open TDB transactions die with the process; volatile files are wiped at the next start.
    node.txns.clear();
    for (const [id, p] of this.pendingCommits) {
      if (p.txn.node === pnn) {
        this.pendingCommits.delete(id);
        p.txn.outcome = "unknown";
        this.gLocks.delete(p.txn.dbId);
        this.log(`txn ${p.txn.id}: its client died with node ${pnn}`);
      }
    }
    // Commits other nodes coordinate learn that this node went away.
    for (const other of this.nodes) {
      if (other.alive) this.feedCommit(other, { kind: "node-lost", nowMs: this.now, pnn });
    }
    this.log(`node ${pnn} killed`);
    this.membershipChanged(this.rng.range(0, 300));
  }

  restart(pnn: number): void {
    const node = this.nodes[pnn]!;
    if (node.alive) return;
    node.alive = true;
    node.life++;
    node.stopped = false;
    node.bannedUntil = 0;
    node.attached.clear();
    node.stores.delete(VOLATILE.dbId);
    node.part = initialNodeState();
    node.commits = initialCommitState();
    node.recovering = true;
    node.vnnmap = [];
    node.wasActive = false;
    this.attachPersistent(node);
    this.log(`node ${pnn} restarted`);
    this.membershipChanged(this.rng.range(0, 300));
  }

  stop(pnn: number): void {
    const node = this.nodes[pnn]!;
    if (!node.alive || node.stopped) return;
    node.stopped = true;
    this.log(`node ${pnn} stopped`);
    this.membershipChanged(0);
  }

  cont(pnn: number): void {
    const node = this.nodes[pnn]!;
    if (!node.alive || !node.stopped) return;
    node.stopped = false;
    this.log(`node ${pnn} continued`);
    this.membershipChanged(0);
  }

  cut(a: number, b: number): void {
    this.cuts.add(this.pair(a, b));
    this.log(`link ${a}-${b} cut`);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (this.nodes[x]!.alive) this.feedCommit(this.nodes[x]!, { kind: "node-lost", nowMs: this.now, pnn: y });
    }
    this.membershipChanged(this.rng.range(0, 300));
  }

  healAll(): void {
    this.cuts.clear();
    this.log("all links healed");
    this.membershipChanged(this.rng.range(0, 300));
  }

  diskFailure(pnn: number, forMs: number): void {
    this.nodes[pnn]!.diskFailUntil = this.now + forMs;
    this.log(`node ${pnn} disk fails for ${forMs} ms`);
  }

  /** Run until nothing is scheduled before `untilMs`. */
  runUntil(untilMs: number): void {
    while (this.failure === undefined) {
      const t = this.sched.peekTime();
      if (t === undefined || t > untilMs) break;
      this.sched.runNext();
    }
    if (this.sched.nowMs < untilMs) this.sched.nowMs = untilMs;
    this.stats.virtualMs = this.sched.nowMs;
  }

  /** Whether the last recovery finished and nothing waits for another. */
  settled(): boolean {
    return this.run === undefined && !this.needRecovery && this.leader >= 0;
  }

  // ---- reading state (tests and the checker) ----

  value(pnn: number, db: DbInfo, key: string): string | undefined {
    const r = this.nodes[pnn]!.stores.get(db.dbId)?.get(key);
    return r === undefined || r.data.length === 0 ? undefined : r.data.toString("latin1");
  }

  activeNodes(): readonly number[] {
    return this.active;
  }

  currentLeader(): number {
    return this.leader;
  }

  /** Whether a committed transaction was let off the check (its holders all missed a recovery, or its history forked). */
  excused(id: number): boolean {
    return this.lostAllowed.has(id);
  }

  committedTxns(): Txn[] {
    return [...this.txns.values()].filter((t) => t.outcome === "committed");
  }

  // ---- the checker ----

  private checkReplay(node: SimDbNode, dbId: number): void {
    const store = node.stores.get(dbId)!;
    const history = historyOf(store);
    const expect = new Map<string, string>();
    for (const id of history) {
      const t = this.txns.get(id);
      if (t === undefined || t.dbId !== dbId) {
        this.fail(`node ${node.pnn}: history names unknown transaction ${id}`);
        return;
      }
      for (const [k, v] of t.writes) {
        if (v.length === 0) expect.delete(k);
        else expect.set(k, v.toString("latin1"));
      }
    }
    if (seqnumOf(store) !== BigInt(history.length)) {
      this.fail(`node ${node.pnn} db ${dbId.toString(16)}: sequence number ${seqnumOf(store)} but ${history.length} transactions`);
      return;
    }
    for (const [k, r] of store) {
      if (k === DB_SEQNUM_KEY || k === HISTORY_KEY) continue;
      const want = expect.get(k);
      if (want !== r.data.toString("latin1")) {
        this.fail(`node ${node.pnn}: ${k}=${r.data.toString("latin1")} but its transactions give ${want ?? "nothing"}`);
        return;
      }
    }
    for (const k of expect.keys()) {
      if (!store.has(k)) {
        this.fail(`node ${node.pnn}: ${k} missing though its transactions wrote it`);
        return;
      }
    }
  }

  private checkRecovered(): void {
    const leader = this.nodes[this.leader]!;
    for (const db of SIM_DBS) {
      const ref = leader.stores.get(db.dbId);
      const refText = tableText(ref);
      for (const p of this.active) {
        const text = tableText(this.nodes[p]!.stores.get(db.dbId));
        if (text !== refText) {
          this.fail(`after recovery node ${p} and leader ${this.leader} differ on ${db.name}:\n  ${text}\n  ${refText}`);
          return;
        }
      }
      if (db === VOLATILE) {
        for (const [k, r] of ref ?? []) {
          if (r.dmaster !== this.leader) this.fail(`volatile ${k} has dmaster ${r.dmaster}, not the leader ${this.leader}`);
          if (this.purged.get(k)?.has(r.data.toString("latin1"))) {
            this.fail(`volatile ${k}=${r.data.toString("latin1")} came back after it was deleted and purged`);
          }
        }
      } else {
        for (const p of this.active) this.checkReplay(this.nodes[p]!, db.dbId);
        const history = new Set(historyOf(ref));
        for (const t of this.txns.values()) {
          const excused = this.lostAllowed.has(t.id) || this.forked.get(db.dbId)?.has(t.id) === true;
          if (t.dbId === db.dbId && t.outcome === "committed" && !excused && !history.has(t.id)) {
            this.fail(`committed txn ${t.id} on ${db.name} is missing after recovery on nodes [${this.active.join(",")}]`);
          }
        }
      }
    }
  }

  /** End of a run: every node back, links healed; the cluster must settle with everything checked. */
  quiesce(): void {
    this.healAll();
    for (const node of this.nodes) {
      if (!node.alive) this.restart(node.pnn);
      else if (node.stopped) this.cont(node.pnn);
      node.diskFailUntil = 0;
    }
    const until = this.now + (BAN_SECONDS + 20) * 1000;
    let step = this.now;
    while (this.failure === undefined && step < until) {
      step += 500;
      this.runUntil(step);
      if (this.settled() && this.pendingCommits.size === 0 && this.active.length === this.n) break;
    }
    if (this.failure !== undefined) return;
    if (!this.settled() || this.active.length !== this.n) {
      this.fail(`cluster did not settle: leader ${this.leader}, active [${this.active.join(",")}], recovery ${this.run === undefined ? "idle" : "running"}`);
    }
  }
}

export function seqnumOf(store: Table | undefined): bigint {
  return seqnumFromValue(store?.get(DB_SEQNUM_KEY)?.data);
}

function historyOf(store: Table | undefined): number[] {
  const r = store?.get(HISTORY_KEY);
  if (r === undefined || r.data.length === 0) return [];
  return r.data.toString("latin1").split(",").map(Number);
}

function tableText(t: Table | undefined): string {
  if (t === undefined) return "{}";
  return [...t.values()]
    .filter((r) => r.data.length > 0)
    .map((r) => `${r.key.toString("latin1")}@${r.rsn}/${r.dmaster}=${r.data.toString("latin1")}`)
    .sort()
    .join(" ");
}

/** One seeded run: faults and clients, then a quiet phase that must settle. */
export function simulateDatabases(o: DbSimOptions): DbSimResult {
  const sim = new DbSim(o.seed, o.nodes, {
    ...(o.log === undefined ? {} : { log: o.log }),
    ...(o.sabotage === undefined ? {} : { sabotage: o.sabotage }),
  });
  const rng = new Prng(o.seed ^ 0x3c6ef372);
  const steps = o.steps ?? 60;
  sim.runUntil(200);
  for (let i = 0; i < steps && sim.failure === undefined; i++) {
    const pnn = rng.int(o.nodes);
    const roll = rng.int(100);
    if (roll < 30) {
      const writes = new Map<string, Buffer>();
      const count = 1 + rng.int(3);
      for (let j = 0; j < count; j++) writes.set(rng.pick(KEYS), rng.chance(0.25) ? Buffer.alloc(0) : Buffer.from(`t${i}.${j}`));
      sim.transaction(pnn, rng.pick(PERSISTENT), writes);
    } else if (roll < 52) {
      const key = rng.pick(KEYS);
      const del = rng.chance(0.3);
      if (sim.volatileStore(pnn, key, del ? "" : sim.newValue()) && del && rng.chance(0.6)) sim.vacuum(key);
    } else if (roll < 58) {
      sim.vacuum(rng.pick(KEYS));
    } else {
      sim.stats.faults++;
      const f = rng.int(100);
      if (f < 20) sim.kill(pnn);
      else if (f < 40) sim.restart(pnn);
      else if (f < 52) sim.stop(pnn);
      else if (f < 64) sim.cont(pnn);
      else if (f < 80) sim.cut(pnn, rng.int(o.nodes));
      else if (f < 90) sim.healAll();
      else sim.diskFailure(pnn, rng.pick([200, 1500, 6000]));
    }
    sim.runUntil(sim.now + rng.pick([1, 5, 20, 100, 400, 1500]));
  }
  if (sim.failure === undefined) sim.quiesce();
  sim.stats.checkedCommits = sim.committedTxns().filter((t) => !sim.excused(t.id)).length;
  return {
    ok: sim.failure === undefined,
    seed: o.seed,
    ...(sim.failure === undefined ? {} : { failure: sim.failure }),
    trace: sim.traceLines(),
    stats: sim.stats,
  };
}
