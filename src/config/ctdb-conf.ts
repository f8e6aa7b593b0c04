// ctdb.conf: every section and option of CTDB 4.17 (common/logging_conf.c,
// cluster/cluster_conf.c, database/database_conf.c, event/event_conf.c,
// failover/failover_conf.c, server/legacy_conf.c) with CTDB's types,
// defaults and value checks. Checks that need the filesystem (directories
// that must exist, debug scripts that must be executable, the log file's
// directory) are returned as FsCheck requests for the loader to carry out.
//
// Matching rules, as CTDB's common/conf.c: section names are compared
// case-insensitively, option names case-sensitively ("Log Level" is
// unknown). A later setting of an option replaces an earlier one, and a
// section may appear more than once. An empty value is refused. CTDB does not
// check a value that equals the option's current (default) value, so, e.g.,
// naming the default database directory never requires it to exist.

import { readIni } from "./ini.ts";
import { isInetPtonAddress, parseIpLiteral } from "../net/ip.ts";
import { DEFAULT_LOGDIR, DEFAULT_VARDIR, type Paths } from "./paths.ts";
import { configError, type ConfigError, type Result } from "./result.ts";
import { parseConfBoolean, parseConfInteger, parseDebugLevel, parseLoggingLocation } from "./values.ts";

export interface CtdbConf {
  logging: { location: string; logLevel: string };
  cluster: {
    transport: string;
    /** Canonical text (lower-case, compressed IPv6; IPv4-mapped IPv6 as IPv4), like NodeEntry.address. */
    nodeAddress: string | undefined;
    /** The lock in effect: "cluster lock", else the deprecated "recovery lock" (as ctdbd picks). */
    clusterLock: string | undefined;
    /** The deprecated "recovery lock" option as written (already folded into clusterLock). */
    recoveryLock?: string | undefined;
    leaderTimeoutSec: number;
    leaderCapability: boolean;
  };
  database: {
    volatileDir: string;
    persistentDir: string;
    stateDir: string;
    lockDebugScript: string | undefined;
    tdbMutexes: boolean;
  };
  event: { debugScript: string | undefined };
  failover: { disabled: boolean };
  legacy: {
    realtimeScheduling: boolean;
    lmasterCapability: boolean;
    startAsStopped: boolean;
    startAsDisabled: boolean;
    scriptLogLevel: string;
  };
}

export type OptionType = "string" | "integer" | "boolean";
export type OptionValue = string | number | boolean | undefined;

/** A filesystem condition CTDB checks while reading ctdb.conf. */
export interface FsCheck {
  kind: "directory" | "executable-file";
  path: string;
  file: string;
  line: number;
  /** Error message when the condition does not hold. */
  message: string;
}

/** One option as it appears in the file, after validation. */
export interface OptionSetting {
  section: string;
  key: string;
  value: string | number | boolean;
  line: number;
}

export interface CtdbConfDetail {
  conf: CtdbConf;
  settings: OptionSetting[];
  checks: FsCheck[];
  warnings: ConfigError[];
}

export interface CtdbConfParseOptions {
  /** Resolved paths: test mode moves default directories under CTDB_BASE. */
  paths?: Paths;
  /**
   * ctdbd itself skips unknown sections and options (ctdb-config validate
   * refuses them). Default false: unknown names are errors, like validate.
   */
  ignoreUnknown?: boolean;
  /**
   * Default of [logging] log level: the daemon uses NOTICE, CTDB's tools
   * (ctdb-config, the event daemon) use ERROR.
   */
  defaultLogLevel?: string;
}

interface OptionSpec {
  section: string;
  key: string;
  type: OptionType;
  defaultValue: (paths: Paths | undefined, o: CtdbConfParseOptions) => OptionValue;
  /** Returns the reason a value is refused. */
  validate?: (value: never) => string | undefined;
  fsCheck?: (value: never, paths: Paths | undefined) => Omit<FsCheck, "file" | "line"> | undefined;
  warn?: (value: never) => string | undefined;
  assign: (c: CtdbConf, value: never) => void;
}

function etcdirOf(paths: Paths | undefined): string {
  return paths?.etcdir ?? "/etc/ctdb";
}

// Default directories. CTDB compiles in /var/lib/ctdb/... and keeps it even
// in test mode; we put them under the test-mode vardir so that several local
// nodes sharing a host do not share databases (CTDB's own test harness has
// to write these into each node's ctdb.conf).
function dbDirDefault(sub: string): (paths: Paths | undefined) => string {
  return (paths) => `${paths?.testMode ? paths.vardir : DEFAULT_VARDIR}/${sub}`;
}

function basename(p: string): string {
  const trimmed = p.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i === -1 ? trimmed : trimmed.slice(i + 1);
}

function dirname(p: string): string {
  const i = p.replace(/\/+$/, "").lastIndexOf("/");
  if (i === -1) return ".";
  if (i === 0) return "/";
  return p.slice(0, i);
}

// Lock/event debug scripts are looked up by bare name in the configuration
// directory; any directory part of the value is ignored (ctdb.conf(5)).
function debugScriptCheck(what: string) {
  return (value: string, paths: Paths | undefined): Omit<FsCheck, "file" | "line"> => {
    const path = `${etcdirOf(paths)}/${basename(value)}`;
    return { kind: "executable-file", path, message: `${what} ${path} does not exist, is not a file or is not executable` };
  };
}

function checkDebugLevel(key: string) {
  return (v: string): string | undefined =>
    parseDebugLevel(v) === undefined
      ? `invalid ${key} "${v}" (expected ERROR, WARNING, NOTICE, INFO, DEBUG, a prefix of one, or 0..10)`
      : undefined;
}

const SPECS: readonly OptionSpec[] = [
  {
    section: "logging",
    key: "location",
    type: "string",
    defaultValue: (paths) => (paths?.testMode ? `file:${paths.base}/log.ctdb` : `file:${DEFAULT_LOGDIR}/log.ctdb`),
    validate: (v: string) =>
      parseLoggingLocation(v) === undefined
        ? `invalid location "${v}" (expected file:PATH or syslog[:nonblocking|udp|udp-rfc5424])`
        : undefined,
    fsCheck: (v: string) => {
      const loc = parseLoggingLocation(v);
      if (loc?.kind !== "file" || loc.path === undefined) return undefined;
      const dir = dirname(loc.path);
      return { kind: "directory", path: dir, message: `log directory "${dir}" does not exist` };
    },
    assign: (c, v: string) => {
      c.logging.location = v;
    },
  },
  {
    section: "logging",
    key: "log level",
    type: "string",
    defaultValue: (_p, o) => o.defaultLogLevel ?? "NOTICE",
    validate: checkDebugLevel("log level"),
    assign: (c, v: string) => {
      c.logging.logLevel = v;
    },
  },
  {
    section: "cluster",
    key: "transport",
    type: "string",
    defaultValue: () => "tcp",
    // CTDB 4.17 refuses "ib" ("broken"), and the comparison is case-sensitive.
    validate: (v: string) => (v === "tcp" ? undefined : `invalid transport "${v}" (only "tcp" is supported)`),
    assign: (c, v: string) => {
      c.cluster.transport = v;
    },
  },
  {
    section: "cluster",
    key: "node address",
    type: "string",
    defaultValue: () => undefined,
    validate: (v: string) =>
      isInetPtonAddress(v) ? undefined : `invalid node address "${v}" (an IPv4 or IPv6 address literal is required)`,
    // Stored in canonical form (as ctdbd converts it to a socket address), so
    // it compares equal to the same node's entry from the nodes file.
    assign: (c, v: string) => {
      c.cluster.nodeAddress = parseIpLiteral(v)?.text ?? v;
    },
  },
  {
    section: "cluster",
    key: "cluster lock",
    type: "string",
    defaultValue: () => undefined,
    assign: (c, v: string) => {
      c.cluster.clusterLock = v;
    },
  },
  {
    section: "cluster",
    key: "recovery lock",
    type: "string",
    defaultValue: () => undefined,
    warn: () => `configuration option [cluster] -> recovery lock is deprecated, use "cluster lock"`,
    // clusterLock is resolved after all options are read: "cluster lock" wins.
    assign: (c, v: string) => {
      c.cluster.recoveryLock = v;
    },
  },
  {
    section: "cluster",
    key: "leader timeout",
    type: "integer",
    defaultValue: () => 5,
    validate: (v: number) => (v <= 0 ? `invalid leader timeout ${v} (must be greater than 0)` : undefined),
    assign: (c, v: number) => {
      c.cluster.leaderTimeoutSec = v;
    },
  },
  {
    section: "cluster",
    key: "leader capability",
    type: "boolean",
    defaultValue: () => true,
    assign: (c, v: boolean) => {
      c.cluster.leaderCapability = v;
    },
  },
  {
    section: "database",
    key: "volatile database directory",
    type: "string",
    defaultValue: dbDirDefault("volatile"),
    fsCheck: (v: string) => ({ kind: "directory", path: v, message: `volatile database directory "${v}" does not exist` }),
    assign: (c, v: string) => {
      c.database.volatileDir = v;
    },
  },
  {
    section: "database",
    key: "persistent database directory",
    type: "string",
    defaultValue: dbDirDefault("persistent"),
    fsCheck: (v: string) => ({
      kind: "directory",
      path: v,
      message: `persistent database directory "${v}" does not exist`,
    }),
    assign: (c, v: string) => {
      c.database.persistentDir = v;
    },
  },
  {
    section: "database",
    key: "state database directory",
    type: "string",
    defaultValue: dbDirDefault("state"),
    fsCheck: (v: string) => ({ kind: "directory", path: v, message: `state database directory "${v}" does not exist` }),
    assign: (c, v: string) => {
      c.database.stateDir = v;
    },
  },
  {
    section: "database",
    key: "lock debug script",
    type: "string",
    defaultValue: () => undefined,
    fsCheck: debugScriptCheck("lock debug script"),
    assign: (c, v: string) => {
      c.database.lockDebugScript = v;
    },
  },
  {
    section: "database",
    key: "tdb mutexes",
    type: "boolean",
    defaultValue: () => true,
    assign: (c, v: boolean) => {
      c.database.tdbMutexes = v;
    },
  },
  {
    section: "event",
    key: "debug script",
    type: "string",
    defaultValue: () => undefined,
    fsCheck: debugScriptCheck("debug script"),
    assign: (c, v: string) => {
      c.event.debugScript = v;
    },
  },
  {
    section: "failover",
    key: "disabled",
    type: "boolean",
    defaultValue: () => false,
    assign: (c, v: boolean) => {
      c.failover.disabled = v;
    },
  },
  {
    section: "legacy",
    key: "realtime scheduling",
    type: "boolean",
    defaultValue: () => true,
    assign: (c, v: boolean) => {
      c.legacy.realtimeScheduling = v;
    },
  },
  {
    section: "legacy",
    key: "lmaster capability",
    type: "boolean",
    defaultValue: () => true,
    assign: (c, v: boolean) => {
      c.legacy.lmasterCapability = v;
    },
  },
  {
    section: "legacy",
    key: "start as stopped",
    type: "boolean",
    defaultValue: () => false,
    assign: (c, v: boolean) => {
      c.legacy.startAsStopped = v;
    },
  },
  {
    section: "legacy",
    key: "start as disabled",
    type: "boolean",
    defaultValue: () => false,
    assign: (c, v: boolean) => {
      c.legacy.startAsDisabled = v;
    },
  },
  {
    section: "legacy",
    key: "script log level",
    type: "string",
    defaultValue: () => "ERROR",
    validate: checkDebugLevel("script log level"),
    assign: (c, v: string) => {
      c.legacy.scriptLogLevel = v;
    },
  },
];

/** Sections in CTDB's definition (and `ctdb-config dump`) order. */
export const CTDB_CONF_SECTIONS: readonly string[] = ["logging", "cluster", "database", "event", "failover", "legacy"];

/** Every option CTDB 4.17 knows, in `ctdb-config dump` order, with its default. */
export function ctdbConfOptions(
  options: CtdbConfParseOptions = {},
): { section: string; key: string; type: OptionType; defaultValue: OptionValue }[] {
  return SPECS.map((s) => ({
    section: s.section,
    key: s.key,
    type: s.type,
    defaultValue: s.defaultValue(options.paths, options),
  }));
}

export function defaultCtdbConf(paths?: Paths, options: CtdbConfParseOptions = {}): CtdbConf {
  const o = { ...options, paths: paths ?? options.paths };
  const d = (section: string, key: string) => {
    const spec = SPECS.find((s) => s.section === section && s.key === key);
    return spec?.defaultValue(o.paths, o);
  };
  return {
    logging: { location: d("logging", "location") as string, logLevel: d("logging", "log level") as string },
    cluster: {
      transport: "tcp",
      nodeAddress: undefined,
      clusterLock: undefined,
      leaderTimeoutSec: 5,
      leaderCapability: true,
    },
    database: {
      volatileDir: d("database", "volatile database directory") as string,
      persistentDir: d("database", "persistent database directory") as string,
      stateDir: d("database", "state database directory") as string,
      lockDebugScript: undefined,
      tdbMutexes: true,
    },
    event: { debugScript: undefined },
    failover: { disabled: false },
    legacy: {
      realtimeScheduling: true,
      lmasterCapability: true,
      startAsStopped: false,
      startAsDisabled: false,
      scriptLogLevel: "ERROR",
    },
  };
}

function describeType(t: OptionType): string {
  switch (t) {
    case "boolean":
      return "expected true, false, yes or no";
    case "integer":
      return "expected an integer from 0 to 2147483647";
    default:
      return "";
  }
}

export function parseCtdbConfDetailed(
  text: string,
  file: string,
  options: CtdbConfParseOptions = {},
): Result<CtdbConfDetail> {
  const { entries, errors } = readIni(text, file);
  const paths = options.paths;
  const conf = defaultCtdbConf(paths, options);
  const settings: OptionSetting[] = [];
  const checks: FsCheck[] = [];
  const warnings: ConfigError[] = [];
  let section: string | undefined;
  let sectionKnown = false;
  let clusterLock: string | undefined;
  // Latest filesystem check per option: a later line replaces an earlier one.
  const checkByOption = new Map<string, FsCheck>();

  for (const e of entries) {
    if (e.kind === "section") {
      const found = CTDB_CONF_SECTIONS.find((s) => s.toLowerCase() === e.name.toLowerCase());
      section = found ?? e.name;
      sectionKnown = found !== undefined;
      if (!sectionKnown && !options.ignoreUnknown) {
        errors.push(configError(file, e.line, `unknown section [${e.name}]`));
      }
      continue;
    }
    if (section === undefined) {
      if (!options.ignoreUnknown) {
        errors.push(configError(file, e.line, `option "${e.key}" appears before any [section]`));
      }
      continue;
    }
    if (!sectionKnown) continue; // reported once at the section header
    const spec = SPECS.find((s) => s.section === section && s.key === e.key);
    if (spec === undefined) {
      if (!options.ignoreUnknown) {
        const hint = SPECS.find((s) => s.section === section && s.key.toLowerCase() === e.key.toLowerCase());
        errors.push(
          configError(
            file,
            e.line,
            `unknown option [${section}] -> "${e.key}"${hint ? ` (option names are case-sensitive: "${hint.key}")` : ""}`,
          ),
        );
      }
      continue;
    }
    if (e.value === "") {
      errors.push(configError(file, e.line, `empty value [${section}] -> "${e.key}"`));
      continue;
    }
    let value: string | number | boolean | undefined;
    if (spec.type === "boolean") value = parseConfBoolean(e.value);
    else if (spec.type === "integer") value = parseConfInteger(e.value);
    else value = e.value;
    if (value === undefined) {
      errors.push(
        configError(file, e.line, `invalid value [${section}] -> "${e.key}" = "${e.value}" (${describeType(spec.type)})`),
      );
      continue;
    }
    const def = spec.defaultValue(paths, options);
    const isDefault = value === def;
    if (!isDefault && spec.validate) {
      const reason = spec.validate(value as never);
      if (reason !== undefined) {
        errors.push(configError(file, e.line, `[${section}] ${reason}`));
        continue;
      }
    }
    const optionId = `${section}\u0000${e.key}`;
    checkByOption.delete(optionId);
    if (!isDefault && spec.fsCheck) {
      const c = spec.fsCheck(value as never, paths);
      if (c) checkByOption.set(optionId, { ...c, file, line: e.line });
    }
    const w = spec.warn?.(value as never);
    if (w !== undefined) warnings.push(configError(file, e.line, w));
    spec.assign(conf, value as never);
    if (spec.key === "cluster lock") clusterLock = value as string;
    settings.push({ section: spec.section, key: spec.key, value, line: e.line });
  }
  conf.cluster.clusterLock = clusterLock ?? conf.cluster.recoveryLock;
  checks.push(...checkByOption.values());

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { conf, settings, checks, warnings } };
}

export function parseCtdbConf(text: string, file: string, options: CtdbConfParseOptions = {}): Result<CtdbConf> {
  const r = parseCtdbConfDetailed(text, file, options);
  return r.ok ? { ok: true, value: r.value.conf } : r;
}

/**
 * The value of one option in a parsed configuration, for `ctdb-config
 * get`-style output. Two approximations: "node address" is canonical, and
 * "cluster lock" set to the very same text as "recovery lock" reads as unset
 * (OptionSetting lists from parseCtdbConfDetailed have the exact file values).
 */
export function ctdbConfValue(conf: CtdbConf, section: string, key: string): OptionValue {
  switch (`${section.toLowerCase()}/${key}`) {
    case "logging/location":
      return conf.logging.location;
    case "logging/log level":
      return conf.logging.logLevel;
    case "cluster/transport":
      return conf.cluster.transport;
    case "cluster/node address":
      return conf.cluster.nodeAddress;
    case "cluster/cluster lock":
      return conf.cluster.clusterLock !== undefined && conf.cluster.clusterLock === conf.cluster.recoveryLock
        ? undefined
        : conf.cluster.clusterLock;
    case "cluster/recovery lock":
      return conf.cluster.recoveryLock;
    case "cluster/leader timeout":
      return conf.cluster.leaderTimeoutSec;
    case "cluster/leader capability":
      return conf.cluster.leaderCapability;
    case "database/volatile database directory":
      return conf.database.volatileDir;
    case "database/persistent database directory":
      return conf.database.persistentDir;
    case "database/state database directory":
      return conf.database.stateDir;
    case "database/lock debug script":
      return conf.database.lockDebugScript;
    case "database/tdb mutexes":
      return conf.database.tdbMutexes;
    case "event/debug script":
      return conf.event.debugScript;
    case "failover/disabled":
      return conf.failover.disabled;
    case "legacy/realtime scheduling":
      return conf.legacy.realtimeScheduling;
    case "legacy/lmaster capability":
      return conf.legacy.lmasterCapability;
    case "legacy/start as stopped":
      return conf.legacy.startAsStopped;
    case "legacy/start as disabled":
      return conf.legacy.startAsDisabled;
    case "legacy/script log level":
      return conf.legacy.scriptLogLevel;
    default:
      return undefined;
  }
}
