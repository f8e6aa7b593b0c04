/**
 * Small shared pieces of ctdb's output conventions: node flag names, the
 * CLI-only UNKNOWN pseudo flag, PNN printing, printf-style integer padding,
 * C ctime(), IPv4/IPv6 text as inet_ntop prints it.
 */

// Node flag bits as on the wire (CTDB's protocol.h). Kept here so the
// formatters load without the protocol modules (start-up time).
export const NODE_FLAGS = {
  DISCONNECTED: 0x01,
  UNHEALTHY: 0x02,
  PERMANENTLY_DISABLED: 0x04,
  BANNED: 0x08,
  DELETED: 0x10,
  STOPPED: 0x20,
  /** Never on the wire: the tool marks nodes it cannot vouch for yet. */
  UNKNOWN: 0x40,
} as const;

export const NODE_FLAGS_INACTIVE =
  NODE_FLAGS.DELETED | NODE_FLAGS.DISCONNECTED | NODE_FLAGS.BANNED | NODE_FLAGS.STOPPED;

export const UNKNOWN_PNN = 0xffffffff;
/** vnnmap generation of a node that has not been through recovery. */
export const INVALID_GENERATION = 1;

/** Runstate names as ctdb prints and accepts them (case-insensitively). */
export const RUNSTATE_NAMES = ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"] as const;
export const RUNSTATE_FIRST_RECOVERY = 3;

export function runstateToString(n: number): string {
  return RUNSTATE_NAMES[n] ?? "UNKNOWN";
}

/** 0 (UNKNOWN) for names ctdb does not know. */
export function runstateFromString(s: string): number {
  const i = RUNSTATE_NAMES.findIndex((name) => name.toLowerCase() === s.toLowerCase());
  return i === -1 ? 0 : i;
}

const FLAG_ORDER: readonly [number, string][] = [
  [NODE_FLAGS.DISCONNECTED, "DISCONNECTED"],
  [NODE_FLAGS.UNKNOWN, "UNKNOWN"],
  [NODE_FLAGS.PERMANENTLY_DISABLED, "DISABLED"],
  [NODE_FLAGS.BANNED, "BANNED"],
  [NODE_FLAGS.UNHEALTHY, "UNHEALTHY"],
  [NODE_FLAGS.DELETED, "DELETED"],
  [NODE_FLAGS.STOPPED, "STOPPED"],
  [NODE_FLAGS_INACTIVE, "INACTIVE"],
];

/** "OK" or the set flags joined by "|", in ctdb's order, INACTIVE last. */
export function prettyFlags(flags: number): string {
  const names = FLAG_ORDER.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return names.length === 0 ? "OK" : names.join("|");
}

/** The flag names set, for JSON output. */
export function flagNames(flags: number): string[] {
  return FLAG_ORDER.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

export function pnnText(pnn: number): string {
  return pnn >>> 0 === UNKNOWN_PNN ? "UNKNOWN" : String(pnn >>> 0);
}

/** printf("%0Nd") / printf("%Nd") of a C int, including the sign rules. */
export function cInt(n: number, width: number, zeroPad: boolean): string {
  const neg = n < 0;
  const digits = String(Math.abs(Math.trunc(n)));
  if (!zeroPad) return ((neg ? "-" : "") + digits).padStart(width);
  const body = digits.padStart(Math.max(0, width - (neg ? 1 : 0)), "0");
  return (neg ? "-" : "") + body;
}

const WDAY = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * C ctime(): "Thu Jan  1 00:00:00 1970\n" in the process's local time zone
 * (TZ), as ctdb prints it.
 */
export function ctime(sec: number): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return "\n";
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${WDAY[d.getDay()]} ${MON[d.getMonth()]}${String(d.getDate()).padStart(3)} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}\n`
  );
}

/** C int truncation of a seconds count, as ctdb stores time differences. */
export function toCInt(n: number): number {
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(n))));
}
