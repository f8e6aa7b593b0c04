/**
 * The Daemon interface over the real client socket, printing the same
 * failure log lines as CTDB's client library. Loaded only by commands that
 * need the daemon, so `tandem version` and `tandem listnodes` never pay for
 * the protocol modules.
 */
import type { CallRequest } from "../client/client.ts";
import { type DbStatisticsWire, decodeDbStatistics, encodeKeyData } from "../protocol/database.ts";
import type { LtdbHeader } from "../protocol/types.ts";
import { constants as osConstants } from "node:os";
import { CtdbClient } from "../client/client.ts";
import * as controls from "../client/controls.ts";
import { ControlError, ControlTimeoutError } from "../client/errors.ts";
import {
  BROADCAST_CONNECTED,
  Control,
  ControlFlag,
  SRVID_CLIENT_RANGE,
  SRVID_CTDB_TOOL,
  SRVID_DISABLE_IP_CHECK,
  SRVID_DISABLE_RECOVERIES,
  SRVID_DISABLE_TAKEOVER_RUNS,
  SRVID_MEM_DUMP,
  SRVID_REBALANCE_NODE,
  SRVID_TAKEOVER_RUN,
  UNKNOWN_PNN,
} from "../protocol/constants.ts";
import {
  decodeDbidMap,
  decodeI32,
  decodeU32,
  decodeNodeMap,
  decodePublicIpInfo,
  decodeString,
  decodeTickleList,
  encodeConnection,
  encodeDisableMessage,
  decodeU64,
  encodePidSrvid,
  encodePublicIp,
  encodeU32,
  encodeAddrInfo,
  encodeBanState,
  encodeIface,
  encodeSockAddr,
  encodeSrvidMessage,
  encodeTransdb,
  encodeTraverseStart,
} from "../protocol/types.ts";
import type { CliContext } from "./context.ts";
import {
  CONTROL_LOG_NAMES,
  type Connection,
  type Daemon,
  DaemonFailure,
  type TickleList,
  type PublicIpDetails,
  type PublicIpEntry,
  statusFailureLine,
  transportFailureLine,
} from "./daemon.ts";
import type { NodeEntry } from "./format/nodemap.ts";
import { decodeRecData } from "./format/records.ts";
import { decodeStatistics, decodeStatisticsList, type Statistics } from "./format/statistics.ts";
import type { Iface } from "./format/simple.ts";
import type { Uptime } from "./format/uptime.ts";

const ETIMEDOUT = 110;
const EMPTY = Buffer.alloc(0);
const EIO = 5;

/**
 * The daemon went away in the middle of a command. ctdb's client exits
 * with status 1 then, without a message at the default log level.
 */
export class DaemonGone extends Error {
  constructor() {
    super("connection to daemon closed");
    this.name = "DaemonGone";
  }
}

export type ConnectResult = { ok: true; daemon: Daemon } | { ok: false };

function errnoOf(code: string | undefined): number {
  if (code === undefined) return EIO;
  const n = (osConstants.errno as Record<string, number>)[code];
  return n ?? EIO;
}

/** Connect as ctdb does, printing its log line ("connect() failed, errno=N") on failure. */
export async function connectDaemon(ctx: CliContext, socketPath: string): Promise<ConnectResult> {
  let client: CtdbClient;
  try {
    client = await CtdbClient.connect(socketPath, { timeoutMs: ctx.timeoutSec * 1000 });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // The client names the errno code last for connect() failures; GET_PNN failures say so.
    if (!msg.includes("GET_PNN")) {
      const m = /: ([A-Z][A-Z0-9_]+)$/.exec(msg);
      ctx.stderr(`connect() failed, errno=${errnoOf(m?.[1])}\n`);
    }
    return { ok: false };
  }
  return { ok: true, daemon: new ClientDaemon(ctx, client) };
}

function connectionBytes(c: Connection): Buffer {
  return encodeConnection({ src: { addr: c.src.address, port: c.src.port }, dst: { addr: c.dst.address, port: c.dst.port } });
}

class ClientDaemon implements Daemon {
  private srvidCounter: bigint;

  constructor(
    private readonly ctx: CliContext,
    private readonly client: CtdbClient,
  ) {
    this.srvidCounter = SRVID_CTDB_TOOL | (BigInt(process.pid & 0xffff) << 16n);
  }

  get pnn(): number {
    return this.client.pnn;
  }

  private get timeoutMs(): number {
    return this.ctx.timeoutSec * 1000;
  }

  private async call<T>(
    name: keyof typeof CONTROL_LOG_NAMES,
    dest: number,
    f: (t: number) => Promise<T>,
    quiet = false,
  ): Promise<T> {
    const control = CONTROL_LOG_NAMES[name];
    const log = (s: string) => {
      if (!quiet) this.ctx.stderr(s);
    };
    try {
      return await f(this.timeoutMs);
    } catch (e) {
      if (e instanceof ControlError) {
        log(statusFailureLine(control, e.status));
        throw new DaemonFailure(e.status, undefined, true);
      }
      if (e instanceof ControlTimeoutError) {
        log(transportFailureLine(control, dest, ETIMEDOUT));
        throw new DaemonFailure(ETIMEDOUT);
      }
      if (this.client.closed) throw new DaemonGone();
      log(transportFailureLine(control, dest, EIO));
      throw new DaemonFailure(EIO);
    }
  }

  getNodemap(dest: number, quiet = false): Promise<NodeEntry[]> {
    return this.call(
      "getNodemap",
      dest,
      async (t) => (await controls.getNodemap(this.client, dest, t)).nodes.map((n) => ({ pnn: n.pnn, address: n.addr, flags: n.flags })),
      quiet,
    );
  }

  getRunstate(dest: number): Promise<number> {
    return this.call("getRunstate", dest, (t) => controls.getRunstate(this.client, dest, t));
  }

  getIfaces(dest: number): Promise<Iface[]> {
    return this.call("getIfaces", dest, async (t) =>
      (await controls.getIfaces(this.client, dest, t)).map((i) => ({ name: i.name, linkState: i.linkState, references: i.references })),
    );
  }

  getVnnmap(dest: number): Promise<{ generation: number; map: number[] }> {
    return this.call("getVnnmap", dest, (t) => controls.getVnnmap(this.client, dest, t));
  }

  getRecmode(dest: number): Promise<number> {
    return this.call("getRecmode", dest, (t) => controls.getRecmode(this.client, dest, t));
  }

  getUptime(dest: number): Promise<Uptime> {
    return this.call("getUptime", dest, (t) => controls.getUptime(this.client, dest, t));
  }

  ping(dest: number): Promise<number> {
    return this.call("ping", dest, (t) => controls.ping(this.client, dest, t));
  }

  getPid(dest: number): Promise<number> {
    return this.call("getPid", dest, (t) => controls.getPid(this.client, dest, t));
  }

  getCapabilities(dest: number): Promise<number> {
    return this.call("getCapabilities", dest, (t) => controls.getCapabilities(this.client, dest, t));
  }

  getReclockFile(dest: number): Promise<string | null> {
    // The wrapper gives "" for "no cluster lock"; ctdb prints nothing then.
    return this.call("getReclockFile", dest, async (t) => {
      const r = await controls.getReclockFile(this.client, dest, t);
      return r === "" ? null : r;
    });
  }

  listTunables(dest: number): Promise<string[]> {
    return this.call("listTunables", dest, (t) => controls.listTunables(this.client, dest, t));
  }

  getTunable(dest: number, name: string): Promise<number> {
    return this.call("getTunable", dest, (t) => controls.getTunable(this.client, dest, name, t));
  }

  setTunable(dest: number, name: string, value: number): Promise<void> {
    return this.call("setTunable", dest, async (t) => {
      const status = await controls.setTunable(this.client, dest, name, value, t);
      if (status !== 0) throw new ControlError(0, status, "");
    });
  }

  disableNode(dest: number): Promise<void> {
    return this.call("disableNode", dest, (t) => controls.disableNode(this.client, dest, t));
  }

  enableNode(dest: number): Promise<void> {
    return this.call("enableNode", dest, (t) => controls.enableNode(this.client, dest, t));
  }

  stopNode(dest: number): Promise<void> {
    return this.call("stopNode", dest, (t) => controls.stopNode(this.client, dest, t));
  }

  continueNode(dest: number): Promise<void> {
    return this.call("continueNode", dest, (t) => controls.continueNode(this.client, dest, t));
  }

  shutdown(dest: number): Promise<void> {
    return this.call("shutdown", dest, (t) => controls.shutdown(this.client, dest, t));
  }

  getPublicIps(dest: number, availableOnly = false): Promise<PublicIpEntry[]> {
    const flags = availableOnly ? ControlFlag.PUBLIC_IP_ONLY_AVAILABLE : 0;
    return this.call("getPublicIps", dest, async (t) =>
      (await controls.getPublicIps(this.client, dest, flags, t)).map((ip) => ({ address: ip.addr, pnn: ip.pnn })),
    );
  }

  getPublicIpInfo(dest: number, address: string): Promise<PublicIpDetails> {
    return this.call("getPublicIpInfo", dest, async (t) => {
      const r = await this.ok(dest, Control.GET_PUBLIC_IP_INFO, encodeSockAddr(address), t);
      const info = decodePublicIpInfo(r.data);
      return {
        address: info.ip.addr,
        pnn: info.ip.pnn,
        activeIdx: info.activeIdx,
        ifaces: info.ifaces.map((i) => ({ name: i.name, linkState: i.linkState, references: i.references })),
      };
    });
  }

  setIfaceLinkState(dest: number, iface: Iface): Promise<void> {
    return this.call("setIfaceLinkState", dest, async (t) => {
      await this.ok(dest, Control.SET_IFACE_LINK_STATE, encodeIface(iface), t);
    });
  }

  sendGratuitousArp(dest: number, address: string, iface: string): Promise<void> {
    return this.call("sendGratuitousArp", dest, async (t) => {
      await this.ok(dest, Control.SEND_GRATUITOUS_ARP, encodeAddrInfo({ addr: address, mask: 0, iface }), t);
    });
  }

  getDebug(dest: number): Promise<number> {
    return this.call("getDebug", dest, (t) => controls.getDebug(this.client, dest, t));
  }

  setDebug(dest: number, level: number): Promise<void> {
    return this.call("setDebug", dest, (t) => controls.setDebug(this.client, dest, level, t));
  }

  setBanState(dest: number, pnn: number, seconds: number): Promise<void> {
    return this.call("setBanState", dest, async (t) => {
      await this.ok(dest, Control.SET_BAN_STATE, encodeBanState({ pnn, time: seconds }), t);
    });
  }

  getDbmap(dest: number): Promise<{ dbId: number; flags: number }[]> {
    return this.call("getDbmap", dest, async (t) => decodeDbidMap((await this.ok(dest, Control.GET_DBMAP, EMPTY, t)).data));
  }

  getDbName(dest: number, dbId: number, quiet = false): Promise<string> {
    return this.call("getDbName", dest, async (t) => decodeString((await this.ok(dest, Control.GET_DBNAME, encodeU32(dbId), t)).data), quiet);
  }

  getDbPath(dest: number, dbId: number, quiet = false): Promise<string> {
    return this.call("getDbPath", dest, async (t) => decodeString((await this.ok(dest, Control.GETDBPATH, encodeU32(dbId), t)).data), quiet);
  }

  getDbHealth(dest: number, dbId: number, quiet = false): Promise<string | null> {
    return this.call(
      "getDbHealth",
      dest,
      async (t) => {
        const r = await this.ok(dest, Control.DB_GET_HEALTH, encodeU32(dbId), t);
        return r.data.length === 0 ? null : decodeString(r.data);
      },
      quiet,
    );
  }

  getDbSeqnum(dest: number, dbId: number): Promise<bigint> {
    return this.call("getDbSeqnum", dest, async (t) => {
      const req = Buffer.concat([encodeU32(dbId), encodeU32(0)]);
      return decodeU64((await this.ok(dest, Control.GET_DB_SEQNUM, req, t)).data);
    });
  }

  setDbReadonly(dest: number, dbId: number, quiet = false): Promise<void> {
    return this.call(
      "setDbReadonly",
      dest,
      async (t) => {
        await this.ok(dest, Control.SET_DB_READONLY, encodeU32(dbId), t);
      },
      quiet,
    );
  }

  setDbSticky(dest: number, dbId: number, quiet = false): Promise<void> {
    return this.call(
      "setDbSticky",
      dest,
      async (t) => {
        await this.ok(dest, Control.SET_DB_STICKY, encodeU32(dbId), t);
      },
      quiet,
    );
  }

  processExists(dest: number, pid: number): Promise<number> {
    return this.call("processExists", dest, async (t) => {
      const data = Buffer.alloc(4);
      data.writeInt32LE(pid | 0, 0);
      return (await this.client.control(dest, Control.PROCESS_EXISTS, data, { timeoutMs: t })).status;
    });
  }

  checkPidSrvid(dest: number, pid: number, srvid: bigint): Promise<number> {
    return this.call("checkPidSrvid", dest, async (t) => {
      const data = encodePidSrvid({ pid: pid | 0, srvid });
      return (await this.client.control(dest, Control.CHECK_PID_SRVID, data, { timeoutMs: t })).status;
    });
  }

  setLmasterRole(dest: number, on: boolean): Promise<void> {
    return this.call("setLmasterRole", dest, async (t) => {
      await this.ok(dest, Control.SET_LMASTERROLE, encodeU32(on ? 1 : 0), t);
    });
  }

  setLeaderRole(dest: number, on: boolean): Promise<void> {
    return this.call("setLeaderRole", dest, async (t) => {
      await this.ok(dest, Control.SET_RECMASTERROLE, encodeU32(on ? 1 : 0), t);
    });
  }

  getStatistics(dest: number): Promise<Statistics> {
    return this.call("getStatistics", dest, async (t) => decodeStatistics((await this.ok(dest, Control.STATISTICS, EMPTY, t)).data));
  }

  resetStatistics(dest: number): Promise<void> {
    return this.call("resetStatistics", dest, async (t) => {
      await this.ok(dest, Control.STATISTICS_RESET, EMPTY, t);
    });
  }

  getStatHistory(dest: number): Promise<Statistics[]> {
    return this.call("getStatHistory", dest, async (t) => decodeStatisticsList((await this.ok(dest, Control.GET_STAT_HISTORY, EMPTY, t)).data));
  }

  getTickleList(dest: number, address: string, port: number): Promise<TickleList> {
    return this.call("getTickleList", dest, async (t) => {
      const r = decodeTickleList((await this.ok(dest, Control.GET_TCP_TICKLE_LIST, encodeSockAddr(address, port), t)).data);
      const ep = (a: { addr: string; port: number }) => ({ address: a.addr, port: a.port });
      return { address: r.addr.addr, conns: r.conns.map((c) => ({ src: ep(c.src), dst: ep(c.dst) })) };
    });
  }

  tcpAddDelayedUpdate(dest: number, conn: Connection, quiet = false): Promise<void> {
    return this.call(
      "tcpAddDelayedUpdate",
      dest,
      async (t) => {
        await this.ok(dest, Control.TCP_ADD_DELAYED_UPDATE, connectionBytes(conn), t);
      },
      quiet,
    );
  }

  tcpRemove(dest: number, conn: Connection, quiet = false): Promise<void> {
    return this.call(
      "tcpRemove",
      dest,
      async (t) => {
        await this.ok(dest, Control.TCP_REMOVE, connectionBytes(conn), t);
      },
      quiet,
    );
  }

  setRecmode(dest: number, mode: number): Promise<void> {
    return this.call("setRecmode", dest, async (t) => {
      await this.ok(dest, Control.SET_RECMODE, encodeU32(mode), t);
    });
  }

  dumpMemory(dest: number): Promise<string> {
    return this.call("dumpMemory", dest, async (t) => decodeString((await this.ok(dest, Control.DUMP_MEMORY, EMPTY, t)).data));
  }

  async recoverdMemoryDump(dest: number): Promise<Buffer> {
    const r = await this.requestReply(dest, SRVID_MEM_DUMP, undefined);
    if (r === "timeout") throw new Error("unreachable: no time limit");
    return r;
  }

  /**
   * Send a srvid_message {our pnn, reply srvid} to dest on srvid and wait for
   * the first message on the reply srvid (up to timeoutMs, or forever).
   */
  private async requestReply(dest: number, srvid: bigint, timeoutMs: number | undefined): Promise<Buffer | "timeout"> {
    this.srvidCounter += 1n;
    const replySrvid = this.srvidCounter;
    let answer: ((data: Buffer) => void) | undefined;
    const answered = new Promise<Buffer>((resolve) => {
      answer = resolve;
    });
    await this.client.registerSrvid(replySrvid, (data) => answer?.(data));
    let timer: NodeJS.Timeout | undefined;
    try {
      this.client.sendMessage(dest, srvid, encodeSrvidMessage({ pnn: this.pnn, srvid: replySrvid }));
      const waits: Promise<Buffer | "timeout">[] = [answered];
      if (timeoutMs !== undefined) {
        waits.push(
          new Promise<"timeout">((resolve) => {
            timer = setTimeout(() => resolve("timeout"), timeoutMs);
          }),
        );
      }
      return await Promise.race(waits);
    } finally {
      clearTimeout(timer);
      await this.client.deregisterSrvid(replySrvid).catch(() => undefined);
    }
  }

  addPublicIp(dest: number, address: string, mask: number, iface: string): Promise<void> {
    return this.call("addPublicIp", dest, async (t) => {
      await this.ok(dest, Control.ADD_PUBLIC_IP, encodeAddrInfo({ addr: address, mask, iface }), t);
    });
  }

  delPublicIp(dest: number, address: string): Promise<void> {
    return this.call("delPublicIp", dest, async (t) => {
      // ctdb sends no interface name: a zero-length string, not an empty one.
      const data = Buffer.concat([encodeSockAddr(address), encodeU32(0), encodeU32(0)]);
      await this.ok(dest, Control.DEL_PUBLIC_IP, data, t);
    });
  }

  releaseIp(dest: number, address: string, pnn: number): Promise<void> {
    // Sent to several nodes at once, which ctdb does without logging each failure.
    return this.call(
      "releaseIp",
      dest,
      async (t) => {
        await this.ok(dest, Control.RELEASE_IP, encodePublicIp({ pnn, addr: address }), t);
      },
      true,
    );
  }

  takeoverIp(dest: number, address: string, pnn: number): Promise<void> {
    return this.call("takeoverIp", dest, async (t) => {
      await this.ok(dest, Control.TAKEOVER_IP, encodePublicIp({ pnn, addr: address }), t);
    });
  }

  async broadcastU32(which: "rebalance-node" | "disable-ip-check", value: number): Promise<void> {
    const srvid = which === "rebalance-node" ? SRVID_REBALANCE_NODE : SRVID_DISABLE_IP_CHECK;
    try {
      this.client.sendMessage(BROADCAST_CONNECTED, srvid, encodeU32(value >>> 0));
    } catch {
      throw new DaemonGone();
    }
  }

  getNodesFile(dest: number): Promise<NodeEntry[]> {
    return this.call("getNodesFile", dest, async (t) =>
      decodeNodeMap((await this.ok(dest, Control.GET_NODES_FILE, EMPTY, t)).data).nodes.map((n) => ({
        pnn: n.pnn,
        address: n.addr,
        flags: n.flags,
      })),
    );
  }

  reloadNodesFile(dest: number): Promise<void> {
    return this.call(
      "reloadNodesFile",
      dest,
      async (t) => {
        await this.ok(dest, Control.RELOAD_NODES_FILE, EMPTY, t);
      },
      true,
    );
  }

  disableRecoveries(pnns: readonly number[], timeoutSec: number, waitMs: number): Promise<number | "timeout"> {
    return this.disableOp(SRVID_DISABLE_RECOVERIES, pnns, timeoutSec, waitMs);
  }

  disableTakeoverRuns(pnns: readonly number[], timeoutSec: number, waitMs: number): Promise<number | "timeout"> {
    return this.disableOp(SRVID_DISABLE_TAKEOVER_RUNS, pnns, timeoutSec, waitMs);
  }

  reloadPublicIps(dest: number): Promise<void> {
    return this.call(
      "reloadPublicIps",
      dest,
      async (t) => {
        await this.ok(dest, Control.RELOAD_PUBLIC_IPS, EMPTY, t);
      },
      true,
    );
  }

  private async disableOp(srvid: bigint, pnns: readonly number[], timeoutSec: number, waitMs: number): Promise<number | "timeout"> {
    this.srvidCounter += 1n;
    const replySrvid = this.srvidCounter;
    const replied = new Set<number>();
    let finish: ((v: number) => void) | undefined;
    const done = new Promise<number>((resolve) => {
      finish = resolve;
    });
    await this.client.registerSrvid(replySrvid, (data) => {
      if (data.length !== 4) return;
      // A PNN on success, negative on failure.
      const v = data.readInt32LE(0);
      if (v < 0) {
        finish?.(v);
        return;
      }
      replied.add(v);
      if (pnns.every((p) => replied.has(p >>> 0))) finish?.(0);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const msg = encodeDisableMessage({ pnn: this.pnn, srvid: replySrvid, timeout: timeoutSec >>> 0 });
      for (const p of pnns) this.client.sendMessage(p, srvid, msg);
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), waitMs);
      });
      return await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
      await this.client.deregisterSrvid(replySrvid).catch(() => undefined);
    }
  }

  dbAttach(dest: number, name: string, kind: "volatile" | "persistent" | "replicated"): Promise<number> {
    const opcode = kind === "persistent" ? Control.DB_ATTACH_PERSISTENT : kind === "replicated" ? Control.DB_ATTACH_REPLICATED : Control.DB_ATTACH;
    return this.quiet(dest, async (t) => decodeU32((await this.ok(dest, opcode, Buffer.from(`${name}\0`, "utf8"), t)).data));
  }

  recordCall(req: CallRequest): Promise<{ status: number; data: Buffer }> {
    return this.quiet(this.pnn, (t) => this.client.call(req, { timeoutMs: t }));
  }

  getDbStatistics(dest: number, dbId: number): Promise<DbStatisticsWire> {
    return this.call("getDbStatistics", dest, async (t) => decodeDbStatistics((await this.ok(dest, Control.GET_DB_STATISTICS, encodeU32(dbId), t)).data));
  }

  scheduleForDeletion(dest: number, dbId: number, header: LtdbHeader, key: Buffer): Promise<void> {
    return this.quiet(dest, async (t) => {
      await this.ok(dest, Control.SCHEDULE_FOR_DELETION, encodeKeyData({ dbId, header, key }), t);
    });
  }

  dbOpenFlags(dest: number, dbId: number): Promise<number> {
    return this.quiet(dest, async (t) => decodeI32((await this.ok(dest, Control.DB_OPEN_FLAGS, encodeU32(dbId), t)).data));
  }

  dbDetach(dest: number, dbId: number): Promise<void> {
    return this.quiet(dest, async (t) => {
      await this.ok(dest, Control.DB_DETACH, encodeU32(dbId), t);
    });
  }

  /** A control whose failures the command itself reports. */
  private async quiet<T>(dest: number, f: (t: number) => Promise<T>): Promise<T> {
    return this.call("getDbName", dest, f, true);
  }

  async traverse(dest: number, dbId: number, onRecord: (key: Buffer, data: Buffer) => void): Promise<number> {
    const srvid = SRVID_CLIENT_RANGE | BigInt(process.pid);
    let finish: ((v: number) => void) | undefined;
    const done = new Promise<number>((resolve) => {
      finish = resolve;
    });
    await this.client.registerSrvid(srvid, (data) => {
      const rec = decodeRecData(data);
      if (rec === null) return;
      if (rec.key.length === 0 && rec.data.length === 0) finish?.(0);
      else onRecord(rec.key, rec.data);
    });
    try {
      const req = encodeTraverseStart({ dbId, reqid: 0, srvid, withEmptyRecords: false });
      try {
        await this.ok(dest, Control.TRAVERSE_START_EXT, req, this.timeoutMs);
      } catch (e) {
        if (e instanceof ControlError) {
          this.ctx.stderr(`traverse: control reply failed, ret=${e.status}\n`);
          return e.status;
        }
        if (this.client.closed) throw new DaemonGone();
        const ret = e instanceof ControlTimeoutError ? ETIMEDOUT : EIO;
        this.ctx.stderr(`traverse: control failed, ret=${ret}\n`);
        return ret;
      }
      return await done;
    } finally {
      await this.client.deregisterSrvid(srvid).catch(() => undefined);
    }
  }

  dbControl(dest: number, op: "freeze" | "thaw" | "set-healthy", dbId: number): Promise<void> {
    const opcode = op === "freeze" ? Control.DB_FREEZE : op === "thaw" ? Control.DB_THAW : Control.DB_SET_HEALTHY;
    return this.quiet(dest, async (t) => {
      await this.ok(dest, opcode, encodeU32(dbId), t);
    });
  }

  dbTransaction(dest: number, op: "start" | "wipe" | "commit", dbId: number, tid: number): Promise<void> {
    const opcode = op === "start" ? Control.DB_TRANSACTION_START : op === "wipe" ? Control.WIPE_DATABASE : Control.DB_TRANSACTION_COMMIT;
    return this.quiet(dest, async (t) => {
      await this.ok(dest, opcode, encodeTransdb({ dbId, tid }), t);
    });
  }

  private async ok(dest: number, opcode: number, data: Buffer, timeoutMs: number): Promise<{ data: Buffer }> {
    const r = await this.client.control(dest, opcode, data, { timeoutMs });
    if (r.status !== 0) throw new ControlError(opcode, r.status, r.errmsg);
    return r;
  }

  async waitForLeader(timeoutMs: number): Promise<number> {
    try {
      return await this.client.waitForLeader(timeoutMs);
    } catch {
      if (this.client.closed) throw new DaemonGone();
      return UNKNOWN_PNN;
    }
  }

  async takeoverRun(timeoutMs: number): Promise<number | "timeout"> {
    this.srvidCounter += 1n;
    const srvid = this.srvidCounter;
    let answer: ((status: number) => void) | undefined;
    const answered = new Promise<number>((resolve) => {
      answer = resolve;
    });
    await this.client.registerSrvid(srvid, (data) => {
      // ctdb ignores answers that are not exactly one C int.
      if (data.length === 4) answer?.(data.readInt32LE(0));
    });
    try {
      this.client.sendMessage(BROADCAST_CONNECTED, SRVID_TAKEOVER_RUN, encodeSrvidMessage({ pnn: this.pnn, srvid }));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        return await Promise.race([answered, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await this.client.deregisterSrvid(srvid).catch(() => undefined);
    }
  }

  disconnected(): Promise<void> {
    return new Promise((resolve) => this.client.onDisconnect(resolve));
  }

  close(): void {
    this.client.close();
  }
}
