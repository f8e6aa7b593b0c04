// Debian's libtdb (libtdb.so.1) through koffi: the one place that talks to
// TDB. CTDB's database files are TDB files that smbd and the `ctdb` tool open
// themselves, so they must be written by the real library, with its own
// locking; nothing here re-implements TDB.
//
// Every call is synchronous. The lock calls that could wait on another
// process (chain locks, lock-all, transactions) are offered non-blocking as
// well, so that the daemon never stalls its event loop behind an smbd.

import koffi, { type LibraryHandle, type TypeObject } from "koffi";
import { sysError } from "../lock/fcntl.ts";

/** tdb_open flags (tdb.h). */
export const TdbFlag = {
  DEFAULT: 0,
  CLEAR_IF_FIRST: 1,
  INTERNAL: 2,
  NOLOCK: 4,
  NOMMAP: 8,
  CONVERT: 16,
  BIGENDIAN: 32,
  NOSYNC: 64,
  SEQNUM: 128,
  VOLATILE: 256,
  ALLOW_NESTING: 512,
  DISALLOW_NESTING: 1024,
  INCOMPATIBLE_HASH: 2048,
  MUTEX_LOCKING: 4096,
} as const;

/** tdb_store flags. */
export const StoreMode = { REPLACE: 1, INSERT: 2, MODIFY: 3 } as const;

/** enum TDB_ERROR, by value. */
const TDB_ERRORS = [
  "TDB_SUCCESS",
  "TDB_ERR_CORRUPT",
  "TDB_ERR_IO",
  "TDB_ERR_LOCK",
  "TDB_ERR_OOM",
  "TDB_ERR_EXISTS",
  "TDB_ERR_NOLOCK",
  "TDB_ERR_LOCK_TIMEOUT",
  "TDB_ERR_NOEXIST",
  "TDB_ERR_EINVAL",
  "TDB_ERR_RDONLY",
  "TDB_ERR_NESTING",
] as const;
export type TdbErrorCode = (typeof TDB_ERRORS)[number] | "open";

/** A failed TDB call: what was attempted, on which file, and TDB's (or the system's) reason. */
export class TdbError extends Error {
  constructor(
    readonly code: TdbErrorCode,
    readonly path: string,
    readonly operation: string,
    reason: string,
  ) {
    super(`${operation} on ${path} failed: ${reason}`);
    this.name = "TdbError";
  }
}

type Ptr = unknown;
interface Datum {
  dptr: Buffer | Ptr | null;
  dsize: number;
}

interface Lib {
  open(name: string, hashSize: number, tdbFlags: number, openFlags: number, mode: number): Ptr | null;
  close(t: Ptr): number;
  fetch(t: Ptr, key: Datum): Datum;
  store(t: Ptr, key: Datum, value: Datum, flag: number): number;
  delete(t: Ptr, key: Datum): number;
  exists(t: Ptr, key: Datum): number;
  chainlock(t: Ptr, key: Datum): number;
  chainlockNonblock(t: Ptr, key: Datum): number;
  chainunlock(t: Ptr, key: Datum): number;
  chainlockRead(t: Ptr, key: Datum): number;
  chainunlockRead(t: Ptr, key: Datum): number;
  lockallNonblock(t: Ptr): number;
  unlockall(t: Ptr): number;
  traverse(t: Ptr, fn: unknown, priv: Ptr | null): number;
  traverseRead(t: Ptr, fn: unknown, priv: Ptr | null): number;
  transactionStart(t: Ptr): number;
  transactionStartNonblock(t: Ptr): number;
  transactionPrepareCommit(t: Ptr): number;
  transactionCommit(t: Ptr): number;
  transactionCancel(t: Ptr): number;
  transactionActive(t: Ptr): boolean;
  getSeqnum(t: Ptr): number;
  enableSeqnum(t: Ptr): void;
  wipeAll(t: Ptr): number;
  error(t: Ptr): number;
  errorstr(t: Ptr): string;
  getFlags(t: Ptr): number;
  addFlags(t: Ptr, flags: number): void;
  removeFlags(t: Ptr, flags: number): void;
  setMaxDead(t: Ptr, n: number): void;
  fd(t: Ptr): number;
  jenkinsHash(key: Datum): number;
  robustMutexes(): boolean;
  free(p: Ptr): void;
  traverseProto: unknown;
}

let lib: Lib | null = null;

function load(): Lib {
  if (lib !== null) return lib;
  let tdb: LibraryHandle;
  try {
    tdb = koffi.load("libtdb.so.1");
  } catch (err) {
    throw new Error(`cannot load libtdb.so.1 (install Debian's libtdb1): ${(err as Error).message}`);
  }
  const libc = koffi.load("libc.so.6");
  // TDB_DATA { unsigned char *dptr; size_t dsize; }, passed and returned by value.
  koffi.struct("TDB_DATA", { dptr: "void *", dsize: "size_t" });
  const traverseProto = koffi.proto("int tandem_tdb_traverse_fn(void *tdb, TDB_DATA key, TDB_DATA data, void *priv)");
  const f = (sig: string) => tdb.func(sig) as unknown as never;
  lib = {
    open: f("void *tdb_open(const char *name, int hash_size, int tdb_flags, int open_flags, uint32_t mode)"),
    close: f("int tdb_close(void *tdb)"),
    fetch: f("TDB_DATA tdb_fetch(void *tdb, TDB_DATA key)"),
    store: f("int tdb_store(void *tdb, TDB_DATA key, TDB_DATA dbuf, int flag)"),
    delete: f("int tdb_delete(void *tdb, TDB_DATA key)"),
    exists: f("int tdb_exists(void *tdb, TDB_DATA key)"),
    chainlock: f("int tdb_chainlock(void *tdb, TDB_DATA key)"),
    chainlockNonblock: f("int tdb_chainlock_nonblock(void *tdb, TDB_DATA key)"),
    chainunlock: f("int tdb_chainunlock(void *tdb, TDB_DATA key)"),
    chainlockRead: f("int tdb_chainlock_read(void *tdb, TDB_DATA key)"),
    chainunlockRead: f("int tdb_chainunlock_read(void *tdb, TDB_DATA key)"),
    lockallNonblock: f("int tdb_lockall_nonblock(void *tdb)"),
    unlockall: f("int tdb_unlockall(void *tdb)"),
    traverse: f("int tdb_traverse(void *tdb, tandem_tdb_traverse_fn *fn, void *priv)"),
    traverseRead: f("int tdb_traverse_read(void *tdb, tandem_tdb_traverse_fn *fn, void *priv)"),
    transactionStart: f("int tdb_transaction_start(void *tdb)"),
    transactionStartNonblock: f("int tdb_transaction_start_nonblock(void *tdb)"),
    transactionPrepareCommit: f("int tdb_transaction_prepare_commit(void *tdb)"),
    transactionCommit: f("int tdb_transaction_commit(void *tdb)"),
    transactionCancel: f("int tdb_transaction_cancel(void *tdb)"),
    transactionActive: f("bool tdb_transaction_active(void *tdb)"),
    getSeqnum: f("int tdb_get_seqnum(void *tdb)"),
    enableSeqnum: f("void tdb_enable_seqnum(void *tdb)"),
    wipeAll: f("int tdb_wipe_all(void *tdb)"),
    error: f("int tdb_error(void *tdb)"),
    errorstr: f("const char *tdb_errorstr(void *tdb)"),
    getFlags: f("int tdb_get_flags(void *tdb)"),
    addFlags: f("void tdb_add_flags(void *tdb, unsigned int flag)"),
    removeFlags: f("void tdb_remove_flags(void *tdb, unsigned int flag)"),
    setMaxDead: f("void tdb_set_max_dead(void *tdb, int max_dead)"),
    fd: f("int tdb_fd(void *tdb)"),
    jenkinsHash: f("unsigned int tdb_jenkins_hash(TDB_DATA *key)"),
    robustMutexes: f("bool tdb_runtime_check_for_robust_mutexes(void)"),
    free: libc.func("void free(void *ptr)") as (p: Ptr) => void,
    traverseProto,
  };
  return lib;
}

function datum(b: Buffer): Datum {
  return { dptr: b, dsize: b.length };
}

/** Copies a TDB-owned (or callback-lent) buffer into a Buffer. */
function copyOut(d: Datum): Buffer {
  if (d.dsize === 0 || d.dptr === null) return Buffer.alloc(0);
  const bytes = koffi.decode(d.dptr, "uint8_t", Number(d.dsize)) as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export interface OpenOptions {
  /** tdb_open hash size; 0 takes TDB's default (131). */
  hashSize?: number;
  tdbFlags: number;
  /** O_CREAT when the file may not exist yet (default true). */
  create?: boolean;
  readOnly?: boolean;
  mode?: number;
}

const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;

/** Whether this system's libtdb and glibc can do robust-mutex locking (TDB_MUTEX_LOCKING). */
export function tdbSupportsMutexes(): boolean {
  return load().robustMutexes();
}

/** TDB's own Jenkins hash of a key (the one CTDB uses for db ids and lmasters). */
export function tdbJenkinsHash(key: Buffer): number {
  return load().jenkinsHash(datum(key)) >>> 0;
}

/** Return false to stop the traverse; anything else goes on. */
export type TraverseVisitor = (key: Buffer, value: Buffer) => unknown;

/** An open TDB file. Keys and values are raw bytes. */
export class Tdb {
  private handle: Ptr | null;
  private readonly lib: Lib;

  private constructor(
    handle: Ptr,
    readonly path: string,
  ) {
    this.handle = handle;
    this.lib = load();
  }

  static open(path: string, opts: OpenOptions): Tdb {
    const l = load();
    const openFlags = (opts.readOnly ? O_RDONLY : O_RDWR) | (opts.create === false || opts.readOnly ? 0 : O_CREAT);
    const handle = l.open(path, opts.hashSize ?? 0, opts.tdbFlags, openFlags, opts.mode ?? 0o600);
    if (handle === null) {
      const e = sysError(koffi.errno());
      throw new TdbError("open", path, "tdb_open", `${e.code} (${e.message})`);
    }
    return new Tdb(handle, path);
  }

  private get h(): Ptr {
    if (this.handle === null) throw new TdbError("TDB_ERR_EINVAL", this.path, "access", "database is closed");
    return this.handle;
  }

  private fail(operation: string): never {
    const code = this.lib.error(this.h);
    throw new TdbError(TDB_ERRORS[code] ?? "TDB_ERR_EINVAL", this.path, operation, this.lib.errorstr(this.h));
  }

  private check(rc: number, operation: string): void {
    if (rc !== 0) this.fail(operation);
  }

  get closed(): boolean {
    return this.handle === null;
  }

  /** The value stored under key, or null when there is none. */
  fetch(key: Buffer): Buffer | null {
    const d = this.lib.fetch(this.h, datum(key));
    if (d.dptr === null) {
      if (this.lib.error(this.h) === 8 /* TDB_ERR_NOEXIST */) return null;
      this.fail("tdb_fetch");
    }
    try {
      return copyOut(d);
    } finally {
      this.lib.free(d.dptr);
    }
  }

  exists(key: Buffer): boolean {
    return this.lib.exists(this.h, datum(key)) === 1;
  }

  store(key: Buffer, value: Buffer, mode: number = StoreMode.REPLACE): void {
    this.check(this.lib.store(this.h, datum(key), datum(value), mode), "tdb_store");
  }

  /** Removes key; false when it was not there. */
  delete(key: Buffer): boolean {
    if (this.lib.delete(this.h, datum(key)) === 0) return true;
    if (this.lib.error(this.h) === 8) return false;
    this.fail("tdb_delete");
  }

  /** Blocking chain lock on key's hash chain (TDB's record lock, shared with smbd). */
  chainLock(key: Buffer): void {
    this.check(this.lib.chainlock(this.h, datum(key)), "tdb_chainlock");
  }

  /** Non-blocking chain lock: false when another process holds the chain. */
  tryChainLock(key: Buffer): boolean {
    if (this.lib.chainlockNonblock(this.h, datum(key)) === 0) return true;
    const code = this.lib.error(this.h);
    if (code === 3 /* TDB_ERR_LOCK */ || code === 6 /* TDB_ERR_NOLOCK */) return false;
    this.fail("tdb_chainlock_nonblock");
  }

  chainUnlock(key: Buffer): void {
    this.check(this.lib.chainunlock(this.h, datum(key)), "tdb_chainunlock");
  }

  chainLockRead(key: Buffer): void {
    this.check(this.lib.chainlockRead(this.h, datum(key)), "tdb_chainlock_read");
  }

  chainUnlockRead(key: Buffer): void {
    this.check(this.lib.chainunlockRead(this.h, datum(key)), "tdb_chainunlock_read");
  }

  /** Every chain at once, without waiting (freezing a database); false when busy. */
  tryLockAll(): boolean {
    if (this.lib.lockallNonblock(this.h) === 0) return true;
    const code = this.lib.error(this.h);
    if (code === 3 || code === 6) return false;
    this.fail("tdb_lockall_nonblock");
  }

  unlockAll(): void {
    this.check(this.lib.unlockall(this.h), "tdb_unlockall");
  }

  private walk(read: boolean, visit: TraverseVisitor): number {
    let thrown: unknown;
    const cb = koffi.register((_t: Ptr, k: Datum, v: Datum) => {
      try {
        return visit(copyOut(k), copyOut(v)) === false ? 1 : 0;
      } catch (err) {
        thrown = err;
        return 1;
      }
    }, koffi.pointer(this.lib.traverseProto as TypeObject));
    try {
      const n = read ? this.lib.traverseRead(this.h, cb, null) : this.lib.traverse(this.h, cb, null);
      if (thrown !== undefined) throw thrown;
      if (n < 0) this.fail(read ? "tdb_traverse_read" : "tdb_traverse");
      return n;
    } finally {
      koffi.unregister(cb);
    }
  }

  /**
   * Visits every record (write-locked traverse: the visitor may store or
   * delete). Return false from the visitor to stop. Answers how many records
   * were visited.
   */
  traverse(visit: TraverseVisitor): number {
    return this.walk(false, visit);
  }

  /** Read-locked traverse: the visitor must not change the database. */
  traverseRead(visit: TraverseVisitor): number {
    return this.walk(true, visit);
  }

  transactionStart(): void {
    this.check(this.lib.transactionStart(this.h), "tdb_transaction_start");
  }

  /** Starts a transaction unless another process holds the transaction lock; false then. */
  tryTransactionStart(): boolean {
    if (this.lib.transactionStartNonblock(this.h) === 0) return true;
    const code = this.lib.error(this.h);
    if (code === 3 || code === 6) return false;
    this.fail("tdb_transaction_start_nonblock");
  }

  transactionPrepareCommit(): void {
    this.check(this.lib.transactionPrepareCommit(this.h), "tdb_transaction_prepare_commit");
  }

  transactionCommit(): void {
    this.check(this.lib.transactionCommit(this.h), "tdb_transaction_commit");
  }

  transactionCancel(): void {
    this.check(this.lib.transactionCancel(this.h), "tdb_transaction_cancel");
  }

  get inTransaction(): boolean {
    return this.lib.transactionActive(this.h);
  }

  /** TDB's change counter (only maintained with TDB_SEQNUM). */
  seqnum(): number {
    return this.lib.getSeqnum(this.h);
  }

  enableSeqnum(): void {
    this.lib.enableSeqnum(this.h);
  }

  /** Removes every record. */
  wipe(): void {
    this.check(this.lib.wipeAll(this.h), "tdb_wipe_all");
  }

  get flags(): number {
    return this.lib.getFlags(this.h);
  }

  addFlags(flags: number): void {
    this.lib.addFlags(this.h, flags);
  }

  removeFlags(flags: number): void {
    this.lib.removeFlags(this.h, flags);
  }

  setMaxDead(n: number): void {
    this.lib.setMaxDead(this.h, n);
  }

  get fd(): number {
    return this.lib.fd(this.h);
  }

  close(): void {
    if (this.handle === null) return;
    const h = this.handle;
    this.handle = null;
    if (this.lib.close(h) !== 0) throw new TdbError("TDB_ERR_IO", this.path, "tdb_close", "close failed");
  }
}
