// Linux errno numbers as CTDB's eventd puts them on the wire and in script
// results. Kept as literals so pure cores need no node:os import.
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENOEXEC = 8;
export const EACCES = 13;
export const ENOTDIR = 20;
export const EINVAL = 22;
export const ENAMETOOLONG = 36;
export const EPROTO = 71;
export const ETIMEDOUT = 110;
export const ECANCELED = 125;

const BY_CODE: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  ENOSPC: 28,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ELOOP: 40,
  EPROTO: 71,
  ETIMEDOUT: 110,
  ECANCELED: 125,
};

/** Map a Node error code ("ENOENT") to its Linux errno; unknown codes become EIO. */
export function errnoOf(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    const n = BY_CODE[code];
    if (n !== undefined) return n;
  }
  return EIO;
}
