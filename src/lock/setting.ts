// Pure interpretation of the `[cluster] cluster lock` setting and of the
// mutex-helper status byte. No I/O here, so both are table-tested.

export const DEFAULT_HELPER_BINDIR = "/usr/libexec/ctdb";

export type LockSetting =
  | { kind: "file"; path: string }
  | { kind: "helper"; argv: [string, ...string[]] }
  | { kind: "invalid"; reason: string };

/**
 * A leading '!' means "run this mutex helper"; anything else is a lock file.
 *
 * Helper arguments are split on runs of spaces and tabs with no quoting, as
 * CTDB's server/ctdb_cluster_mutex.c does (strv_split on " \t"), so a
 * setting that works under ctdbd gets the same argv here.
 *
 * CTDB execv()s argv[0] as given. Tandem additionally lets a bare name
 * (no '/') stand for a helper in the helper bindir, so
 * `!ctdb_mutex_fcntl_helper /x/lock` works without the full path; names with
 * a '/' are used exactly as written.
 */
export function parseClusterLockSetting(setting: string, helperBindir: string = DEFAULT_HELPER_BINDIR): LockSetting {
  if (setting.startsWith("!")) {
    const words = setting
      .slice(1)
      .split(/[ \t]+/)
      .filter((w) => w !== "");
    const [cmd, ...args] = words;
    if (cmd === undefined) {
      return { kind: "invalid", reason: `mutex helper command is empty in cluster lock setting "${setting}"` };
    }
    const exe = cmd.includes("/") ? cmd : `${helperBindir.replace(/\/+$/, "")}/${cmd}`;
    return { kind: "helper", argv: [exe, ...args] };
  }
  if (setting.trim() === "") {
    return { kind: "invalid", reason: "cluster lock setting is empty" };
  }
  if (setting.includes("\0")) {
    return { kind: "invalid", reason: "cluster lock file name contains a NUL byte" };
  }
  return { kind: "file", path: setting };
}

export type HelperStatus = "held" | "contended" | "timeout" | "error";

/**
 * The first byte a mutex helper writes (CTDB's doc/cluster_mutex_helper.txt):
 * '0' holds, '1' contention, '2' timeout, '3' error. CTDB passes any other
 * byte to its handler, which treats it as an unknown result (an error).
 */
export function decodeHelperStatus(byte: number | undefined): HelperStatus {
  switch (byte) {
    case 0x30:
      return "held";
    case 0x31:
      return "contended";
    case 0x32:
      return "timeout";
    default:
      return "error";
  }
}

/** Human wording of a helper status byte, for error reasons and logs. */
export function describeHelperByte(byte: number | undefined): string {
  if (byte === undefined) return "no status (end of output)";
  if (byte >= 0x20 && byte < 0x7f) return `status '${String.fromCharCode(byte)}'`;
  return `status byte 0x${byte.toString(16).padStart(2, "0")}`;
}

export interface FileIdentity {
  dev: number | bigint;
  ino: number | bigint;
}

/**
 * Why the locked file no longer is the file at the configured path, or null
 * when it still is. CTDB's helper only compares inode numbers; comparing the
 * device too also catches a different filesystem mounted over the directory.
 */
export function identityChange(locked: FileIdentity, atPath: FileIdentity): string | null {
  if (BigInt(locked.dev) !== BigInt(atPath.dev)) return "is now on a different device";
  if (BigInt(locked.ino) !== BigInt(atPath.ino)) return "was replaced (inode changed)";
  return null;
}
