// Database recovery, run by the leader: the pure core. No I/O — it asks for
// work on nodes through `request` effects and hears back through `reply`
// inputs; a shell (the daemon, or the simulator) carries them.
//
// One run recovers every database known to any active node, all databases in
// parallel, each on its own track:
//   attach (nodes missing the database) → freeze (lock it and open a
//   transaction for this generation) → pull → push (wipe, then store the
//   merged records) → thaw (commit and unlock).
// Volatile databases pull from every active node and keep, per key, the copy
// with the highest RSN; persistent and replicated databases pull the whole
// database from the node whose sequence number is highest (its newest
// complete transaction), because their records only ever change by whole
// transactions and mixing keys from two nodes could mix two transactions.
// Records that are empty (deleted) are dropped from the result. Volatile
// records come back with the leader as their dmaster.
//
// Only the active nodes given at start take part: an inactive node is never
// asked for records, so a copy it kept of a record deleted since can not come
// back (CTDB bug 14294). A database track that fails is retried; a node that
// keeps causing failures earns ban credits and, at the end of a failed run,
// the worst offender is named for a ban of RecoveryBanPeriod.

import { DbFlag } from "../protocol/constants.ts";

/** CTDB's MIGRATED_WITH_DATA record flag: set on volatile records a recovery hands out. */
export const REC_FLAG_MIGRATED_WITH_DATA = 0x10000;

/** Attempts per database within one run (CTDB's recovery helper uses 3). */
export const DB_ATTEMPTS = 3;

export type DbKind = "volatile" | "persistent" | "replicated";

export interface DbInfo {
  dbId: number;
  name: string;
  /** CTDB's database flags (PERSISTENT, READONLY, STICKY, REPLICATED). */
  flags: number;
}

export function dbKind(flags: number): DbKind {
  if ((flags & DbFlag.PERSISTENT) !== 0) return "persistent";
  if ((flags & DbFlag.REPLICATED) !== 0) return "replicated";
  return "volatile";
}

/** One copy of one record, as a node holds it: CTDB's ltdb header fields and the value after the header. */
export interface RecordCopy {
  key: Buffer;
  rsn: bigint;
  dmaster: number;
  flags: number;
  data: Buffer;
}

export type RecoveryRequest =
  | { op: "dbmap" }
  | { op: "attach"; db: DbInfo }
  | { op: "freeze"; dbId: number; generation: number }
  | { op: "pull"; dbId: number }
  | { op: "push"; dbId: number; generation: number; records: readonly RecordCopy[] }
  | { op: "thaw"; dbId: number; generation: number };

export type RecoveryResult =
  | { op: "dbmap"; dbs: DbInfo[] }
  | { op: "attach" }
  /** Persistent and replicated databases report their sequence number; volatile ones 0. */
  | { op: "freeze"; seqnum: bigint }
  | { op: "pull"; records: RecordCopy[] }
  | { op: "push"; count: number }
  | { op: "thaw" };

export type RecoveryInput =
  | { kind: "reply"; reqId: number; from: number; result: RecoveryResult }
  | { kind: "failed"; reqId: number; from: number; error: string }
  /** A node taking part dropped out (died, disconnected, became inactive): the run is void. */
  | { kind: "node-lost"; pnn: number }
  /** The leader gave up leading, or membership moved on: stop where we are. */
  | { kind: "abort"; reason: string };

export type RecoveryEffect =
  | { kind: "request"; reqId: number; to: number; timeoutMs: number; req: RecoveryRequest }
  | { kind: "log"; level: "error" | "warning" | "notice" | "info"; message: string }
  /** The node that kept failing this run; the caller bans it (when bans are enabled and it is still active). */
  | { kind: "ban"; pnn: number; seconds: number; credits: number }
  | { kind: "done"; ok: boolean; recovered: number; failed: number; reason?: string };

export interface RecoveryOptions {
  generation: number;
  /** The leader's PNN: dmaster of every volatile record after recovery. */
  leader: number;
  /** Active nodes taking part, the leader among them. */
  nodes: readonly number[];
  /**
   * Nodes whose volatile records count (default: all taking part). A node
   * that was out of the cluster since the last recovery — even for a moment,
   * even if it never noticed — may hold copies of records deleted and purged
   * meanwhile: it is wiped and pushed like the others but not pulled from.
   */
  contributors?: readonly number[];
  /** Per-request limit, CTDB's RecoverTimeout. */
  timeoutMs: number;
  /** RecoveryBanPeriod, in seconds. */
  banSeconds: number;
}

type Step = "attach" | "freeze" | "pull" | "push" | "thaw" | "done" | "failed";

interface Merged {
  copy: RecordCopy;
  /** Node the copy came from (ties are broken on it, so reply order never matters). */
  from: number;
}

interface DbTrack {
  info: DbInfo;
  kind: DbKind;
  step: Step;
  attempt: number;
  /** Nodes whose reply for the current step is still awaited. */
  waiting: Set<number>;
  /** Nodes that did not list this database in their dbmap. */
  missing: number[];
  seqnums: Map<number, bigint>;
  merged: Map<string, Merged>;
}

export interface RecoveryRun {
  readonly opts: RecoveryOptions;
  phase: "dbmap" | "databases" | "finished";
  dbmaps: Map<number, DbInfo[]>;
  tracks: Map<number, DbTrack>;
  /** Ban credits per node, one per failure it caused in this run. */
  credits: Map<number, number>;
  /** Requests in flight: who was asked, for which database (undefined for dbmap). */
  pending: Map<number, { to: number; dbId: number | undefined; op: RecoveryRequest["op"] }>;
  nextReqId: number;
}

export function startRecovery(opts: RecoveryOptions): { run: RecoveryRun; effects: RecoveryEffect[] } {
  const run: RecoveryRun = {
    opts: { ...opts, nodes: [...new Set(opts.nodes)].sort((a, b) => a - b) },
    phase: "dbmap",
    dbmaps: new Map(),
    tracks: new Map(),
    credits: new Map(),
    pending: new Map(),
    nextReqId: 1,
  };
  const fx: RecoveryEffect[] = [];
  log(fx, "notice", `Recovery of generation ${opts.generation} on nodes [${run.opts.nodes.join(",")}]`);
  if (run.opts.nodes.length === 0) {
    finish(run, fx, false, "no active nodes");
    return { run, effects: fx };
  }
  for (const pnn of run.opts.nodes) request(run, fx, pnn, undefined, { op: "dbmap" });
  return { run, effects: fx };
}

export function stepRecovery(run: RecoveryRun, input: RecoveryInput): RecoveryEffect[] {
  const fx: RecoveryEffect[] = [];
  if (run.phase === "finished") return fx;
  switch (input.kind) {
    case "abort":
      finish(run, fx, false, input.reason);
      return fx;
    case "node-lost":
      if (run.opts.nodes.includes(input.pnn)) finish(run, fx, false, `node ${input.pnn} dropped out of recovery`);
      return fx;
    case "reply":
    case "failed": {
      const p = run.pending.get(input.reqId);
      // A reply to a request of an earlier attempt, or from the wrong node, is stale.
      if (p === undefined || p.to !== input.from) return fx;
      run.pending.delete(input.reqId);
      if (p.dbId === undefined) {
        onDbmap(run, fx, input);
        return fx;
      }
      const track = run.tracks.get(p.dbId);
      if (track === undefined || track.step === "done" || track.step === "failed") return fx;
      if (input.kind === "failed") {
        trackFailed(run, fx, track, input.from, `${p.op} on node ${input.from}: ${input.error}`);
      } else if (input.result.op !== p.op) {
        trackFailed(run, fx, track, input.from, `node ${input.from} answered ${p.op} with ${input.result.op}`);
      } else {
        onTrackReply(run, fx, track, input.from, input.result);
      }
      maybeFinish(run, fx);
      return fx;
    }
  }
}

function log(fx: RecoveryEffect[], level: "error" | "warning" | "notice" | "info", message: string): void {
  fx.push({ kind: "log", level, message });
}

function request(run: RecoveryRun, fx: RecoveryEffect[], to: number, dbId: number | undefined, req: RecoveryRequest): void {
  const reqId = run.nextReqId++;
  run.pending.set(reqId, { to, dbId, op: req.op });
  fx.push({ kind: "request", reqId, to, timeoutMs: run.opts.timeoutMs, req });
}

function credit(run: RecoveryRun, pnn: number): void {
  run.credits.set(pnn, (run.credits.get(pnn) ?? 0) + 1);
}

function onDbmap(run: RecoveryRun, fx: RecoveryEffect[], input: RecoveryInput & { kind: "reply" | "failed" }): void {
  if (input.kind === "failed" || input.result.op !== "dbmap") {
    credit(run, input.from);
    const why = input.kind === "failed" ? input.error : `answered dbmap with ${input.result.op}`;
    finish(run, fx, false, `dbmap from node ${input.from} failed: ${why}`);
    banWorst(run, fx);
    return;
  }
  run.dbmaps.set(input.from, input.result.dbs);
  if (run.dbmaps.size < run.opts.nodes.length) return;
  // Every database any active node has, first seen wins for name and flags;
  // a node that lacks one attaches it before the freeze.
  const all = new Map<number, DbInfo>();
  for (const pnn of run.opts.nodes) {
    for (const db of run.dbmaps.get(pnn) ?? []) if (!all.has(db.dbId)) all.set(db.dbId, db);
  }
  run.phase = "databases";
  for (const info of [...all.values()].sort((a, b) => a.dbId - b.dbId)) {
    const missing = run.opts.nodes.filter((pnn) => !(run.dbmaps.get(pnn) ?? []).some((d) => d.dbId === info.dbId));
    const track: DbTrack = {
      info,
      kind: dbKind(info.flags),
      step: "attach",
      attempt: 1,
      waiting: new Set(),
      missing,
      seqnums: new Map(),
      merged: new Map(),
    };
    run.tracks.set(info.dbId, track);
    log(fx, "info", `Recover database ${info.name} (0x${info.dbId.toString(16).padStart(8, "0")})`);
    beginTrack(run, fx, track);
  }
  maybeFinish(run, fx);
}

function beginTrack(run: RecoveryRun, fx: RecoveryEffect[], track: DbTrack): void {
  track.seqnums.clear();
  track.merged.clear();
  if (track.missing.length > 0) {
    track.step = "attach";
    track.waiting = new Set(track.missing);
    for (const pnn of track.missing) request(run, fx, pnn, track.info.dbId, { op: "attach", db: track.info });
    return;
  }
  freeze(run, fx, track);
}

function freeze(run: RecoveryRun, fx: RecoveryEffect[], track: DbTrack): void {
  track.step = "freeze";
  track.waiting = new Set(run.opts.nodes);
  const { generation } = run.opts;
  for (const pnn of run.opts.nodes) request(run, fx, pnn, track.info.dbId, { op: "freeze", dbId: track.info.dbId, generation });
}

/** The node a persistent or replicated database is taken from: highest sequence number, lowest PNN on a tie. */
export function highestSeqnumNode(seqnums: ReadonlyMap<number, bigint>): number | undefined {
  let best: number | undefined;
  let bestSeq = -1n;
  for (const [pnn, seq] of [...seqnums].sort((a, b) => a[0] - b[0])) {
    if (seq > bestSeq) {
      best = pnn;
      bestSeq = seq;
    }
  }
  return best;
}

/**
 * Whether copy `a` from node `aFrom` beats copy `b` from node `bFrom`: the
 * higher RSN wins; on equal RSNs the copy its holder owns (header dmaster is
 * the holder) wins, then the lower PNN — a total order, so the merged result
 * does not depend on the order replies arrive in.
 */
export function newerCopy(a: RecordCopy, aFrom: number, b: RecordCopy, bFrom: number): boolean {
  if (a.rsn !== b.rsn) return a.rsn > b.rsn;
  const aOwn = a.dmaster === aFrom;
  const bOwn = b.dmaster === bFrom;
  if (aOwn !== bOwn) return aOwn;
  return aFrom < bFrom;
}

function mergeVolatile(track: DbTrack, from: number, records: readonly RecordCopy[]): void {
  const merged = track.merged;
  for (const copy of records) {
    const k = copy.key.toString("latin1");
    const prev = merged.get(k);
    if (prev === undefined || newerCopy(copy, from, prev.copy, prev.from)) merged.set(k, { copy, from });
  }
}

/** The records to push: empty ones dropped; volatile ones owned by the leader. */
export function recoveredRecords(kind: DbKind, leader: number, copies: Iterable<RecordCopy>): RecordCopy[] {
  const out: RecordCopy[] = [];
  for (const c of copies) {
    if (c.data.length === 0) continue;
    out.push(kind === "volatile" ? { ...c, dmaster: leader, flags: c.flags | REC_FLAG_MIGRATED_WITH_DATA } : c);
  }
  return out;
}

function onTrackReply(run: RecoveryRun, fx: RecoveryEffect[], track: DbTrack, from: number, result: RecoveryResult): void {
  if (!track.waiting.delete(from)) return;
  const dbId = track.info.dbId;
  const { generation } = run.opts;
  switch (result.op) {
    case "attach":
      if (track.step === "attach" && track.waiting.size === 0) {
        track.missing = [];
        freeze(run, fx, track);
      }
      return;
    case "freeze":
      track.seqnums.set(from, result.seqnum);
      if (track.waiting.size > 0) return;
      track.step = "pull";
      if (track.kind === "volatile") {
        const from = volatileSources(run.opts);
        track.waiting = new Set(from);
        for (const pnn of from) request(run, fx, pnn, dbId, { op: "pull", dbId });
        if (from.length === 0) pushMerged(run, fx, track);
      } else {
        const source = highestSeqnumNode(track.seqnums) as number;
        log(fx, "info", `Pull ${track.info.name} from node ${source} with sequence number ${track.seqnums.get(source)}`);
        track.waiting = new Set([source]);
        request(run, fx, source, dbId, { op: "pull", dbId });
      }
      return;
    case "pull":
      if (track.kind === "volatile") mergeVolatile(track, from, result.records);
      else for (const copy of result.records) track.merged.set(copy.key.toString("latin1"), { copy, from });
      if (track.waiting.size > 0) return;
      pushMerged(run, fx, track);
      return;
    case "push":
      if (track.waiting.size > 0) return;
      track.step = "thaw";
      track.waiting = new Set(run.opts.nodes);
      for (const pnn of run.opts.nodes) request(run, fx, pnn, dbId, { op: "thaw", dbId, generation });
      return;
    case "thaw":
      if (track.waiting.size > 0) return;
      track.step = "done";
      return;
    case "dbmap":
      return;
  }
}

function volatileSources(opts: RecoveryOptions): readonly number[] {
  if (opts.contributors === undefined) return opts.nodes;
  const allowed = new Set(opts.contributors);
  return opts.nodes.filter((pnn) => allowed.has(pnn));
}

function pushMerged(run: RecoveryRun, fx: RecoveryEffect[], track: DbTrack): void {
  const records = recoveredRecords(track.kind, run.opts.leader, [...track.merged.values()].map((m) => m.copy));
  track.merged.clear();
  track.step = "push";
  track.waiting = new Set(run.opts.nodes);
  const { generation } = run.opts;
  const dbId = track.info.dbId;
  for (const pnn of run.opts.nodes) request(run, fx, pnn, dbId, { op: "push", dbId, generation, records });
}

function trackFailed(run: RecoveryRun, fx: RecoveryEffect[], track: DbTrack, culprit: number, why: string): void {
  credit(run, culprit);
  // Replies still owed for the failed attempt are dropped when they come.
  for (const [reqId, p] of run.pending) if (p.dbId === track.info.dbId) run.pending.delete(reqId);
  if (track.attempt >= DB_ATTEMPTS) {
    track.step = "failed";
    log(fx, "error", `Recovery of database ${track.info.name} failed after ${track.attempt} attempts: ${why}`);
    return;
  }
  track.attempt++;
  log(fx, "warning", `Recovery of database ${track.info.name} failed (${why}); attempt ${track.attempt}`);
  beginTrack(run, fx, track);
}

function maybeFinish(run: RecoveryRun, fx: RecoveryEffect[]): void {
  if (run.phase !== "databases") return;
  let failed = 0;
  let recovered = 0;
  for (const t of run.tracks.values()) {
    if (t.step === "failed") failed++;
    else if (t.step === "done") recovered++;
    else return;
  }
  log(fx, failed > 0 ? "error" : "notice", `${recovered} of ${run.tracks.size} databases recovered`);
  if (failed > 0) {
    finish(run, fx, false, `${failed} databases failed to recover`);
    banWorst(run, fx);
  } else {
    finish(run, fx, true);
  }
}

/** CTDB bans the node with the most credits once it has failed as often as a database may be tried. */
function banWorst(run: RecoveryRun, fx: RecoveryEffect[]): void {
  let worst: number | undefined;
  let most = 0;
  for (const [pnn, n] of [...run.credits].sort((a, b) => a[0] - b[0])) {
    if (n > most) {
      worst = pnn;
      most = n;
    }
  }
  if (worst === undefined || most < DB_ATTEMPTS) return;
  log(fx, "error", `Node ${worst} caused ${most} recovery failures: banning it for ${run.opts.banSeconds} seconds`);
  fx.push({ kind: "ban", pnn: worst, seconds: run.opts.banSeconds, credits: most });
}

function finish(run: RecoveryRun, fx: RecoveryEffect[], ok: boolean, reason?: string): void {
  if (run.phase === "finished") return;
  run.phase = "finished";
  run.pending.clear();
  let recovered = 0;
  let failed = 0;
  for (const t of run.tracks.values()) {
    if (t.step === "done") recovered++;
    else failed++;
  }
  if (!ok && reason !== undefined) log(fx, "error", `Recovery of generation ${run.opts.generation} failed: ${reason}`);
  fx.push(reason === undefined ? { kind: "done", ok, recovered, failed } : { kind: "done", ok, recovered, failed, reason });
}
