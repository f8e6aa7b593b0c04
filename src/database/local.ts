// A node's local copies of the clustered databases: one TDB file per database,
// `<dir>/<name>.<pnn>` in the directory ctdb.conf's [database] section names
// for its kind, every value prefixed by CTDB's 24-byte record header. This is
// the storage the other database components (migration, persistent
// transactions, recovery, vacuuming) build on; it decides nothing about the
// cluster.

import fs from "node:fs";
import path from "node:path";
import { DbFlag } from "../protocol/constants.ts";
import { decodeLtdbHeader, encodeLtdbHeader, LTDB_HEADER_SIZE, type LtdbHeader } from "../protocol/types.ts";
import { dbIdOf } from "./hash.ts";
import { Tdb, TdbFlag, tdbSupportsMutexes } from "./tdb.ts";

export type DbKind = "volatile" | "persistent" | "replicated";

export interface DatabaseDirs {
  volatile: string;
  persistent: string;
  state: string;
}

export interface LocalDatabasesOptions {
  pnn: number;
  dirs: DatabaseDirs;
  /** DatabaseHashSize tunable. */
  hashSize: number;
  /** DatabaseMaxDead tunable. */
  maxDead: number;
  /** ctdb.conf's `tdb mutexes`. */
  mutexes: boolean;
  log?: (level: "error" | "warning" | "notice" | "info", message: string) => void;
}

/** A record as CTDB stores it: header, then the value. */
export interface LtdbRecord {
  header: LtdbHeader;
  value: Buffer;
}

export { LTDB_HEADER_SIZE, type LtdbHeader };

/** Record header flags (CTDB_REC_FLAG_*). */
export const RecFlag = {
  MIGRATED_WITH_DATA: 0x00010000,
  VACUUM_MIGRATED: 0x00020000,
  AUTOMATIC: 0x00040000,
  RO_HAVE_DELEGATIONS: 0x01000000,
  RO_HAVE_READONLY: 0x02000000,
  RO_REVOKING_READONLY: 0x04000000,
  RO_REVOKE_COMPLETE: 0x08000000,
} as const;

export function kindOfFlags(dbFlags: number): DbKind {
  if ((dbFlags & DbFlag.PERSISTENT) !== 0) return "persistent";
  if ((dbFlags & DbFlag.REPLICATED) !== 0) return "replicated";
  return "volatile";
}

/**
 * The TDB flags a database of this kind is opened with, by the daemon and by
 * every client (what DB_OPEN_FLAGS answers), as CTDB's ctdb_db_tdb_flags.
 */
export function tdbFlagsFor(kind: DbKind, mutexes: boolean): number {
  let flags: number = TdbFlag.DEFAULT;
  if (kind !== "persistent") {
    flags = TdbFlag.NOSYNC | TdbFlag.CLEAR_IF_FIRST | TdbFlag.INCOMPATIBLE_HASH;
    if (kind === "volatile" && mutexes) flags |= TdbFlag.MUTEX_LOCKING;
  }
  return flags | TdbFlag.DISALLOW_NESTING;
}

export function encodeRecord(header: LtdbHeader, value: Buffer): Buffer {
  return Buffer.concat([encodeLtdbHeader(header), value]);
}

/** Header and value of a stored value; null when it is too short to carry a header. */
export function decodeRecord(stored: Buffer): LtdbRecord | null {
  if (stored.length < LTDB_HEADER_SIZE) return null;
  return { header: decodeLtdbHeader(stored.subarray(0, LTDB_HEADER_SIZE)), value: stored.subarray(LTDB_HEADER_SIZE) };
}

export interface DbStatistics {
  locks: { numCalls: number; numCurrent: number; numPending: number; numFailed: number };
  roDelegations: number;
  roRevokes: number;
  hopCountBuckets: number[];
  /** At most MAX_HOT_KEYS keys, each with the longest trip (hop count) a request for it took. */
  hotKeys: Map<string, { key: Buffer; count: number }>;
}

function emptyStatistics(): DbStatistics {
  return {
    locks: { numCalls: 0, numCurrent: 0, numPending: 0, numFailed: 0 },
    roDelegations: 0,
    roRevokes: 0,
    hopCountBuckets: new Array<number>(16).fill(0),
    hotKeys: new Map(),
  };
}

/** CTDB reports at most this many hot keys per database. */
export const MAX_HOT_KEYS = 10;

/** One attached database. */
export class LocalDb {
  /** DbFlag bits: kind plus READONLY / STICKY once set. */
  flags: number;
  unhealthyReason: string | null = null;
  seqnumEnabled = false;
  readonly statistics: DbStatistics = emptyStatistics();

  constructor(
    readonly dbId: number,
    readonly name: string,
    readonly kind: DbKind,
    readonly path: string,
    readonly tdbFlags: number,
    readonly tdb: Tdb,
  ) {
    this.flags = kind === "persistent" ? DbFlag.PERSISTENT : kind === "replicated" ? DbFlag.REPLICATED : 0;
  }

  get readonly(): boolean {
    return (this.flags & DbFlag.READONLY) !== 0;
  }

  get sticky(): boolean {
    return (this.flags & DbFlag.STICKY) !== 0;
  }

  /** The record under key, or null when absent (or shorter than a header). */
  fetch(key: Buffer): LtdbRecord | null {
    const stored = this.tdb.fetch(key);
    return stored === null ? null : decodeRecord(stored);
  }

  store(key: Buffer, header: LtdbHeader, value: Buffer): void {
    this.tdb.store(key, encodeRecord(header, value));
  }

  delete(key: Buffer): boolean {
    return this.tdb.delete(key);
  }

  /** Every record with its header; records too short for one are skipped. */
  traverse(visit: (key: Buffer, record: LtdbRecord) => unknown, readOnly = true): number {
    let n = 0;
    const walk = (key: Buffer, stored: Buffer) => {
      const rec = decodeRecord(stored);
      if (rec === null) return undefined;
      n++;
      return visit(key, rec);
    };
    if (readOnly) this.tdb.traverseRead(walk);
    else this.tdb.traverse(walk);
    return n;
  }

  /**
   * Notes how many hops a request for key took to reach this node as its
   * dmaster. As CTDB, the MAX_HOT_KEYS keys with the longest trips are kept
   * (a bounded list, whatever the number of keys).
   */
  noteHotKey(key: Buffer, hopcount: number): void {
    const hot = this.statistics.hotKeys;
    const id = key.toString("latin1");
    const entry = hot.get(id);
    if (entry !== undefined) {
      if (hopcount > entry.count) entry.count = hopcount;
      return;
    }
    if (hot.size < MAX_HOT_KEYS) {
      hot.set(id, { key: Buffer.from(key), count: hopcount });
      return;
    }
    let coldest: string | undefined;
    for (const [k, e] of hot) if (coldest === undefined || e.count < hot.get(coldest)!.count) coldest = k;
    if (coldest !== undefined && hot.get(coldest)!.count < hopcount) {
      hot.delete(coldest);
      hot.set(id, { key: Buffer.from(key), count: hopcount });
    }
  }

  /** The hot keys, longest trip first. */
  hotKeys(): { key: Buffer; count: number }[] {
    return [...this.statistics.hotKeys.values()].sort((a, b) => b.count - a.count);
  }

  /** TDB's sequence number; GET_DB_SEQNUM of a persistent database reads its record instead. */
  enableSeqnum(): void {
    if (!this.seqnumEnabled) this.tdb.enableSeqnum();
    this.seqnumEnabled = true;
  }
}

export type AttachResult = { ok: true; db: LocalDb; created: boolean } | { ok: false; error: string };

export class LocalDatabases {
  private readonly byId = new Map<number, LocalDb>();
  private readonly mutexes: boolean;
  private readonly log: NonNullable<LocalDatabasesOptions["log"]>;

  constructor(private readonly opts: LocalDatabasesOptions) {
    this.log = opts.log ?? (() => {});
    let mutexes = opts.mutexes;
    if (mutexes && !tdbSupportsMutexes()) {
      this.log("warning", "tdb mutexes requested but this system lacks robust mutexes; using fcntl locks");
      mutexes = false;
    }
    this.mutexes = mutexes;
  }

  directoryFor(kind: DbKind): string {
    const d = this.opts.dirs;
    // CTDB keeps replicated databases with the volatile ones; the state
    // directory is for the daemon's own bookkeeping.
    return kind === "persistent" ? d.persistent : d.volatile;
  }

  pathFor(name: string, kind: DbKind): string {
    return path.join(this.directoryFor(kind), `${name}.${this.opts.pnn}`);
  }

  get(dbId: number): LocalDb | undefined {
    return this.byId.get(dbId >>> 0);
  }

  byName(name: string): LocalDb | undefined {
    return this.get(dbIdOf(name));
  }

  /** Attached databases, the most recently attached first (the order of CTDB's GET_DBMAP). */
  list(): LocalDb[] {
    return [...this.byId.values()].reverse();
  }

  /**
   * Attaches (opening or creating the file) or finds an attached database.
   * A volatile or replicated database starts empty: what its file held
   * belongs to a previous run of the daemon and may be stale.
   */
  attach(name: string, kind: DbKind): AttachResult {
    if (name === "" || name.includes("/")) return { ok: false, error: `invalid database name "${name}"` };
    const dbId = dbIdOf(name);
    const existing = this.byId.get(dbId);
    if (existing !== undefined) {
      if (existing.name !== name) {
        return { ok: false, error: `db_id 0x${dbId.toString(16)} hash collision: "${existing.name}" and "${name}"` };
      }
      if (existing.kind !== kind) {
        return { ok: false, error: `database ${name} is ${existing.kind}, not ${kind}` };
      }
      return { ok: true, db: existing, created: false };
    }
    const file = this.pathFor(name, kind);
    const tdbFlags = tdbFlagsFor(kind, this.mutexes);
    let tdb: Tdb;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      tdb = Tdb.open(file, { hashSize: this.opts.hashSize, tdbFlags });
      if (kind !== "persistent") {
        let stale = false;
        tdb.traverseRead(() => {
          stale = true;
          return false;
        });
        if (stale) {
          this.log("notice", `Wiping stale records of ${kind} database ${name} left by an earlier run`);
          tdb.wipe();
        }
      }
      tdb.setMaxDead(this.opts.maxDead);
    } catch (err) {
      return { ok: false, error: `cannot open database ${name} (${file}): ${(err as Error).message}` };
    }
    const db = new LocalDb(dbId, name, kind, file, tdbFlags, tdb);
    this.byId.set(dbId, db);
    this.log("info", `Attached to database '${file}'`);
    return { ok: true, db, created: true };
  }

  /** Attaches every persistent database already in the persistent directory (names `*.tdb.<pnn>`). */
  attachExistingPersistent(): string[] {
    const errors: string[] = [];
    let entries: string[];
    try {
      entries = fs.readdirSync(this.opts.dirs.persistent);
    } catch {
      return errors;
    }
    const suffix = `.${this.opts.pnn}`;
    for (const entry of entries.sort()) {
      const m = /^(.+\.tdb)\.([0-9]+)$/.exec(entry);
      if (m === null || !entry.endsWith(suffix) || Number(m[2]) !== this.opts.pnn) continue;
      const r = this.attach(m[1]!, "persistent");
      if (!r.ok) errors.push(r.error);
    }
    return errors;
  }

  detach(dbId: number): boolean {
    const db = this.byId.get(dbId >>> 0);
    if (db === undefined) return false;
    this.byId.delete(db.dbId);
    db.tdb.close();
    return true;
  }

  close(): void {
    for (const db of this.byId.values()) {
      try {
        db.tdb.close();
      } catch (err) {
        this.log("error", (err as Error).message);
      }
    }
    this.byId.clear();
  }
}
