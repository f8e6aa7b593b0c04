// An in-memory daemon for command tests, shaped like the state tables of
// CTDB's fake_ctdbd used by its tool unit tests (NODEMAP, IFACES, VNNMAP,
// RUNSTATE, RECLOCK, per-node capabilities, failing controls).
import type { CallRequest } from "../../src/client/client.ts";
import { emptyDbStatistics } from "../../src/protocol/database.ts";
import {
  CONTROL_LOG_NAMES,
  type Connection,
  type Daemon,
  DaemonFailure,
  statusFailureLine,
  transportFailureLine,
} from "../../src/cli/daemon.ts";
import type { NodeEntry } from "../../src/cli/format/nodemap.ts";
import type { Iface } from "../../src/cli/format/simple.ts";
import { decodeStatistics, STATISTICS_SIZE, type Statistics } from "../../src/cli/format/statistics.ts";
import type { Uptime } from "../../src/cli/format/uptime.ts";
import type { MainHooks } from "../../src/cli/main.ts";

export interface FakeState {
  pnn: number;
  leader: number;
  nodes: NodeEntry[];
  ifaces: Iface[];
  generation: number;
  vnnmap: number[];
  recmode: number;
  runstate: number;
  reclock: string | null;
  capabilities: Record<number, number>;
  tunables: [string, number][];
  obsoleteTunables: string[];
  pid: number;
  uptime: Uptime;
  dbs: { dbId: number; name: string; flags: number; seqnum: bigint; health: string | null }[];
  processes: { pid: number; srvids: bigint[] }[];
  roles: { lmaster: boolean; leader: boolean };
  /** Records (key, data with header) a traverse of any database returns. */
  records: [Buffer, Buffer][];
  /** Where the databases' files are said to be. */
  dbDir: string;
  tickles: Connection[];
  /** Connections whose registration the daemon refuses. */
  refuseTickles: string[];
  /** Per-node nodes file as the daemon would serve it (default: the node map); null = the control fails. */
  nodesFiles: Record<number, NodeEntry[] | null>;
  publicIps: Record<number, { address: string; pnn: number }[]>;
  debug: number;
  /** Controls (by method name) that time out. */
  timeouts: Set<string>;
  /** Log of control calls "method:dest". */
  calls: string[];
}

export const DEFAULT_TUNABLES: [string, number][] = [
  ["SeqnumInterval", 1000],
  ["ControlTimeout", 60],
  ["KeepaliveInterval", 5],
  ["RecoverInterval", 1],
  ["AllowMixedVersions", 0],
];

export function fakeState(over: Partial<FakeState> = {}): FakeState {
  return {
    pnn: 0,
    leader: 0,
    nodes: [
      { pnn: 0, address: "192.168.20.41", flags: 0 },
      { pnn: 1, address: "192.168.20.42", flags: 0 },
      { pnn: 2, address: "192.168.20.43", flags: 0 },
    ],
    ifaces: [
      { name: "eth2", linkState: 1, references: 2 },
      { name: "eth1", linkState: 1, references: 4 },
    ],
    generation: 654321,
    vnnmap: [0, 1, 2],
    recmode: 0,
    runstate: 5,
    reclock: null,
    capabilities: {},
    tunables: DEFAULT_TUNABLES.map(([n, v]) => [n, v]),
    obsoleteTunables: [],
    pid: 4242,
    uptime: {
      currentTime: { sec: 1000, usec: 0 },
      ctdbdStartTime: { sec: 900, usec: 0 },
      lastRecoveryStarted: { sec: 950, usec: 0 },
      lastRecoveryFinished: { sec: 951, usec: 500000 },
    },
    dbs: [],
    processes: [],
    roles: { lmaster: true, leader: true },
    records: [],
    dbDir: "/var/db",
    tickles: [],
    refuseTickles: [],
    nodesFiles: {},
    publicIps: {},
    debug: 3,
    timeouts: new Set(),
    calls: [],
    ...over,
  };
}

type Log = (s: string) => void;

const NAMES: Record<string, string> = CONTROL_LOG_NAMES;

export class FakeDaemon implements Daemon {
  closed = false;
  constructor(
    readonly st: FakeState,
    private readonly log: Log,
  ) {}

  get pnn(): number {
    return this.st.pnn;
  }

  private async op<T>(name: string, dest: number, f: () => T): Promise<T> {
    this.st.calls.push(`${name}:${dest}`);
    if (this.st.timeouts.has(name)) {
      this.log(transportFailureLine(NAMES[name]!, dest, 110));
      throw new DaemonFailure(110);
    }
    return f();
  }

  private node(pnn: number): NodeEntry {
    const n = this.st.nodes.find((x) => x.pnn === pnn);
    if (n === undefined) throw new Error(`no node ${pnn}`);
    return n;
  }

  getNodemap(dest: number) {
    return this.op("getNodemap", dest, () => this.st.nodes.map((n) => ({ ...n })));
  }
  getRunstate(dest: number) {
    return this.op("getRunstate", dest, () => this.st.runstate);
  }
  getIfaces(dest: number) {
    return this.op("getIfaces", dest, () => this.st.ifaces.map((i) => ({ ...i })));
  }
  getVnnmap(dest: number) {
    return this.op("getVnnmap", dest, () => ({ generation: this.st.generation, map: [...this.st.vnnmap] }));
  }
  getRecmode(dest: number) {
    return this.op("getRecmode", dest, () => this.st.recmode);
  }
  getUptime(dest: number) {
    return this.op("getUptime", dest, () => this.st.uptime);
  }
  ping(dest: number) {
    return this.op("ping", dest, () => 1);
  }
  getPid(dest: number) {
    return this.op("getPid", dest, () => this.st.pid);
  }
  getCapabilities(dest: number) {
    return this.op("getCapabilities", dest, () => this.st.capabilities[dest] ?? 0x30003);
  }
  getReclockFile(dest: number) {
    return this.op("getReclockFile", dest, () => this.st.reclock);
  }
  listTunables(dest: number) {
    return this.op("listTunables", dest, () => this.st.tunables.map(([n]) => n));
  }
  getTunable(dest: number, name: string) {
    return this.op("getTunable", dest, () => {
      const t = this.st.tunables.find(([n]) => n.toLowerCase() === name.toLowerCase());
      if (t === undefined) {
        this.log(statusFailureLine("GET_TUNABLE", -1));
        throw new DaemonFailure(1);
      }
      return t[1];
    });
  }
  setTunable(dest: number, name: string, value: number) {
    return this.op("setTunable", dest, () => {
      const t = this.st.tunables.find(([n]) => n.toLowerCase() === name.toLowerCase());
      if (t === undefined) {
        this.log(statusFailureLine("SET_TUNABLE", -1));
        throw new DaemonFailure(1);
      }
      t[1] = value;
      if (this.st.obsoleteTunables.includes(t[0])) {
        this.log(statusFailureLine("SET_TUNABLE", 1));
        throw new DaemonFailure(1);
      }
    });
  }
  private flag(dest: number, bit: number, set: boolean, name: string) {
    return this.op(name, dest, () => {
      const n = this.node(dest);
      n.flags = set ? n.flags | bit : n.flags & ~bit;
    });
  }
  disableNode(dest: number) {
    return this.flag(dest, 0x4, true, "disableNode");
  }
  enableNode(dest: number) {
    return this.flag(dest, 0x4, false, "enableNode");
  }
  stopNode(dest: number) {
    return this.flag(dest, 0x20, true, "stopNode");
  }
  continueNode(dest: number) {
    return this.flag(dest, 0x20, false, "continueNode");
  }
  shutdown(dest: number) {
    return this.op("shutdown", dest, () => {
      this.closed = true;
    });
  }
  getPublicIps(dest: number) {
    return this.op("getPublicIps", dest, () => (this.st.publicIps[dest] ?? []).map((x) => ({ ...x })));
  }
  getPublicIpInfo(dest: number, address: string) {
    return this.op("getPublicIpInfo", dest, () => {
      const ip = (this.st.publicIps[dest] ?? []).find((x) => x.address === address);
      if (ip === undefined) {
        this.log(statusFailureLine("GET_PUBLIC_IP_INFO", -1));
        throw new DaemonFailure(-1);
      }
      return { address: ip.address, pnn: ip.pnn, activeIdx: 0, ifaces: this.st.ifaces.map((i) => ({ ...i })) };
    });
  }
  setIfaceLinkState(dest: number, iface: Iface) {
    return this.op("setIfaceLinkState", dest, () => {
      const i = this.st.ifaces.find((x) => x.name === iface.name);
      if (i !== undefined) i.linkState = iface.linkState;
    });
  }
  sendGratuitousArp(dest: number, address: string, iface: string) {
    return this.op("sendGratuitousArp", dest, () => {
      this.st.calls.push(`garp:${address}:${iface}`);
    });
  }
  getDebug(dest: number) {
    return this.op("getDebug", dest, () => this.st.debug);
  }
  setDebug(dest: number, level: number) {
    return this.op("setDebug", dest, () => {
      this.st.debug = level;
    });
  }
  setBanState(dest: number, pnn: number, seconds: number) {
    return this.flag(pnn, 0x8, seconds !== 0, "setBanState").then(() => {
      this.st.calls.push(`ban:${dest}:${seconds}`);
    });
  }
  private db(dbId: number) {
    const d = this.st.dbs.find((x) => x.dbId === dbId);
    if (d === undefined) throw new Error(`no db ${dbId}`);
    return d;
  }
  getDbmap(dest: number) {
    return this.op("getDbmap", dest, () => this.st.dbs.map((d) => ({ dbId: d.dbId, flags: d.flags })));
  }
  getDbName(dest: number, dbId: number) {
    return this.op("getDbName", dest, () => this.db(dbId).name);
  }
  getDbPath(dest: number, dbId: number) {
    return this.op("getDbPath", dest, () => `${this.st.dbDir}/${this.db(dbId).name}.${dest}`);
  }
  getDbHealth(dest: number, dbId: number) {
    return this.op("getDbHealth", dest, () => this.db(dbId).health);
  }
  getDbSeqnum(dest: number, dbId: number) {
    return this.op("getDbSeqnum", dest, () => this.db(dbId).seqnum);
  }
  setDbReadonly(dest: number, dbId: number) {
    return this.op("setDbReadonly", dest, () => {
      this.db(dbId).flags |= 0x2;
    });
  }
  setDbSticky(dest: number, dbId: number) {
    return this.op("setDbSticky", dest, () => {
      this.db(dbId).flags |= 0x4;
    });
  }
  processExists(dest: number, pid: number) {
    return this.op("processExists", dest, () => (this.st.processes.some((p) => p.pid === pid) ? 0 : -1));
  }
  checkPidSrvid(dest: number, pid: number, srvid: bigint) {
    return this.op("checkPidSrvid", dest, () => (this.st.processes.some((p) => p.pid === pid && p.srvids.includes(srvid)) ? 0 : -1));
  }
  setLmasterRole(dest: number, on: boolean) {
    return this.op("setLmasterRole", dest, () => {
      this.st.roles.lmaster = on;
    });
  }
  setLeaderRole(dest: number, on: boolean) {
    return this.op("setLeaderRole", dest, () => {
      this.st.roles.leader = on;
    });
  }
  getStatistics(dest: number): Promise<Statistics> {
    return this.op("getStatistics", dest, () => decodeStatistics(Buffer.alloc(STATISTICS_SIZE)));
  }
  resetStatistics(dest: number) {
    return this.op("resetStatistics", dest, () => undefined);
  }
  getStatHistory(dest: number) {
    return this.op("getStatHistory", dest, () => [] as Statistics[]);
  }
  getTickleList(dest: number, address: string, port: number) {
    return this.op("getTickleList", dest, () => ({
      address,
      conns: this.st.tickles.filter((c) => c.src.address === address && (port === 0 || c.src.port === port)),
    }));
  }
  tcpAddDelayedUpdate(dest: number, conn: Connection, quiet = false) {
    return this.op("tcpAddDelayedUpdate", dest, () => {
      if (this.st.refuseTickles.includes(conn.dst.address)) {
        if (!quiet) this.log(statusFailureLine("TCP_ADD_DELAYED_UPDATE", -1));
        throw new DaemonFailure(-1);
      }
      this.st.tickles.push(conn);
    });
  }
  tcpRemove(dest: number, conn: Connection, _quiet = false) {
    return this.op("tcpRemove", dest, () => {
      const key = JSON.stringify(conn);
      this.st.tickles = this.st.tickles.filter((c) => JSON.stringify(c) !== key);
    });
  }
  setRecmode(dest: number, mode: number) {
    return this.op("setRecmode", dest, () => {
      // A recovery completes at once here, with a new generation.
      if (mode === 1) this.st.generation += 1;
    });
  }
  dumpMemory(dest: number) {
    return this.op("dumpMemory", dest, () => "full talloc report on 'ctdb'\n");
  }
  async recoverdMemoryDump(_dest: number) {
    return Buffer.from("full talloc report on 'recoverd'\n\0junk");
  }
  addPublicIp(dest: number, address: string, mask: number, iface: string) {
    return this.op("addPublicIp", dest, () => {
      this.st.calls.push(`addip:${address}/${mask}:${iface}`);
      const list = this.st.publicIps[dest] ?? [];
      list.push({ address, pnn: 0xffffffff });
      this.st.publicIps[dest] = list;
    });
  }
  delPublicIp(dest: number, address: string) {
    return this.op("delPublicIp", dest, () => {
      this.st.publicIps[dest] = (this.st.publicIps[dest] ?? []).filter((ip) => ip.address !== address);
    });
  }
  releaseIp(dest: number, address: string, pnn: number) {
    return this.op("releaseIp", dest, () => {
      this.st.calls.push(`release:${dest}:${address}:${pnn}`);
    });
  }
  takeoverIp(dest: number, address: string, pnn: number) {
    return this.op("takeoverIp", dest, () => {
      for (const list of Object.values(this.st.publicIps)) for (const ip of list) if (ip.address === address) ip.pnn = pnn;
    });
  }
  async broadcastU32(which: string, value: number) {
    this.st.calls.push(`${which}:${value}`);
  }
  getNodesFile(dest: number) {
    return this.op("getNodesFile", dest, () => {
      const f = this.st.nodesFiles[dest];
      if (f === null) {
        this.log(statusFailureLine("GET_NODES_FILE", -1));
        throw new DaemonFailure(-1);
      }
      return (f ?? this.st.nodes).map((n) => ({ ...n }));
    });
  }
  reloadNodesFile(dest: number) {
    return this.op("reloadNodesFile", dest, () => undefined);
  }
  async disableRecoveries(pnns: readonly number[], timeoutSec: number, _waitMs: number) {
    this.st.calls.push(`disable-recoveries:${pnns.join(",")}:${timeoutSec}`);
    return 0;
  }
  async disableTakeoverRuns(pnns: readonly number[], timeoutSec: number, _waitMs: number) {
    this.st.calls.push(`disable-takeover-runs:${pnns.join(",")}:${timeoutSec}`);
    return 0;
  }
  reloadPublicIps(dest: number) {
    return this.op("reloadPublicIps", dest, () => undefined);
  }
  dbAttach(dest: number, name: string, kind: "volatile" | "persistent" | "replicated") {
    return this.op("dbAttach", dest, () => {
      const existing = this.st.dbs.find((d) => d.name === name);
      if (existing !== undefined) return existing.dbId;
      const dbId = 0x10000000 + this.st.dbs.length;
      const flags = kind === "persistent" ? 1 : kind === "replicated" ? 8 : 0;
      this.st.dbs.push({ dbId, name, flags, seqnum: 0n, health: null });
      return dbId;
    });
  }
  recordCall(_req: CallRequest) {
    return this.op("recordCall", this.pnn, () => ({ status: 0, data: Buffer.alloc(0) }));
  }
  scheduleForDeletion(dest: number, dbId: number) {
    return this.op("scheduleForDeletion", dest, () => {
      this.st.calls.push(`schedule-for-deletion:${dest}:${dbId}`);
    });
  }
  getDbStatistics(dest: number, _dbId: number) {
    return this.op("getDbStatistics", dest, () => emptyDbStatistics());
  }
  dbOpenFlags(dest: number, _dbId: number) {
    return this.op("dbOpenFlags", dest, () => 0);
  }
  dbDetach(dest: number, dbId: number) {
    return this.op("dbDetach", dest, () => {
      this.st.dbs = this.st.dbs.filter((d) => d.dbId !== dbId);
    });
  }
  async traverse(dest: number, _dbId: number, onRecord: (key: Buffer, data: Buffer) => void) {
    this.st.calls.push(`traverse:${dest}`);
    for (const [k, d] of this.st.records) onRecord(k, d);
    return 0;
  }
  dbControl(dest: number, op: string, dbId: number) {
    return this.op("dbControl", dest, () => {
      this.st.calls.push(`db-${op}:${dest}:${dbId}`);
    });
  }
  dbTransaction(dest: number, op: string, dbId: number, tid: number) {
    return this.op("dbTransaction", dest, () => {
      this.st.calls.push(`db-${op}:${dest}:${dbId}:${tid}`);
      if (op === "wipe") this.st.records = [];
    });
  }
  async waitForLeader(_timeoutMs: number) {
    return this.st.leader;
  }
  async takeoverRun(_timeoutMs: number): Promise<number | "timeout"> {
    this.st.calls.push("takeoverRun");
    return 0;
  }
  async disconnected() {}
  close() {
    this.closed = true;
  }
}

export interface Captured {
  rc: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in write order, as `2>&1` would show. */
  both: string;
}

/** Run main() against a fake daemon, capturing output. */
export async function runWithFake(
  argv: string[],
  st: FakeState | null,
  env: Record<string, string | undefined> = {},
  stdin = "",
): Promise<Captured> {
  const { main } = await import("../../src/cli/main.ts");
  let stdout = "";
  let stderr = "";
  let both = "";
  const hooks: MainHooks = {
    connect: async (ctx, _socketPath) => {
      if (st === null) {
        ctx.stderr("connect() failed, errno=2\n");
        return { ok: false };
      }
      return { ok: true, daemon: new FakeDaemon(st, (s) => ctx.stderr(s)) };
    },
    stdin: async () => stdin,
  };
  const rc = await main(
    argv,
    {
      env: { CTDB_SOCKET: "/nonexistent/ctdbd.socket", CTDB_BASE: "/nonexistent", ...env },
      stdout: (s) => {
        stdout += s;
        both += s;
      },
      stderr: (s) => {
        stderr += s;
        both += s;
      },
    },
    hooks,
  );
  const out = { rc, stdout, stderr } as Captured;
  // Not enumerable, so tests can still compare {rc, stdout, stderr} as a whole.
  Object.defineProperty(out, "both", { value: both, enumerable: false });
  return out;
}
