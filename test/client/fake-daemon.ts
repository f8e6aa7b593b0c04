// A tiny stand-in for ctdbd's client socket, built on our own codecs, for
// tests that drive CtdbClient or the real ctdb tool. It records every packet
// it receives (and every decode failure) so tests can check both sides.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Control, Operation, SRVID_LEADER } from "../../src/protocol/constants.ts";
import { PacketReader } from "../../src/protocol/framing.ts";
import { decodePacket, encodeReplyControl, encodeReqMessage, type Packet, type ReqControl } from "../../src/protocol/packets.ts";
import { encodeU32 } from "../../src/protocol/types.ts";

export interface FakeReply {
  status: number;
  data?: Buffer;
  errmsg?: string;
}

/** Returns the reply, or null to send none (to provoke client timeouts). */
export type ControlHandler = (req: ReqControl, conn: FakeConnection) => FakeReply | null;

export interface FakeConnection {
  socket: Socket;
  srvids: Set<bigint>;
}

export interface FakeDaemonOptions {
  pnn?: number;
  pid?: number;
  /** If set, LEADER broadcasts carrying this pnn go to registered clients. */
  leader?: number;
  leaderIntervalMs?: number;
}

export class FakeDaemon {
  readonly socketPath: string;
  readonly dir: string;
  readonly received: Packet[] = [];
  readonly rawReceived: Buffer[] = [];
  readonly decodeErrors: Error[] = [];
  readonly connections = new Set<FakeConnection>();
  readonly handlers = new Map<number, ControlHandler>();
  private readonly server: Server;
  private readonly opts: FakeDaemonOptions;
  private leaderTimer: NodeJS.Timeout | undefined;

  private constructor(dir: string, opts: FakeDaemonOptions) {
    this.dir = dir;
    this.socketPath = join(dir, "ctdbd.socket");
    this.opts = opts;
    this.server = createServer((s) => this.onConnection(s));
    this.handlers.set(Control.GET_PNN, () => ({ status: this.opts.pnn ?? 0 }));
    this.handlers.set(Control.GET_PID, () => ({ status: this.opts.pid ?? 4242 }));
    this.handlers.set(Control.REGISTER_SRVID, (req, conn) => {
      conn.srvids.add(req.srvid);
      if (req.srvid === SRVID_LEADER) this.sendLeader(conn);
      return { status: 0 };
    });
    this.handlers.set(Control.DEREGISTER_SRVID, (req, conn) => {
      conn.srvids.delete(req.srvid);
      return { status: 0 };
    });
  }

  static async start(opts: FakeDaemonOptions = {}): Promise<FakeDaemon> {
    const dir = mkdtempSync(join(tmpdir(), "tandem-fake-ctdbd-"));
    const d = new FakeDaemon(dir, opts);
    await new Promise<void>((resolve, reject) => {
      d.server.once("error", reject);
      d.server.listen(d.socketPath, () => resolve());
    });
    if (opts.leader !== undefined) {
      d.leaderTimer = setInterval(() => {
        for (const c of d.connections) d.sendLeader(c);
      }, opts.leaderIntervalMs ?? 1000);
    }
    return d;
  }

  controlsReceived(): number[] {
    return this.received.filter((p): p is ReqControl => p.operation === Operation.REQ_CONTROL).map((p) => p.opcode);
  }

  /** Sends a REQ_MESSAGE to every connection registered for srvid. */
  broadcast(srvid: bigint, data: Buffer): void {
    for (const c of this.connections) {
      if (c.srvids.has(srvid)) this.message(c, srvid, data);
    }
  }

  message(c: FakeConnection, srvid: bigint, data: Buffer): void {
    c.socket.write(
      encodeReqMessage({ operation: Operation.REQ_MESSAGE, generation: 1, destnode: 0, srcnode: 0, reqid: 0, srvid, data }),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.leaderTimer);
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private sendLeader(c: FakeConnection): void {
    if (this.opts.leader !== undefined && c.srvids.has(SRVID_LEADER)) {
      this.message(c, SRVID_LEADER, encodeU32(this.opts.leader));
    }
  }

  private onConnection(socket: Socket): void {
    const conn: FakeConnection = { socket, srvids: new Set() };
    this.connections.add(conn);
    const reader = new PacketReader();
    socket.on("close", () => this.connections.delete(conn));
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      let pkts: Buffer[];
      try {
        pkts = reader.push(chunk);
      } catch (e) {
        this.decodeErrors.push(e as Error);
        socket.destroy();
        return;
      }
      for (const raw of pkts) {
        this.rawReceived.push(raw);
        let p: Packet;
        try {
          p = decodePacket(raw);
        } catch (e) {
          this.decodeErrors.push(e as Error);
          continue;
        }
        this.received.push(p);
        this.handle(p, conn);
      }
    });
  }

  private handle(p: Packet, conn: FakeConnection): void {
    if (p.operation === Operation.REQ_MESSAGE) {
      for (const c of this.connections) if (c.srvids.has(p.srvid)) this.message(c, p.srvid, p.data);
      return;
    }
    if (p.operation !== Operation.REQ_CONTROL) return;
    const h = this.handlers.get(p.opcode);
    const reply = h ? h(p, conn) : { status: -1, errmsg: `fake daemon: control ${p.opcode} not implemented` };
    if (reply === null || p.flags & 1) return;
    conn.socket.write(
      encodeReplyControl({
        operation: Operation.REPLY_CONTROL,
        generation: 1,
        destnode: p.srcnode,
        srcnode: this.opts.pnn ?? 0,
        reqid: p.reqid,
        status: reply.status,
        data: reply.data ?? Buffer.alloc(0),
        errmsg: reply.errmsg ?? "",
      }),
    );
  }
}
