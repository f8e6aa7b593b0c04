// POSIX record locks through libc's fcntl(2), called via koffi.
//
// The byte range is the one CTDB's server/ctdb_mutex_fcntl_helper.c uses for
// the cluster lock: a write lock on 1 byte at offset 0 (SEEK_SET). Using the
// same range is what makes an in-process Tandem lock and the real helper
// exclude each other on the same file. (That helper briefly also takes byte 1
// while it re-checks the file; that range never conflicts with byte 0.)
//
// Record locks belong to the (process, file) pair: closing ANY descriptor of
// the file in this process drops the lock, and a second lock from the same
// process never conflicts. Callers must keep that in mind (see file-lock.ts).

import { getSystemErrorMap } from "node:util";
import koffi from "koffi";

// struct flock on Linux x86_64 and aarch64 (glibc, 64-bit off_t):
// short l_type @0, short l_whence @2, off_t l_start @8, off_t l_len @16,
// pid_t l_pid @24, padded to 32 bytes. Checked against <fcntl.h> with a C
// offsetof() program; FLOCK_SIZE is asserted at load time.
const FLOCK_SIZE = 32;
const F_GETLK = 5;
const F_SETLK = 6;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
const SEEK_SET = 0;

/** Offset and length of the cluster lock byte, as CTDB's fcntl helper. */
export const CLUSTER_LOCK_START = 0;
export const CLUSTER_LOCK_LEN = 1;

interface Flock {
  l_type: number;
  l_whence: number;
  l_start: number;
  l_len: number;
  l_pid: number;
}

type FcntlFn = (fd: number, cmd: number, type: unknown, arg: Flock) => number;

interface Libc {
  fcntl: FcntlFn;
  flockIn: unknown;
  flockInOut: unknown;
}

let libc: Libc | null = null;

function load(): Libc {
  if (libc !== null) return libc;
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) {
    throw new Error(`in-process fcntl lock supports Linux x64/arm64 only, not ${process.platform}/${process.arch}`);
  }
  const lib = koffi.load("libc.so.6");
  const flock = koffi.struct("tandem_lock_flock", {
    l_type: "short",
    l_whence: "short",
    l_start: "int64_t",
    l_len: "int64_t",
    l_pid: "int32_t",
  });
  if (koffi.sizeof(flock) !== FLOCK_SIZE) {
    throw new Error(`struct flock layout mismatch: ${koffi.sizeof(flock)} bytes, expected ${FLOCK_SIZE}`);
  }
  // fcntl is variadic in C; declaring it so makes koffi pass the third
  // argument with the variadic calling convention, typed per call.
  const fcntl = lib.func("int fcntl(int fd, int cmd, ...)") as unknown as FcntlFn;
  libc = {
    fcntl,
    flockIn: koffi.pointer(flock),
    flockInOut: koffi.inout(koffi.pointer(flock)),
  };
  return libc;
}

export interface SysError {
  errno: number;
  code: string; // e.g. "EAGAIN"
  message: string; // e.g. "resource temporarily unavailable"
}

export function sysError(errno: number): SysError {
  const entry = getSystemErrorMap().get(-errno);
  return { errno, code: entry?.[0] ?? `errno ${errno}`, message: entry?.[1] ?? "unknown error" };
}

export type LockAttempt = { ok: true } | { ok: false; contended: boolean; error: SysError };

/**
 * Non-blocking write lock (F_SETLK) on [start, start+len) of fd.
 * EAGAIN/EACCES mean another process holds a conflicting lock (POSIX allows
 * either), exactly the cases CTDB's helper reports as contention.
 */
export function tryWriteLock(fd: number, start = CLUSTER_LOCK_START, len = CLUSTER_LOCK_LEN): LockAttempt {
  const c = load();
  const rc = c.fcntl(fd, F_SETLK, c.flockIn, { l_type: F_WRLCK, l_whence: SEEK_SET, l_start: start, l_len: len, l_pid: 0 });
  if (rc === 0) return { ok: true };
  const error = sysError(koffi.errno());
  return { ok: false, contended: error.code === "EAGAIN" || error.code === "EACCES", error };
}

/** Drops this process's lock on the range without closing the descriptor. */
export function unlock(fd: number, start = CLUSTER_LOCK_START, len = CLUSTER_LOCK_LEN): SysError | null {
  const c = load();
  const rc = c.fcntl(fd, F_SETLK, c.flockIn, { l_type: F_UNLCK, l_whence: SEEK_SET, l_start: start, l_len: len, l_pid: 0 });
  return rc === 0 ? null : sysError(koffi.errno());
}

export interface LockOwner {
  type: "read" | "write";
  pid: number;
  start: number;
  len: number;
}

/**
 * F_GETLK: which other process (if any) holds a lock that would block a write
 * lock on the range. Locks of this process itself are never reported.
 */
export function queryLock(fd: number, start = CLUSTER_LOCK_START, len = CLUSTER_LOCK_LEN): LockOwner | null | SysError {
  const c = load();
  const arg: Flock = { l_type: F_WRLCK, l_whence: SEEK_SET, l_start: start, l_len: len, l_pid: 0 };
  const rc = c.fcntl(fd, F_GETLK, c.flockInOut, arg);
  if (rc !== 0) return sysError(koffi.errno());
  if (arg.l_type === F_UNLCK) return null;
  return { type: arg.l_type === F_RDLCK ? "read" : "write", pid: arg.l_pid, start: Number(arg.l_start), len: Number(arg.l_len) };
}
