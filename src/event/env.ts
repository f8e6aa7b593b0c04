// The environment event scripts see. CTDB's eventd sets nothing itself: its
// scripts inherit ctdbd's environment, to which server/ctdbd.c adds
// CTDB_BASE (when unset), CTDB_LOGGING, CTDB_DEBUGLEVEL, CTDB_INTERACTIVE
// (with -i) and CTDB_DEBUG_LOCKS. The shipped `functions` file derives
// CTDB_VARDIR, CTDB_SCRIPT_VARDIR, CTDB_SYS_ETCDIR and CTDB_HELPER_BINDIR
// itself (honouring the last three when set, which tests rely on), and uses
// $CTDB for the tool, which we point at ours.

export interface ScriptEnvOptions {
  /** CTDB_BASE: the configuration directory. */
  base: string;
  /** Path of the `ctdb`-compatible tool scripts call as $CTDB. */
  toolPath: string;
  /** The daemon's own environment, passed through. */
  env: Record<string, string | undefined>;
  /** [logging] location, e.g. "file:/var/log/log.ctdb" or "syslog". */
  logging?: string;
  /** Debug level name: ERROR, WARNING, NOTICE, INFO or DEBUG. */
  debugLevel?: string;
  interactive?: boolean;
  /** [database] lock debug script. */
  lockDebugScript?: string;
  /**
   * CTDB_SCRIPT_VARDIR, where `functions` keeps script state. Set it when
   * several nodes share one host (test mode), so each has its own; an
   * inherited value wins.
   */
  scriptVardir?: string;
}

/** Where ctdbd usually runs (systemd's default PATH plus /sbin:/bin): scripts call ip, ss, iptables, ... */
export const STANDARD_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The caller's PATH, with any missing standard directory appended so system tools are found. */
export function scriptPath(inherited: string | undefined): string {
  const parts = (inherited ?? "").split(":").filter((p) => p.length > 0);
  for (const dir of STANDARD_PATH) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(":");
}

export function scriptEnvironment(opts: ScriptEnvOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) out[k] = v;
  out.CTDB_BASE = opts.base;
  out.CTDB = opts.toolPath;
  out.PATH = scriptPath(opts.env.PATH);
  if (opts.logging !== undefined) out.CTDB_LOGGING = opts.logging;
  if (opts.debugLevel !== undefined) out.CTDB_DEBUGLEVEL = opts.debugLevel;
  else if (out.CTDB_DEBUGLEVEL === undefined) out.CTDB_DEBUGLEVEL = "NOTICE";
  if (opts.interactive) out.CTDB_INTERACTIVE = "true";
  if (opts.lockDebugScript !== undefined) out.CTDB_DEBUG_LOCKS = opts.lockDebugScript;
  if (opts.scriptVardir !== undefined && out.CTDB_SCRIPT_VARDIR === undefined) out.CTDB_SCRIPT_VARDIR = opts.scriptVardir;
  return out;
}
