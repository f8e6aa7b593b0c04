/**
 * The daemon as the tool's commands see it: one method per control they
 * use. Commands are written against this interface so they can be tested
 * with an in-memory fake; `daemon-client.ts` implements it over the real
 * client socket.
 *
 * Every method either returns the control's result or, after writing
 * ctdb's log line for the failure to stderr, throws a DaemonFailure whose
 * `ret` is what ctdb would exit with.
 */
import type { CallRequest } from "../client/client.ts";
import type { DbStatisticsWire } from "../protocol/database.ts";
import type { LtdbHeader } from "../protocol/types.ts";
import type { Iface } from "./format/simple.ts";
import type { NodeEntry } from "./format/nodemap.ts";
import type { Statistics } from "./format/statistics.ts";
import type { Uptime } from "./format/uptime.ts";

export interface PublicIpEntry {
  address: string;
  pnn: number;
}

export interface PublicIpDetails {
  address: string;
  pnn: number;
  activeIdx: number;
  ifaces: Iface[];
}

export interface Endpoint {
  address: string;
  port: number;
}

/** A TCP connection to a public address: src is the server side, dst the client. */
export interface Connection {
  src: Endpoint;
  dst: Endpoint;
}

export interface TickleList {
  address: string;
  conns: Connection[];
}

export class DaemonFailure extends Error {
  constructor(
    readonly ret: number,
    message = `control failed, ret=${ret}`,
    /** The daemon answered with a failure status (rather than no answer at all). */
    readonly answered = false,
  ) {
    super(message);
    this.name = "DaemonFailure";
  }
}

export interface Daemon {
  /** PNN of the node whose daemon we are connected to. */
  readonly pnn: number;
  getNodemap(dest: number, quiet?: boolean): Promise<NodeEntry[]>;
  getRunstate(dest: number): Promise<number>;
  getIfaces(dest: number): Promise<Iface[]>;
  getVnnmap(dest: number): Promise<{ generation: number; map: number[] }>;
  getRecmode(dest: number): Promise<number>;
  getUptime(dest: number): Promise<Uptime>;
  ping(dest: number): Promise<number>;
  getPid(dest: number): Promise<number>;
  getCapabilities(dest: number): Promise<number>;
  getReclockFile(dest: number): Promise<string | null>;
  listTunables(dest: number): Promise<string[]>;
  getTunable(dest: number, name: string): Promise<number>;
  /** Fails with ret 1 for an obsolete tunable (ctdb treats that as a warning). */
  setTunable(dest: number, name: string, value: number): Promise<void>;
  disableNode(dest: number): Promise<void>;
  enableNode(dest: number): Promise<void>;
  stopNode(dest: number): Promise<void>;
  continueNode(dest: number): Promise<void>;
  shutdown(dest: number): Promise<void>;
  /** availableOnly: only the addresses dest can host now (CTDB's PUBLIC_IP_ONLY_AVAILABLE flag). */
  getPublicIps(dest: number, availableOnly?: boolean): Promise<PublicIpEntry[]>;
  getPublicIpInfo(dest: number, address: string): Promise<PublicIpDetails>;
  setIfaceLinkState(dest: number, iface: Iface): Promise<void>;
  sendGratuitousArp(dest: number, address: string, iface: string): Promise<void>;
  getDebug(dest: number): Promise<number>;
  setDebug(dest: number, level: number): Promise<void>;
  setBanState(dest: number, pnn: number, seconds: number): Promise<void>;
  getDbmap(dest: number): Promise<{ dbId: number; flags: number }[]>;
  getDbName(dest: number, dbId: number, quiet?: boolean): Promise<string>;
  getDbPath(dest: number, dbId: number, quiet?: boolean): Promise<string>;
  /** The reason a database is unhealthy, or null when it is healthy. */
  getDbHealth(dest: number, dbId: number, quiet?: boolean): Promise<string | null>;
  getDbSeqnum(dest: number, dbId: number): Promise<bigint>;
  setDbReadonly(dest: number, dbId: number, quiet?: boolean): Promise<void>;
  setDbSticky(dest: number, dbId: number, quiet?: boolean): Promise<void>;
  /** The daemon's answer: 0 when the process exists. */
  processExists(dest: number, pid: number): Promise<number>;
  /** The daemon's answer: 0 when the process exists and has registered srvid. */
  checkPidSrvid(dest: number, pid: number, srvid: bigint): Promise<number>;
  setLmasterRole(dest: number, on: boolean): Promise<void>;
  setLeaderRole(dest: number, on: boolean): Promise<void>;
  getStatistics(dest: number): Promise<Statistics>;
  resetStatistics(dest: number): Promise<void>;
  getStatHistory(dest: number): Promise<Statistics[]>;
  getTickleList(dest: number, address: string, port: number): Promise<TickleList>;
  /** quiet: no failure log line (ctdb sends lists of these without logging each). */
  tcpAddDelayedUpdate(dest: number, conn: Connection, quiet?: boolean): Promise<void>;
  tcpRemove(dest: number, conn: Connection, quiet?: boolean): Promise<void>;
  setRecmode(dest: number, mode: number): Promise<void>;
  /** ctdbd's talloc memory report. */
  dumpMemory(dest: number): Promise<string>;
  /**
   * Ask the recovery daemon on dest for its memory report and wait for it
   * (ctdb waits without a time limit; -T ends the wait).
   */
  recoverdMemoryDump?(dest: number): Promise<Buffer>;
  addPublicIp(dest: number, address: string, mask: number, iface: string): Promise<void>;
  delPublicIp(dest: number, address: string): Promise<void>;
  releaseIp(dest: number, address: string, pnn: number): Promise<void>;
  takeoverIp(dest: number, address: string, pnn: number): Promise<void>;
  /** Broadcast a message carrying one u32 (REBALANCE_NODE, DISABLE_IP_CHECK) to all connected nodes. */
  broadcastU32(srvid: "rebalance-node" | "disable-ip-check", value: number): Promise<void>;
  getNodesFile(dest: number): Promise<NodeEntry[]>;
  /** Sent to several nodes at once: fails quietly, the caller reports. */
  reloadNodesFile(dest: number): Promise<void>;
  /**
   * Ask each node's recovery daemon to hold off recoveries for timeoutSec
   * (0 lifts it) and wait up to waitMs for all of them to confirm: 0 when
   * all did, a negative status when one refused, "timeout" otherwise.
   */
  disableRecoveries(pnns: readonly number[], timeoutSec: number, waitMs: number): Promise<number | "timeout">;
  /** As disableRecoveries, for takeover runs. */
  disableTakeoverRuns(pnns: readonly number[], timeoutSec: number, waitMs: number): Promise<number | "timeout">;
  /** Sent to several nodes at once: fails quietly, the caller reports. */
  reloadPublicIps(dest: number): Promise<void>;
  /** DB_ATTACH, DB_ATTACH_PERSISTENT or DB_ATTACH_REPLICATED; the database id. Quiet: callers log. */
  dbAttach(dest: number, name: string, kind: "volatile" | "persistent" | "replicated"): Promise<number>;
  /** TDB open flags for the database's local file. Quiet. */
  dbOpenFlags(dest: number, dbId: number): Promise<number>;
  /** Quiet. */
  dbDetach(dest: number, dbId: number): Promise<void>;
  /** A REQ_CALL to the local daemon (what fetch-lock sends to migrate a record here). Quiet. */
  recordCall(req: CallRequest): Promise<{ status: number; data: Buffer }>;
  getDbStatistics(dest: number, dbId: number): Promise<DbStatisticsWire>;
  /** SCHEDULE_FOR_DELETION of a record just emptied, for the vacuumer. Quiet. */
  scheduleForDeletion(dest: number, dbId: number, header: LtdbHeader, key: Buffer): Promise<void>;
  /**
   * Cluster-wide traverse of a database from dest: each record (with its
   * header) goes to onRecord until the end marker; resolves 0, or the
   * failure after CTDB's traverse log line.
   */
  traverse(dest: number, dbId: number, onRecord: (key: Buffer, data: Buffer) => void): Promise<number>;
  /** DB_FREEZE, DB_THAW or DB_SET_HEALTHY. Quiet: sent to several nodes at once. */
  dbControl(dest: number, op: "freeze" | "thaw" | "set-healthy", dbId: number): Promise<void>;
  /** DB_TRANSACTION_START, WIPE_DATABASE or DB_TRANSACTION_COMMIT under transaction id tid. Quiet. */
  dbTransaction(dest: number, op: "start" | "wipe" | "commit", dbId: number, tid: number): Promise<void>;
  /** The leader PNN from the leader broadcast, or UNKNOWN_PNN if none arrives within timeoutMs. */
  waitForLeader(timeoutMs: number): Promise<number>;
  /**
   * Ask the leader for a takeover run and wait up to timeoutMs for its
   * answer; "timeout" when none came (ctdb then asks again), or undefined
   * when this daemon connection cannot send messages.
   */
  takeoverRun?(timeoutMs: number): Promise<number | "timeout">;
  /** Resolves when the daemon closes the connection (used by `shutdown`). */
  disconnected?(): Promise<void>;
  close(): void;
}

/** The control names ctdb's client library uses in its failure log lines. */
export const CONTROL_LOG_NAMES = {
  getNodemap: "GET_NODEMAP",
  getRunstate: "GET_RUNSTATE",
  getIfaces: "GET_IFACES",
  getVnnmap: "GETVNNMAP",
  getRecmode: "GET_RECMODE",
  getUptime: "UPTIME",
  ping: "PING",
  getPid: "GET_PID",
  getCapabilities: "GET_CAPABILITIES",
  getReclockFile: "GET_RECLOCK_FILE",
  listTunables: "LIST_TUNABLES",
  getTunable: "GET_TUNABLE",
  setTunable: "SET_TUNABLE",
  disableNode: "DISABLE_NODE",
  enableNode: "ENABLE_NODE",
  stopNode: "STOP_NODE",
  continueNode: "CONTINUE_NODE",
  shutdown: "SHUTDOWN",
  getPublicIps: "GET_PUBLIC_IPS",
  getPublicIpInfo: "GET_PUBLIC_IP_INFO",
  setIfaceLinkState: "SET_IFACE_LINK_STATE",
  sendGratuitousArp: "SEND_GRATUITOUS_ARP",
  getDebug: "GET_DEBUG",
  setDebug: "SET_DEBUG",
  setBanState: "SET_BAN_STATE",
  getDbmap: "GET_DBMAP",
  getDbName: "GET_DBNAME",
  getDbPath: "GETDBPATH",
  getDbHealth: "DB_GET_HEALTH",
  getDbSeqnum: "GET_DB_SEQNUM",
  getDbStatistics: "GET_DB_STATISTICS",
  // Spelled as CTDB's client library logs it.
  setDbReadonly: "SET_DB_READONY",
  setDbSticky: "SET_DB_STICKY",
  processExists: "PROCESS_EXISTS",
  checkPidSrvid: "CHECK_PID_SRVID",
  setLmasterRole: "SET_LMASTERROLE",
  setLeaderRole: "SET_RECMASTERROLE",
  getStatistics: "STATISTICS",
  resetStatistics: "STATISTICS_RESET",
  getStatHistory: "GET_STAT_HISTORY",
  getTickleList: "GET_TCP_TICKLE_LIST",
  tcpAddDelayedUpdate: "TCP_ADD_DELAYED_UPDATE",
  tcpRemove: "TCP_REMOVE",
  setRecmode: "SET_RECMODE",
  dumpMemory: "DUMP_MEMORY",
  addPublicIp: "ADD_PUBLIC_IP",
  delPublicIp: "DEL_PUBLIC_IP",
  releaseIp: "RELEASE_IP",
  takeoverIp: "TAKEOVER_IP",
  getNodesFile: "GET_NODES_FILE",
  reloadNodesFile: "RELOAD_NODES_FILE",
  reloadPublicIps: "RELOAD_PUBLIC_IPS",
} as const;

/** ctdb's log line when the control never got an answer (timeout, lost connection). */
export function transportFailureLine(control: string, dest: number, ret: number): string {
  return `Control ${control} failed to node ${dest >>> 0}, ret=${ret}\n`;
}

/** ctdb's log line when the daemon answered with a failure status. */
export function statusFailureLine(control: string, ret: number): string {
  return `Control ${control} failed, ret=${ret}\n`;
}
