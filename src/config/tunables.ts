// CTDB's 62 tunables (common/tunable.c, protocol/protocol.h), in the wire
// order of struct ctdb_tunable_list: GET_ALL_TUNABLES sends exactly these 62
// uint32 values in this order. The store is a plain record keyed by the
// canonical name; lookups by name ignore case, as CTDB's strcasecmp does.
//
// Ranges. CTDB itself accepts any uint32 for every tunable. We refuse values
// that cannot mean anything or that would break the daemon:
// - on/off tunables take 0..1 (CTDB treats any non-zero as on, so 2 is only
//   ever a typo);
// - IPAllocAlgorithm is 0 (deterministic), 1 (non-deterministic) or 2 (LCP2);
// - periods that drive a timer must be at least 1, because 0 would re-arm the
//   timer at once and spin: KeepaliveInterval, RecoverInterval,
//   MonitorInterval, TickleUpdateInterval, StatHistoryInterval;
// - timeouts that bound an operation must be at least 1, because 0 makes
//   every such operation fail (or, for event scripts, never time out and hang
//   the monitor loop): ControlTimeout, TraverseTimeout, RecoverTimeout,
//   ElectionTimeout, TakeoverTimeout, EventScriptTimeout, RecdPingTimeout;
// - counts that must allow at least one: KeepaliveLimit (0 would declare
//   every peer dead at the first check), LockProcessesPerDB (0 would never
//   run a lock helper), QueueBufferSize (a 0-byte read buffer reads nothing).
// Tunables whose 0 is meaningful stay at 0..2^32-1: e.g. SeqnumInterval and
// VacuumInterval (0 turns the feature off), LogLatencyMs (0 = no logging),
// the ban periods and the size/count warnings.

import { configError, type ConfigError, type Result } from "./result.ts";
import { readIni } from "./ini.ts";

export interface TunableDef {
  name: string;
  defaultValue: number;
  obsolete: boolean;
  min: number;
  max: number;
}

export type Tunables = Record<string, number>;

const U32_MAX = 0xffffffff;

function def(name: string, defaultValue: number, opts: { obsolete?: boolean; min?: number; max?: number } = {}): TunableDef {
  return { name, defaultValue, obsolete: opts.obsolete ?? false, min: opts.min ?? 0, max: opts.max ?? U32_MAX };
}
const BOOL = { max: 1 };
const POSITIVE = { min: 1 };
const OBS = { obsolete: true };
const OBS_BOOL = { obsolete: true, max: 1 };

/** Wire order of struct ctdb_tunable_list. */
export const TUNABLES: readonly TunableDef[] = [
  def("MaxRedirectCount", 3, OBS),
  def("SeqnumInterval", 1000),
  def("ControlTimeout", 60, POSITIVE),
  def("TraverseTimeout", 20, POSITIVE),
  def("KeepaliveInterval", 5, POSITIVE),
  def("KeepaliveLimit", 5, POSITIVE),
  def("RecoverTimeout", 30, POSITIVE),
  def("RecoverInterval", 1, POSITIVE),
  def("ElectionTimeout", 3, POSITIVE),
  def("TakeoverTimeout", 9, POSITIVE),
  def("MonitorInterval", 15, POSITIVE),
  def("TickleUpdateInterval", 20, POSITIVE),
  def("EventScriptTimeout", 30, POSITIVE),
  def("MonitorTimeoutCount", 20),
  def("EventScriptUnhealthyOnTimeout", 0, OBS_BOOL),
  def("RecoveryGracePeriod", 120),
  def("RecoveryBanPeriod", 300),
  def("DatabaseHashSize", 100001),
  def("DatabaseMaxDead", 5),
  def("RerecoveryTimeout", 10),
  def("EnableBans", 1, BOOL),
  def("DeterministicIPs", 0, OBS_BOOL),
  def("ReclockPingPeriod", 60, OBS),
  def("NoIPFailback", 0, BOOL),
  def("DisableIPFailover", 0, OBS_BOOL),
  def("VerboseMemoryNames", 0, BOOL),
  def("RecdPingTimeout", 60, POSITIVE),
  def("RecdFailCount", 10),
  def("LogLatencyMs", 0),
  def("RecLockLatencyMs", 1000),
  def("RecoveryDropAllIPs", 120),
  def("VerifyRecoveryLock", 1, OBS_BOOL),
  def("VacuumInterval", 10),
  def("VacuumMaxRunTime", 120),
  def("RepackLimit", 10000),
  def("VacuumLimit", 5000, OBS),
  def("MaxQueueDropMsg", 1000000),
  def("AllowUnhealthyDBRead", 0, BOOL),
  def("StatHistoryInterval", 1, POSITIVE),
  def("DeferredAttachTO", 120),
  def("VacuumFastPathCount", 60),
  def("LCP2PublicIPs", 1, OBS_BOOL),
  def("AllowClientDBAttach", 1, BOOL),
  def("RecoverPDBBySeqNum", 1, OBS_BOOL),
  def("DeferredRebalanceOnNodeAdd", 300, OBS),
  def("FetchCollapse", 1, BOOL),
  def("HopcountMakeSticky", 50),
  def("StickyDuration", 600),
  def("StickyPindown", 200),
  def("NoIPTakeover", 0, BOOL),
  def("DBRecordCountWarn", 100000),
  def("DBRecordSizeWarn", 10000000),
  def("DBSizeWarn", 100000000),
  def("PullDBPreallocation", 10 * 1024 * 1024),
  def("NoIPHostOnAllDisabled", 1, OBS_BOOL),
  def("Samba3AvoidDeadlocks", 0, OBS_BOOL),
  def("TDBMutexEnabled", 1, OBS_BOOL),
  def("LockProcessesPerDB", 200, POSITIVE),
  def("RecBufferSizeLimit", 1000000),
  def("QueueBufferSize", 1024, POSITIVE),
  def("IPAllocAlgorithm", 2, { max: 2 }),
  def("AllowMixedVersions", 0, BOOL),
];

// CTDB's own table order (common/tunable.c), used by LIST_TUNABLES and so by
// `ctdb listvars`. It differs from the wire order in a few places.
const LISTING_ORDER: readonly string[] = [
  "MaxRedirectCount",
  "SeqnumInterval",
  "ControlTimeout",
  "TraverseTimeout",
  "KeepaliveInterval",
  "KeepaliveLimit",
  "RecoverTimeout",
  "RecoverInterval",
  "ElectionTimeout",
  "TakeoverTimeout",
  "MonitorInterval",
  "TickleUpdateInterval",
  "EventScriptTimeout",
  "MonitorTimeoutCount",
  "EventScriptUnhealthyOnTimeout",
  "RecoveryGracePeriod",
  "RecoveryBanPeriod",
  "DatabaseHashSize",
  "DatabaseMaxDead",
  "RerecoveryTimeout",
  "EnableBans",
  "DeterministicIPs",
  "LCP2PublicIPs",
  "ReclockPingPeriod",
  "NoIPFailback",
  "DisableIPFailover",
  "VerboseMemoryNames",
  "RecdPingTimeout",
  "RecdFailCount",
  "LogLatencyMs",
  "RecLockLatencyMs",
  "RecoveryDropAllIPs",
  "VerifyRecoveryLock",
  "VacuumInterval",
  "VacuumMaxRunTime",
  "RepackLimit",
  "VacuumLimit",
  "VacuumFastPathCount",
  "MaxQueueDropMsg",
  "AllowUnhealthyDBRead",
  "StatHistoryInterval",
  "DeferredAttachTO",
  "AllowClientDBAttach",
  "RecoverPDBBySeqNum",
  "DeferredRebalanceOnNodeAdd",
  "FetchCollapse",
  "HopcountMakeSticky",
  "StickyDuration",
  "StickyPindown",
  "NoIPTakeover",
  "DBRecordCountWarn",
  "DBRecordSizeWarn",
  "DBSizeWarn",
  "PullDBPreallocation",
  "NoIPHostOnAllDisabled",
  "Samba3AvoidDeadlocks",
  "TDBMutexEnabled",
  "LockProcessesPerDB",
  "RecBufferSizeLimit",
  "QueueBufferSize",
  "IPAllocAlgorithm",
  "AllowMixedVersions",
];

const BY_LOWER = new Map(TUNABLES.map((t) => [t.name.toLowerCase(), t]));

/** Case-insensitive lookup, as CTDB's GET/SET_TUNABLE. */
export function findTunable(name: string): TunableDef | undefined {
  return BY_LOWER.get(name.toLowerCase());
}

export function defaultTunables(): Tunables {
  const t: Tunables = {};
  for (const d of TUNABLES) t[d.name] = d.defaultValue;
  return t;
}

/** The value of a tunable by any-case name; undefined for an unknown name. */
export function getTunable(t: Tunables, name: string): number | undefined {
  const d = findTunable(name);
  return d === undefined ? undefined : (t[d.name] ?? d.defaultValue);
}

export type SetTunableResult =
  | { ok: true; tunables: Tunables }
  | {
      ok: false;
      /** The SET_TUNABLE control status: -1 unknown or refused, 1 obsolete. */
      status: number;
      reason: string;
      /** For an obsolete tunable: CTDB stores the value anyway (GET_TUNABLE returns it). */
      tunables?: Tunables;
    };

export function setTunable(t: Tunables, name: string, value: number): SetTunableResult {
  const d = findTunable(name);
  if (d === undefined) return { ok: false, status: -1, reason: `No such tunable ${name}` };
  if (!Number.isInteger(value) || value < d.min || value > d.max) {
    return { ok: false, status: -1, reason: `Invalid value ${value} for tunable ${d.name} (allowed ${d.min}..${d.max})` };
  }
  const tunables = { ...t, [d.name]: value };
  if (d.obsolete) {
    return { ok: false, status: 1, reason: `Setting obsolete tunable variable '${d.name}'`, tunables };
  }
  return { ok: true, tunables };
}

/** Non-obsolete names in CTDB's listing order (LIST_TUNABLES, `ctdb listvars`). */
export function listTunableNames(): string[] {
  return LISTING_ORDER.filter((n) => !(findTunable(n)?.obsolete ?? true));
}

/** The 62 values in struct ctdb_tunable_list order, defaults for missing names. */
export function tunablesToWireOrder(t: Tunables): number[] {
  return TUNABLES.map((d) => t[d.name] ?? d.defaultValue);
}

export function tunablesFromWireOrder(values: readonly number[]): Tunables {
  const t: Tunables = {};
  TUNABLES.forEach((d, i) => {
    t[d.name] = values[i] ?? d.defaultValue;
  });
  return t;
}

/**
 * ctdb.tunables (common/tunable.c ctdb_tunable_load_file): NAME=VALUE lines
 * in tini syntax (see ini.ts), names in any case. VALUE is an unsigned
 * number in C notation (decimal, 0x hex, 0 octal) with nothing after it.
 * Sections, a missing or empty value, an unknown or obsolete name are
 * errors; every error of the file is reported. Returns the values set, by
 * canonical name (apply them over defaultTunables()).
 */
export function parseTunablesFile(text: string, file: string): Result<Record<string, number>> {
  const { entries, errors: iniErrors } = readIni(text, file, { allowMissingEquals: true });
  const errors: ConfigError[] = [...iniErrors];
  const out: Record<string, number> = {};
  for (const e of entries) {
    if (e.kind === "section") {
      errors.push(configError(file, e.line, `Invalid line for section [${e.name}] - sections not supported`));
      continue;
    }
    if (e.value === "") {
      errors.push(configError(file, e.line, `Invalid line containing "${e.key}" (expected NAME=VALUE)`));
      continue;
    }
    const value = parseUnsigned(e.value);
    if (value === undefined) {
      errors.push(configError(file, e.line, `Invalid value "${e.value}" for tunable "${e.key}"`));
      continue;
    }
    const d = findTunable(e.key);
    if (d === undefined) {
      errors.push(configError(file, e.line, `Unknown tunable "${e.key}"`));
      continue;
    }
    if (d.obsolete) {
      errors.push(configError(file, e.line, `Obsolete tunable "${d.name}"`));
      continue;
    }
    if (value < d.min || value > d.max) {
      errors.push(
        configError(file, e.line, `Value ${value} out of range for tunable "${d.name}" (allowed ${d.min}..${d.max})`),
      );
      continue;
    }
    out[d.name] = value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}

// smb_strtoul(s, NULL, 0, ..., SMB_STR_FULL_STR_CONV): C notation, no sign,
// no trailing characters. CTDB then truncates to uint32; we refuse values
// above 2^32-1 instead of wrapping them silently.
function parseUnsigned(s: string): number | undefined {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) v = s.length === 1 ? 0 : Number.parseInt(s.slice(1), 8);
  else if (/^[1-9][0-9]*$/.test(s)) v = Number(s);
  else return undefined;
  return v <= U32_MAX ? v : undefined;
}
