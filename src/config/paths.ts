// Where CTDB (and so Tandem) finds its files, following CTDB's common/path.c
// and ctdbd's startup (server/ctdbd.c). Checked against Debian's
// `ctdb-path` tool.
//
// Two roots are involved, and CTDB itself mixes them:
// - ETCDIR holds ctdb.conf and ctdb.tunables. It is /etc/ctdb, or CTDB_BASE
//   only in test mode (CTDB_BASE alone does not move it).
// - CTDB_BASE (default /etc/ctdb) holds nodes, public_addresses,
//   events/legacy/, notify.sh; scripts also find functions etc. through it.
// In test mode (CTDB_TEST_MODE set to anything, even empty) the run, var and
// share directories move under CTDB_BASE as run/, var/, share/.
//
// Sockets: CTDB_SOCKET overrides only the ctdbd socket. The event daemon's
// socket is always <rundir>/eventd.socket: `ctdb event` execs ctdb-event,
// whose client asks path.c for the "eventd" socket, and path.c consults
// CTDB_SOCKET only for "ctdbd". So a test node needs CTDB_BASE and
// CTDB_TEST_MODE for the real tools to find both of our sockets.

export interface Paths {
  /** CTDB_BASE, default /etc/ctdb. */
  base: string;
  /** Directory of ctdb.conf and ctdb.tunables: /etc/ctdb, or CTDB_BASE in test mode. */
  etcdir: string;
  rundir: string;
  vardir: string;
  datadir: string;
  helperBindir: string;
  ctdbdSocket: string;
  eventdSocket: string;
  pidFile: string;
  testMode: boolean;
  /** The files CTDB reads at startup, resolved as CTDB resolves them. */
  configFile: string;
  tunablesFile: string;
  nodesFile: string;
  publicAddressesFile: string;
  tandemConfFile: string;
  eventScriptDir: string;
  notifyScript: string;
}

export const DEFAULT_ETCDIR = "/etc/ctdb";
export const DEFAULT_RUNDIR = "/run/ctdb";
export const DEFAULT_VARDIR = "/var/lib/ctdb";
export const DEFAULT_DATADIR = "/usr/share/ctdb";
export const DEFAULT_HELPER_BINDIR = "/usr/libexec/ctdb";
export const DEFAULT_LOGDIR = "/var/log/ctdb";

/**
 * CTDB aborts when CTDB_TEST_MODE is set without CTDB_BASE; resolvePaths
 * cannot fail, so callers that start a daemon check this first.
 */
export function pathsEnvProblem(env: Record<string, string | undefined>): string | undefined {
  if (env.CTDB_TEST_MODE !== undefined && (env.CTDB_BASE === undefined || env.CTDB_BASE === "")) {
    return "Broken CTDB setup, CTDB_BASE not set in test mode";
  }
  return undefined;
}

export function resolvePaths(env: Record<string, string | undefined>): Paths {
  const base = env.CTDB_BASE !== undefined && env.CTDB_BASE !== "" ? env.CTDB_BASE : DEFAULT_ETCDIR;
  const testMode = env.CTDB_TEST_MODE !== undefined;
  const etcdir = testMode ? base : DEFAULT_ETCDIR;
  const rundir = testMode ? `${base}/run` : DEFAULT_RUNDIR;
  const vardir = testMode ? `${base}/var` : DEFAULT_VARDIR;
  const datadir = testMode ? `${base}/share` : DEFAULT_DATADIR;
  // CTDB compiles its helper directory in; CTDB's event script "functions"
  // file honours CTDB_HELPER_BINDIR from the environment, and so do we.
  const helperBindir =
    env.CTDB_HELPER_BINDIR !== undefined && env.CTDB_HELPER_BINDIR !== "" ? env.CTDB_HELPER_BINDIR : DEFAULT_HELPER_BINDIR;
  return {
    base,
    etcdir,
    rundir,
    vardir,
    datadir,
    helperBindir,
    ctdbdSocket: env.CTDB_SOCKET !== undefined ? env.CTDB_SOCKET : `${rundir}/ctdbd.socket`,
    eventdSocket: `${rundir}/eventd.socket`,
    pidFile: `${rundir}/ctdbd.pid`,
    testMode,
    configFile: `${etcdir}/ctdb.conf`,
    tunablesFile: `${etcdir}/ctdb.tunables`,
    nodesFile: `${base}/nodes`,
    publicAddressesFile: `${base}/public_addresses`,
    tandemConfFile: `${base}/tandem.conf`,
    eventScriptDir: `${base}/events/legacy`,
    notifyScript: `${base}/notify.sh`,
  };
}
