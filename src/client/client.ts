// Client side of CTDB's unix-socket protocol, shaped like CTDB's own client
// library (CTDB's client/client_connect.c, client_control.c,
// client_message.c): connect, learn our PNN with GET_PNN, then send controls
// matched to replies by reqid and receive messages by srvid.
import { createConnection, type Socket } from "node:net";
import {
  CURRENT_NODE,
  Control,
  ControlFlag,

  Operation,
  SRVID_LEADER,
  UNKNOWN_PNN,
} from "../protocol/constants.ts";
import { PacketReader } from "../protocol/framing.ts";
import { decodePacket, encodeReqCall, encodeReqControl, encodeReqMessage, encodeReqTunnel, type Packet } from "../protocol/packets.ts";
import { ControlError, ControlTimeoutError } from "./errors.ts";

export { ControlError, ControlTimeoutError };

export interface ControlReply {
  status: number;
  data: Buffer;
  errmsg: string;
}

export interface ControlOptions {
  srvid?: bigint;
  flags?: number;
  timeoutMs?: number;
}

export type MessageHandler = (data: Buffer, srvid: bigint) => void;
export type TunnelHandler = (data: Buffer, from: { pnn: number; flags: number }) => void;

/** A REQ_CALL for a record (CTDB's ctdb_req_call). */
export interface CallRequest {
  dbId: number;
  key: Buffer;
  /** CallFlag bits, e.g. IMMEDIATE_MIGRATION. */
  flags: number;
  /** Call function: NULL_FUNC, FETCH_FUNC, FETCH_WITH_HEADER_FUNC. */
  callid: number;
  calldata?: Buffer;
}

interface Pending {
  opcode: number;
  resolve: (r: ControlReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

/** Marks a pending REPLY_CALL among the pending controls (no control has this opcode). */
const CALL_OPCODE = -1;

export class CtdbClient {
  readonly socketPath: string;
  private _pnn = UNKNOWN_PNN;
  private readonly socket: Socket;
  private readonly defaultTimeoutMs: number;
  private readonly reader = new PacketReader();
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<bigint, Set<MessageHandler>>();
  private readonly tunnels = new Map<bigint, TunnelHandler>();
  private readonly disconnectCallbacks: (() => void)[] = [];
  private nextReqid = 1;
  private closedReason: Error | undefined;
  private leaderRegistration: Promise<void> | undefined;
  private leaderPnn = UNKNOWN_PNN;
  private readonly leaderWaiters = new Set<(pnn: number) => void>();

  private constructor(socket: Socket, socketPath: string, defaultTimeoutMs: number) {
    this.socket = socket;
    this.socketPath = socketPath;
    this.defaultTimeoutMs = defaultTimeoutMs;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => this.shutdown(new Error(`connection to CTDB daemon (${socketPath}) failed: ${err.message}`)));
    socket.on("close", () => this.shutdown(new Error(`connection to CTDB daemon (${socketPath}) closed`)));
  }

  /** The daemon's PNN, as answered to GET_PNN while connecting. */
  get pnn(): number {
    return this._pnn;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /**
   * Connects and asks the daemon's PNN. opts.timeoutMs bounds the connect and
   * the GET_PNN, and is the default per-control timeout afterwards (10 s, the
   * ctdb tool's default).
   */
  static async connect(socketPath: string, opts?: { timeoutMs?: number }): Promise<CtdbClient> {
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ path: socketPath });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`Failed to connect to CTDB daemon (${socketPath}): timed out`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        s.removeAllListeners("error");
        resolve(s);
      });
      s.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        s.destroy();
        reject(new Error(`Failed to connect to CTDB daemon (${socketPath}): ${err.code ?? err.message}`));
      });
    });
    const client = new CtdbClient(socket, socketPath, timeoutMs);
    try {
      const r = await client.control(CURRENT_NODE, Control.GET_PNN);
      if (r.status < 0) throw new ControlError(Control.GET_PNN, r.status, r.errmsg);
      client._pnn = r.status >>> 0;
    } catch (e) {
      client.close();
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`Failed to connect to CTDB daemon (${socketPath}): GET_PNN: ${why}`);
    }
    return client;
  }

  control(destnode: number, opcode: number, data: Buffer = EMPTY, opts?: ControlOptions): Promise<ControlReply> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    const flags = opts?.flags ?? 0;
    const reqid = this.allocReqid();
    const pkt = encodeReqControl({
      operation: Operation.REQ_CONTROL,
      generation: 0,
      destnode,
      srcnode: this._pnn,
      reqid,
      opcode,
      srvid: opts?.srvid ?? 0n,
      clientId: 0,
      flags,
      data,
    });
    if (flags & ControlFlag.NOREPLY) {
      this.socket.write(pkt);
      return Promise.resolve({ status: 0, data: EMPTY, errmsg: "" });
    }
    return new Promise<ControlReply>((resolve, reject) => {
      const timeoutMs = opts?.timeoutMs ?? this.defaultTimeoutMs;
      const p: Pending = { opcode, resolve, reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.pending.delete(reqid);
          reject(new ControlTimeoutError(opcode));
        }, timeoutMs);
      }
      this.pending.set(reqid, p);
      this.socket.write(pkt);
    });
  }

  /** Sends a REQ_CALL to the local daemon and waits for its REPLY_CALL (a REPLY_ERROR rejects). */
  call(req: CallRequest, opts?: { timeoutMs?: number }): Promise<{ status: number; data: Buffer }> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    const reqid = this.allocReqid();
    const pkt = encodeReqCall({
      operation: Operation.REQ_CALL,
      generation: 0,
      destnode: CURRENT_NODE,
      srcnode: this._pnn,
      reqid,
      flags: req.flags,
      dbId: req.dbId,
      callid: req.callid,
      hopcount: 0,
      key: req.key,
      calldata: req.calldata ?? EMPTY,
    });
    return new Promise((resolve, reject) => {
      const timeoutMs = opts?.timeoutMs ?? this.defaultTimeoutMs;
      const p: Pending = { opcode: CALL_OPCODE, resolve: (r) => resolve({ status: r.status, data: r.data }), reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.pending.delete(reqid);
          reject(new Error(`call on database 0x${(req.dbId >>> 0).toString(16)} timed out`));
        }, timeoutMs);
      }
      this.pending.set(reqid, p);
      this.socket.write(pkt);
    });
  }

  /** Receives tunnel packets for id on this node (TUNNEL_REGISTER); one client per id. */
  async registerTunnel(id: bigint, handler: TunnelHandler): Promise<void> {
    const r = await this.control(this._pnn, Control.TUNNEL_REGISTER, EMPTY, { srvid: id });
    if (r.status !== 0) throw new ControlError(Control.TUNNEL_REGISTER, r.status, r.errmsg);
    this.tunnels.set(id, handler);
  }

  async deregisterTunnel(id: bigint): Promise<void> {
    if (!this.tunnels.delete(id)) return;
    const r = await this.control(this._pnn, Control.TUNNEL_DEREGISTER, EMPTY, { srvid: id });
    if (r.status !== 0) throw new ControlError(Control.TUNNEL_DEREGISTER, r.status, r.errmsg);
  }

  /** Sends data down tunnel id to a node (or a broadcast destination). */
  sendTunnel(destnode: number, id: bigint, data: Buffer, flags: number): void {
    if (this.closedReason) throw this.closedReason;
    this.socket.write(
      encodeReqTunnel({ operation: Operation.REQ_TUNNEL, generation: 0, destnode, srcnode: this._pnn, reqid: this.allocReqid(), tunnelId: id, flags, data }),
    );
  }

  /** Adds a handler for srvid; the daemon is asked to route it to us on the first one. */
  async registerSrvid(srvid: bigint, handler: MessageHandler): Promise<void> {
    let set = this.handlers.get(srvid);
    const first = set === undefined && !(srvid === SRVID_LEADER && this.leaderRegistration);
    if (!set) {
      set = new Set();
      this.handlers.set(srvid, set);
    }
    set.add(handler);
    if (!first) {
      if (srvid === SRVID_LEADER && this.leaderRegistration) await this.leaderRegistration;
      return;
    }
    try {
      await this.registerWithDaemon(srvid);
    } catch (e) {
      set.delete(handler);
      if (set.size === 0) this.handlers.delete(srvid);
      throw e;
    }
  }

  /** Drops every handler for srvid and tells the daemon. */
  async deregisterSrvid(srvid: bigint): Promise<void> {
    if (!this.handlers.delete(srvid)) return;
    if (srvid === SRVID_LEADER && this.leaderRegistration) return;
    const r = await this.control(this._pnn, Control.DEREGISTER_SRVID, EMPTY, { srvid });
    if (r.status !== 0) throw new ControlError(Control.DEREGISTER_SRVID, r.status, r.errmsg);
  }

  sendMessage(destnode: number, srvid: bigint, data: Buffer): void {
    if (this.closedReason) throw this.closedReason;
    this.socket.write(
      encodeReqMessage({
        operation: Operation.REQ_MESSAGE,
        generation: 0,
        destnode,
        srcnode: this._pnn,
        reqid: this.allocReqid(),
        srvid,
        data,
      }),
    );
  }

  /**
   * The leader PNN as announced by the periodic LEADER broadcast, like the
   * ctdb tool's get_leader: the last value heard if it named a node, else
   * the next announcement; UNKNOWN_PNN if none comes within timeoutMs.
   */
  async waitForLeader(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    if (!this.leaderRegistration) {
      const needRegister = !this.handlers.has(SRVID_LEADER);
      this.leaderRegistration = needRegister ? this.registerWithDaemon(SRVID_LEADER) : Promise.resolve();
      this.leaderRegistration.catch(() => {
        this.leaderRegistration = undefined;
      });
    }
    await this.leaderRegistration;
    if (this.leaderPnn !== UNKNOWN_PNN) return this.leaderPnn;
    if (this.closedReason) return UNKNOWN_PNN;
    return new Promise<number>((resolve) => {
      const done = (pnn: number): void => {
        clearTimeout(timer);
        this.leaderWaiters.delete(done);
        resolve(pnn);
      };
      const timer = setTimeout(() => done(UNKNOWN_PNN), Math.max(0, deadline - Date.now()));
      this.leaderWaiters.add(done);
    });
  }

  /** Called once when the connection ends, for whatever reason. */
  onDisconnect(cb: () => void): void {
    if (this.closedReason) queueMicrotask(cb);
    else this.disconnectCallbacks.push(cb);
  }

  close(): void {
    this.shutdown(new Error(`connection to CTDB daemon (${this.socketPath}) closed by client`));
  }

  private async registerWithDaemon(srvid: bigint): Promise<void> {
    // Like CTDB's client, address our own PNN rather than CURRENT_NODE.
    const r = await this.control(this._pnn, Control.REGISTER_SRVID, EMPTY, { srvid });
    if (r.status !== 0) throw new ControlError(Control.REGISTER_SRVID, r.status, r.errmsg);
  }

  private allocReqid(): number {
    // Skip 0 and ids still waiting for a reply after a wrap-around.
    for (;;) {
      const id = this.nextReqid;
      this.nextReqid = id >= 0xfffffffe ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private onData(chunk: Buffer): void {
    let packets: Buffer[];
    try {
      packets = this.reader.push(chunk);
    } catch (e) {
      this.shutdown(new Error(`protocol error from CTDB daemon (${this.socketPath}): ${(e as Error).message}`));
      return;
    }
    for (const raw of packets) {
      if (this.closedReason) return;
      let pkt: Packet;
      try {
        pkt = decodePacket(raw);
      } catch (e) {
        this.shutdown(new Error(`protocol error from CTDB daemon (${this.socketPath}): ${(e as Error).message}`));
        return;
      }
      this.dispatch(pkt);
    }
  }

  private dispatch(pkt: Packet): void {
    switch (pkt.operation) {
      case Operation.REPLY_CONTROL: {
        const p = this.pending.get(pkt.reqid);
        if (!p) return; // late reply after a timeout: ignore as CTDB does
        this.pending.delete(pkt.reqid);
        clearTimeout(p.timer);
        p.resolve({ status: pkt.status, data: pkt.data, errmsg: pkt.errmsg });
        return;
      }
      case Operation.REPLY_ERROR: {
        const p = this.pending.get(pkt.reqid);
        if (!p) return;
        this.pending.delete(pkt.reqid);
        clearTimeout(p.timer);
        p.reject(new ControlError(p.opcode, pkt.status, pkt.errmsg));
        return;
      }
      case Operation.REPLY_CALL: {
        const p = this.pending.get(pkt.reqid);
        if (!p) return;
        this.pending.delete(pkt.reqid);
        clearTimeout(p.timer);
        p.resolve({ status: pkt.status, data: pkt.data, errmsg: "" });
        return;
      }
      case Operation.REQ_MESSAGE:
        this.deliver(pkt.srvid, pkt.data);
        return;
      case Operation.REQ_TUNNEL: {
        const h = this.tunnels.get(pkt.tunnelId);
        if (h === undefined) return;
        try {
          h(pkt.data, { pnn: pkt.srcnode, flags: pkt.flags });
        } catch (e) {
          process.emitWarning(`CTDB tunnel handler for 0x${pkt.tunnelId.toString(16)} threw: ${(e as Error).message}`);
        }
        return;
      }
      default:
        return; // CTDB's client ignores operations it does not expect
    }
  }

  private deliver(srvid: bigint, data: Buffer): void {
    if (srvid === SRVID_LEADER && data.length >= 4) {
      this.leaderPnn = data.readUInt32LE(0);
      if (this.leaderPnn !== UNKNOWN_PNN) {
        for (const w of [...this.leaderWaiters]) w(this.leaderPnn);
      }
    }
    const set = this.handlers.get(srvid);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(data, srvid);
      } catch (e) {
        process.emitWarning(`CTDB message handler for srvid 0x${srvid.toString(16)} threw: ${(e as Error).message}`);
      }
    }
  }

  private shutdown(reason: Error): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.socket.destroy();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    for (const w of [...this.leaderWaiters]) w(UNKNOWN_PNN);
    for (const cb of this.disconnectCallbacks.splice(0)) {
      try {
        cb();
      } catch {
        // a disconnect callback must not break the others
      }
    }
  }
}

