// Numbers of CTDB 4.17's wire protocol (CTDB's protocol/protocol.h). These are
// part of the compatibility contract: the real `ctdb` tool sends them as-is.

export const CTDB_MAGIC = 0x43544442; // "CTDB"
export const CTDB_PROTOCOL = 1;
export const HEADER_SIZE = 32;
/** Packets are padded to a multiple of this (CTDB_DS_ALIGNMENT). */
export const PACKET_ALIGNMENT = 8;
/** Our own cap on one packet; CTDB has none, but recovery buffers stay far below it. */
export const MAX_PACKET_SIZE = 16 * 1024 * 1024;

export enum Operation {
  REQ_CALL = 0,
  REPLY_CALL = 1,
  REQ_DMASTER = 2,
  REPLY_DMASTER = 3,
  REPLY_ERROR = 4,
  REQ_MESSAGE = 5,
  // 6 was removed from the protocol
  REQ_CONTROL = 7,
  REPLY_CONTROL = 8,
  REQ_KEEPALIVE = 9,
  REQ_TUNNEL = 10,
}

// Special destination/source node numbers.
export const CURRENT_NODE = 0xf0000001;
export const BROADCAST_ALL = 0xf0000002;
export const BROADCAST_ACTIVE = 0xf0000003;
export const BROADCAST_CONNECTED = 0xf0000004;
export const MULTICAST = 0xf0000005;
export const UNKNOWN_PNN = 0xffffffff;

export const INVALID_GENERATION = 1;
/** Key under which a persistent database keeps its sequence number. */
export const DB_SEQNUM_KEY = "__db_sequence_number__";
/** "any lmaster" in pulldb requests. */
export const LMASTER_ANY = 0xffffffff;

// Call functions and flags for REQ_CALL.
export const NULL_FUNC = 0xff000001;
export const FETCH_FUNC = 0xff000002;
export const FETCH_WITH_HEADER_FUNC = 0xff000003;
export enum CallFlag {
  IMMEDIATE_MIGRATION = 0x1,
  VACUUM_MIGRATION = 0x2,
  WANT_READONLY = 0x4,
}

// Message service ids (64-bit, so bigint).
export const SRVID_ALL = 0xffffffffffffffffn;
export const SRVID_RECOVERY = 0xf001000000000000n;
export const SRVID_BANNING = 0xf002000000000000n;
export const SRVID_ELECTION = 0xf100000000000000n;
export const SRVID_LEADER = 0xf101000000000000n;
export const SRVID_RECONFIGURE = 0xf200000000000000n;
export const SRVID_RELEASE_IP = 0xf300000000000000n;
export const SRVID_TAKE_IP = 0xf301000000000000n;
export const SRVID_SET_NODE_FLAGS = 0xf400000000000000n; // obsolete
export const SRVID_RECD_UPDATE_IP = 0xf500000000000000n;
export const SRVID_VACUUM_FETCH = 0xf700000000000000n;
export const SRVID_DETACH_DATABASE = 0xf701000000000000n;
export const SRVID_MEM_DUMP = 0xf800000000000000n;
export const SRVID_GETLOG = 0xf801000000000000n; // obsolete
export const SRVID_CLEARLOG = 0xf802000000000000n; // obsolete
export const SRVID_PUSH_NODE_FLAGS = 0xf900000000000000n;
export const SRVID_RELOAD_NODES = 0xfa00000000000000n;
export const SRVID_TAKEOVER_RUN = 0xfb00000000000000n;
export const SRVID_REBALANCE_NODE = 0xfb01000000000000n;
export const SRVID_DISABLE_TAKEOVER_RUNS = 0xfb03000000000000n;
export const SRVID_DISABLE_RECOVERIES = 0xfb04000000000000n;
export const SRVID_DISABLE_IP_CHECK = 0xfc00000000000000n;
// Ranges: the top 8 bits select an owner.
export const SRVID_PID_RANGE = 0x0000000000000000n;
export const SRVID_SAMBA_NOTIFY = 0xfe00000000000000n;
export const SRVID_SAMBA_RANGE = 0xfe00000000000000n;
export const SRVID_NFSD_RANGE = 0xee00000000000000n;
export const SRVID_ISCSID_RANGE = 0xde00000000000000n;
export const SRVID_TOOL_RANGE = 0xce00000000000000n;
export const SRVID_CLIENT_RANGE = 0xbe00000000000000n;
export const SRVID_TEST_RANGE = 0xae00000000000000n;
/** The ctdb tool's reply srvids: SRVID_CTDB_TOOL | (pid & 0xffff) << 16 | n. */
export const SRVID_CTDB_TOOL = 0xce01000000000000n;
/** The ctdb tool's srvid for restoredb record pushes. */
export const SRVID_CTDB_PUSHDB = 0xce02000000000000n;
export const SRVID_RANGE_MASK = 0xff00000000000000n;
// Newer than 4.17 (CTDB master); listed so their numbers stay reserved.
export const SRVID_IPREALLOCATED = 0xf302000000000000n;
export const SRVID_START_IPREALLOCATE = 0xf303000000000000n;
export const SRVID_SERVER_RANGE = 0x9e00000000000000n;

/** REQ_KEEPALIVE version word of Samba 4.17: (major << 16) | minor. */
export const KEEPALIVE_VERSION_4_17 = (4 << 16) | 17;

export enum Control {
  PROCESS_EXISTS = 0,
  STATISTICS = 1,
  PING = 3,
  GETDBPATH = 4,
  GETVNNMAP = 5,
  SETVNNMAP = 6,
  GET_DEBUG = 7,
  SET_DEBUG = 8,
  GET_DBMAP = 9,
  GET_NODEMAPv4 = 10,
  SET_DMASTER = 11,
  PULL_DB = 13,
  PUSH_DB = 14,
  GET_RECMODE = 15,
  SET_RECMODE = 16,
  STATISTICS_RESET = 17,
  DB_ATTACH = 18,
  SET_CALL = 19,
  TRAVERSE_START = 20,
  TRAVERSE_ALL = 21,
  TRAVERSE_DATA = 22,
  REGISTER_SRVID = 23,
  DEREGISTER_SRVID = 24,
  GET_DBNAME = 25,
  ENABLE_SEQNUM = 26,
  UPDATE_SEQNUM = 27,
  DUMP_MEMORY = 29,
  GET_PID = 30,
  GET_RECMASTER = 31,
  SET_RECMASTER = 32,
  FREEZE = 33,
  THAW = 34,
  GET_PNN = 35,
  SHUTDOWN = 36,
  GET_MONMODE = 37,
  TAKEOVER_IPv4 = 42,
  RELEASE_IPv4 = 43,
  TCP_CLIENT = 44,
  TCP_ADD = 45,
  TCP_REMOVE = 46,
  STARTUP = 47,
  SET_TUNABLE = 48,
  GET_TUNABLE = 49,
  LIST_TUNABLES = 50,
  GET_PUBLIC_IPSv4 = 51,
  MODIFY_FLAGS = 52,
  GET_ALL_TUNABLES = 53,
  KILL_TCP = 54,
  GET_TCP_TICKLE_LIST = 55,
  SET_TCP_TICKLE_LIST = 56,
  REGISTER_SERVER_ID = 57,
  UNREGISTER_SERVER_ID = 58,
  CHECK_SERVER_ID = 59,
  GET_SERVER_ID_LIST = 60,
  DB_ATTACH_PERSISTENT = 61,
  PERSISTENT_STORE = 62,
  UPDATE_RECORD = 63,
  SEND_GRATUITOUS_ARP = 64,
  TRANSACTION_START = 65,
  TRANSACTION_COMMIT = 66,
  WIPE_DATABASE = 67,
  UPTIME = 69,
  START_RECOVERY = 70,
  END_RECOVERY = 71,
  RELOAD_NODES_FILE = 72,
  TRY_DELETE_RECORDS = 74,
  ENABLE_MONITOR = 75,
  DISABLE_MONITOR = 76,
  ADD_PUBLIC_IP = 77,
  DEL_PUBLIC_IP = 78,
  RUN_EVENTSCRIPTS = 79,
  GET_CAPABILITIES = 80,
  START_PERSISTENT_UPDATE = 81,
  CANCEL_PERSISTENT_UPDATE = 82,
  TRANS2_COMMIT = 83,
  TRANS2_FINISHED = 84,
  TRANS2_ERROR = 85,
  TRANS2_COMMIT_RETRY = 86,
  RECD_PING = 87,
  RELEASE_IP = 88,
  TAKEOVER_IP = 89,
  GET_PUBLIC_IPS = 90,
  GET_NODEMAP = 91,
  GET_EVENT_SCRIPT_STATUS = 96,
  TRAVERSE_KILL = 97,
  RECD_RECLOCK_LATENCY = 98,
  GET_RECLOCK_FILE = 99,
  SET_RECLOCK_FILE = 100,
  STOP_NODE = 101,
  CONTINUE_NODE = 102,
  SET_NATGWSTATE = 103,
  SET_LMASTERROLE = 104,
  SET_RECMASTERROLE = 105,
  ENABLE_SCRIPT = 107,
  DISABLE_SCRIPT = 108,
  SET_BAN_STATE = 109,
  GET_BAN_STATE = 110,
  SET_DB_PRIORITY = 111,
  GET_DB_PRIORITY = 112,
  TRANSACTION_CANCEL = 113,
  REGISTER_NOTIFY = 114,
  DEREGISTER_NOTIFY = 115,
  TRANS2_ACTIVE = 116,
  GET_LOG = 117,
  CLEAR_LOG = 118,
  TRANS3_COMMIT = 119,
  GET_DB_SEQNUM = 120,
  DB_SET_HEALTHY = 121,
  DB_GET_HEALTH = 122,
  GET_PUBLIC_IP_INFO = 123,
  GET_IFACES = 124,
  SET_IFACE_LINK_STATE = 125,
  TCP_ADD_DELAYED_UPDATE = 126,
  GET_STAT_HISTORY = 127,
  SCHEDULE_FOR_DELETION = 128,
  SET_DB_READONLY = 129,
  CHECK_SRVIDS = 130,
  TRAVERSE_START_EXT = 131,
  GET_DB_STATISTICS = 132,
  SET_DB_STICKY = 133,
  RELOAD_PUBLIC_IPS = 134,
  TRAVERSE_ALL_EXT = 135,
  RECEIVE_RECORDS = 136,
  IPREALLOCATED = 137,
  GET_RUNSTATE = 138,
  DB_DETACH = 139,
  GET_NODES_FILE = 140,
  DB_FREEZE = 141,
  DB_THAW = 142,
  DB_TRANSACTION_START = 143,
  DB_TRANSACTION_COMMIT = 144,
  DB_PULL = 146,
  DB_PUSH_START = 147,
  DB_PUSH_CONFIRM = 148,
  DB_OPEN_FLAGS = 149,
  DB_ATTACH_REPLICATED = 150,
  CHECK_PID_SRVID = 151,
  TUNNEL_REGISTER = 152,
  TUNNEL_DEREGISTER = 153,
  VACUUM_FETCH = 154,
  DB_VACUUM = 155,
  ECHO_DATA = 156,
  DISABLE_NODE = 157,
  ENABLE_NODE = 158,
}

/**
 * Tandem's own control, far outside CTDB's opcode range (so not in Control,
 * which is CTDB's table): JSON facts about the node (transport versions,
 * whether a shared key is set).
 */
export const TANDEM_NODE_INFO = 0x54440001;
/** Newer than 4.17 (CTDB 4.21), kept out of the 4.17 table: run the startipreallocate event. */
export const CONTROL_START_IPREALLOCATE = 161;
/** Tandem's own: the leader's last takeover runs, as JSON. Far above CTDB's numbers. */
export const CONTROL_TANDEM_FAILOVER_HISTORY = 0x54460001;

const controlNames = new Map<number, string>();
for (const [name, value] of Object.entries(Control)) {
  if (typeof value === "number") controlNames.set(value, name);
}

/** CTDB's name of a control opcode without the CTDB_CONTROL_ prefix, or "UNKNOWN(n)". */
export function controlName(opcode: number): string {
  return controlNames.get(opcode) ?? `UNKNOWN(${opcode})`;
}

export enum ControlFlag {
  NOREPLY = 0x1,
  OPCODE_SPECIFIC = 0xffff0000,
  /** GET_PUBLIC_IPS: only addresses this node can host. */
  PUBLIC_IP_ONLY_AVAILABLE = 0x10000,
  /** DB_ATTACH*: attach requested by recovery. */
  ATTACH_RECOVERY = 0x20000,
}

export enum NodeFlag {
  DISCONNECTED = 0x01,
  UNHEALTHY = 0x02,
  PERMANENTLY_DISABLED = 0x04,
  BANNED = 0x08,
  DELETED = 0x10,
  STOPPED = 0x20,
  DISABLED = 0x02 | 0x04,
  INACTIVE = 0x10 | 0x01 | 0x08 | 0x20,
}

// A const object rather than an enum: RECMASTER and LEADER share a value.
export const Capability = {
  RECMASTER: 0x1,
  /** CTDB 4.17's newer name for RECMASTER. */
  LEADER: 0x1,
  LMASTER: 0x2,
  LVS: 0x4, // obsolete
  NATGW: 0x8, // obsolete
  PARALLEL_RECOVERY: 0x10000,
  FRAGMENTED_CONTROLS: 0x20000,
  FEATURES: 0x10000 | 0x20000,
  DEFAULT: 0x1 | 0x2 | 0x10000 | 0x20000,
} as const;

export enum Runstate {
  UNKNOWN = 0,
  INIT = 1,
  SETUP = 2,
  FIRST_RECOVERY = 3,
  STARTUP = 4,
  RUNNING = 5,
  SHUTDOWN = 6,
}

const RUNSTATE_NAMES = ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"];

/** CTDB's label for a runstate; unknown numbers map to "UNKNOWN" as in CTDB. */
export function runstateName(n: number): string {
  return RUNSTATE_NAMES[n] ?? "UNKNOWN";
}

/** Case-insensitive inverse of runstateName; unknown labels give UNKNOWN. */
export function runstateFromName(s: string): Runstate {
  const i = RUNSTATE_NAMES.indexOf(s.toUpperCase());
  return i < 0 ? Runstate.UNKNOWN : (i as Runstate);
}

export enum RecoveryMode {
  NORMAL = 0,
  ACTIVE = 1,
}

export enum DbFlag {
  PERSISTENT = 0x01,
  READONLY = 0x02,
  STICKY = 0x04,
  REPLICATED = 0x08,
}

export enum TunnelFlag {
  REQUEST = 0x01,
  REPLY = 0x02,
  NOREPLY = 0x10,
}
export const TUNNEL_TEST = 0xffffffff00000000n;

/** Fixed width of an interface name field in ctdb_iface (IFNAMSIZ + 2). */
export const IFACE_NAME_SIZE = 18;

/** Field order of struct ctdb_tunable_list, by the tunable names CTDB uses. */
export const TUNABLE_LIST_ORDER: readonly string[] = [
  "MaxRedirectCount", "SeqnumInterval", "ControlTimeout", "TraverseTimeout", "KeepaliveInterval",
  "KeepaliveLimit", "RecoverTimeout", "RecoverInterval", "ElectionTimeout", "TakeoverTimeout",
  "MonitorInterval", "TickleUpdateInterval", "EventScriptTimeout", "MonitorTimeoutCount",
  "EventScriptUnhealthyOnTimeout", "RecoveryGracePeriod", "RecoveryBanPeriod", "DatabaseHashSize",
  "DatabaseMaxDead", "RerecoveryTimeout", "EnableBans", "DeterministicIPs", "ReclockPingPeriod",
  "NoIPFailback", "DisableIPFailover", "VerboseMemoryNames", "RecdPingTimeout", "RecdFailCount",
  "LogLatencyMs", "RecLockLatencyMs", "RecoveryDropAllIPs", "VerifyRecoveryLock", "VacuumInterval",
  "VacuumMaxRunTime", "RepackLimit", "VacuumLimit", "MaxQueueDropMsg", "AllowUnhealthyDBRead",
  "StatHistoryInterval", "DeferredAttachTO", "VacuumFastPathCount", "LCP2PublicIPs",
  "AllowClientDBAttach", "RecoverPDBBySeqNum", "DeferredRebalanceOnNodeAdd", "FetchCollapse",
  "HopcountMakeSticky", "StickyDuration", "StickyPindown", "NoIPTakeover", "DBRecordCountWarn",
  "DBRecordSizeWarn", "DBSizeWarn", "PullDBPreallocation", "NoIPHostOnAllDisabled",
  "Samba3AvoidDeadlocks", "TDBMutexEnabled", "LockProcessesPerDB", "RecBufferSizeLimit",
  "QueueBufferSize", "IPAllocAlgorithm", "AllowMixedVersions",
];
export const TUNABLE_LIST_COUNT = 62;
