// The TCP shell between nodes: one connection per pair of nodes, opened by the
// lower PNN (so there is never a race of two half-connections), bound to the
// node's own address so the other end can tell who it is from the source
// address alone. Connections from addresses not in the nodes file are refused.
// A closed connection is reported at once; the opener retries with backoff.
// With a shared key, both ends prove it (HMAC over the other's nonce) before
// the peer counts as connected.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import net from "node:net";
import { parseClusterPacket } from "../cluster/packet.ts";
import type { ClusterPacket, LogLevel } from "../cluster/types.ts";
import { Channel, encodeFrame, encodeJsonFrame, type Frame, FrameReader } from "./frame.ts";
import { compatible, formatVersion, helloVersion, TRANSPORT_VERSION, type TransportVersion } from "./version.ts";

export interface TransportOptions {
  pnn: number;
  nodes: readonly { pnn: number; address: string; deleted: boolean }[];
  port: number;
  sharedKey?: string | undefined;
  /** The transport version this node announces (default: this build's). */
  version?: TransportVersion;
  log: (level: LogLevel, message: string) => void;
  onPeerUp: (pnn: number) => void;
  onPeerDown: (pnn: number) => void;
  onCluster: (pnn: number, packet: ClusterPacket) => void;
  onCtdb: (pnn: number, packet: Buffer) => void;
  /** A database message (recovery, persistent commits); none expected when unset. */
  onDatabase?: (pnn: number, payload: Buffer) => void;
}

interface Link {
  socket: net.Socket;
  up: boolean;
  nonce: Buffer;
  peerHello: boolean;
  peerProved: boolean;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1000;

export function normaliseAddress(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export class Transport {
  /** Frames sent and received, by channel (CTDB packets, our cluster packets), for STATISTICS. */
  readonly counters = { ctdbSent: 0, ctdbRecv: 0, clusterSent: 0, clusterRecv: 0 };
  private server: net.Server | undefined;
  private links = new Map<number, Link>();
  private retryMs = new Map<number, number>();
  private retryTimers = new Map<number, NodeJS.Timeout>();
  private closed = false;
  private readonly self: { address: string };
  /** Per peer: how often its link came up and went down (for metrics). */
  readonly peerStats = new Map<number, { ups: number; downs: number }>();
  /** What each peer announced in its last hello. */
  readonly peerVersions = new Map<number, TransportVersion>();
  /** What each refused peer announced (a version we cannot speak, or a malformed one). */
  readonly refusedVersions = new Map<number, string>();
  /** Incompatible peers already logged, so reconnect attempts do not flood the log. */
  private refusedLogged = new Set<string>();

  constructor(private readonly opts: TransportOptions) {
    const self = opts.nodes.find((n) => n.pnn === opts.pnn);
    if (self === undefined) throw new Error(`PNN ${opts.pnn} is not in the nodes file`);
    this.self = self;
  }

  async start(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.self.address, port: this.opts.port, exclusive: true }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.opts.log("error", `Node listener: ${err.message}`));
    this.server = server;
    for (const node of this.opts.nodes) {
      if (!node.deleted && node.pnn > this.opts.pnn) this.connect(node.pnn);
    }
  }

  isUp(pnn: number): boolean {
    return this.links.get(pnn)?.up === true;
  }

  send(pnn: number, packet: ClusterPacket): void {
    const link = this.links.get(pnn);
    if (!link?.up) return;
    this.counters.clusterSent++;
    link.socket.write(encodeJsonFrame(Channel.CLUSTER, packet));
  }

  sendCtdb(pnn: number, packet: Buffer): boolean {
    const link = this.links.get(pnn);
    if (!link?.up) return false;
    this.counters.ctdbSent++;
    link.socket.write(encodeFrame(Channel.CTDB, packet));
    return true;
  }

  sendDatabase(pnn: number, payload: Buffer): boolean {
    const link = this.links.get(pnn);
    if (!link?.up) return false;
    link.socket.write(encodeFrame(Channel.DATABASE, payload));
    return true;
  }

  drop(pnn: number, reason: string): void {
    const link = this.links.get(pnn);
    if (link === undefined) return;
    this.opts.log("notice", `Dropping connection to node ${pnn}: ${reason}`);
    link.socket.destroy();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    for (const link of this.links.values()) link.socket.destroy();
    this.server?.close();
  }

  private nodeByAddress(address: string): number | undefined {
    const wanted = normaliseAddress(address);
    return this.opts.nodes.find((n) => !n.deleted && n.address === wanted)?.pnn;
  }

  private accept(socket: net.Socket): void {
    const from = socket.remoteAddress ?? "";
    const pnn = this.nodeByAddress(from);
    if (pnn === undefined || pnn >= this.opts.pnn) {
      this.opts.log("warning", `Refused node connection from ${from}: not a lower-numbered node in the nodes file`);
      socket.destroy();
      return;
    }
    const existing = this.links.get(pnn);
    if (existing !== undefined) existing.socket.destroy();
    this.attach(pnn, socket);
  }

  private connect(pnn: number): void {
    if (this.closed) return;
    const node = this.opts.nodes.find((n) => n.pnn === pnn)!;
    const socket = net.connect({ host: node.address, port: this.opts.port, localAddress: this.self.address });
    socket.setTimeout(2000, () => socket.destroy(new Error("connect timed out")));
    socket.once("connect", () => socket.setTimeout(0));
    this.attach(pnn, socket);
  }

  private scheduleReconnect(pnn: number): void {
    if (this.closed || pnn < this.opts.pnn) return;
    const delay = this.retryMs.get(pnn) ?? RETRY_MIN_MS;
    this.retryMs.set(pnn, Math.min(delay * 2, RETRY_MAX_MS));
    clearTimeout(this.retryTimers.get(pnn));
    this.retryTimers.set(
      pnn,
      setTimeout(() => this.connect(pnn), delay),
    );
  }

  private attach(pnn: number, socket: net.Socket): void {
    const link: Link = { socket, up: false, nonce: randomBytes(16), peerHello: false, peerProved: false };
    this.links.set(pnn, link);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    const reader = new FrameReader();
    const sayHello = () =>
      socket.write(
        encodeJsonFrame(Channel.HELLO, {
          pnn: this.opts.pnn,
          nonce: link.nonce.toString("hex"),
          transport: formatVersion(this.version),
        }),
      );
    if (socket.readyState === "open") sayHello();
    else socket.once("connect", sayHello);
    socket.on("data", (chunk) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.opts.log("error", `Node ${pnn}: ${(err as Error).message}; closing connection`);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (socket.destroyed) return;
        this.onFrame(pnn, link, frame);
      }
    });
    socket.on("error", (err) => this.opts.log("debug", `Node ${pnn} connection: ${err.message}`));
    socket.on("close", () => {
      if (this.links.get(pnn) === link) {
        this.links.delete(pnn);
        this.peerVersions.delete(pnn);
      }
      if (link.up) {
        this.countPeer(pnn, "downs");
        this.opts.onPeerDown(pnn);
      }
      this.scheduleReconnect(pnn);
    });
  }

  private onFrame(pnn: number, link: Link, frame: Frame): void {
    if (frame.channel === Channel.HELLO) return this.onHello(pnn, link, frame.payload);
    if (!link.up) {
      this.opts.log("error", `Node ${pnn} sent data before its hello; closing connection`);
      link.socket.destroy();
      return;
    }
    if (frame.channel === Channel.CTDB) {
      this.counters.ctdbRecv++;
      return this.opts.onCtdb(pnn, frame.payload);
    }
    if (frame.channel === Channel.DATABASE) return this.opts.onDatabase?.(pnn, frame.payload);
    this.counters.clusterRecv++;
    try {
      this.opts.onCluster(pnn, parseClusterPacket(JSON.parse(frame.payload.toString())));
    } catch (err) {
      this.opts.log("error", `Node ${pnn} sent a bad cluster packet: ${(err as Error).message}; closing connection`);
      link.socket.destroy();
    }
  }

  private proof(nonceHex: string, pnn: number): string {
    return createHmac("sha256", this.opts.sharedKey ?? "")
      .update(`${nonceHex}:${pnn}`)
      .digest("hex");
  }

  get version(): TransportVersion {
    return this.opts.version ?? TRANSPORT_VERSION;
  }

  private onHello(pnn: number, link: Link, payload: Buffer): void {
    let hello: { pnn?: unknown; nonce?: unknown; proof?: unknown; transport?: unknown };
    try {
      hello = JSON.parse(payload.toString());
    } catch {
      hello = {};
    }
    if (hello.pnn !== pnn) {
      this.opts.log("error", `Connection for node ${pnn} introduced itself as ${String(hello.pnn)}; closing it`);
      link.socket.destroy();
      return;
    }
    if (typeof hello.nonce === "string") {
      const theirs = helloVersion(hello.transport);
      if (theirs === undefined || !compatible(theirs, this.version)) {
        const said = theirs === undefined ? `a malformed version ${JSON.stringify(hello.transport)}` : `version ${formatVersion(theirs)}`;
        const key = `${pnn}:${said}`;
        if (!this.refusedLogged.has(key)) {
          this.refusedLogged.add(key);
          this.opts.log(
            "error",
            `Node ${pnn} speaks Tandem transport ${said}, incompatible with this node's ${formatVersion(this.version)}: not joining it (run compatible tandemd versions on every node)`,
          );
        }
        this.refusedVersions.set(pnn, theirs === undefined ? String(hello.transport) : formatVersion(theirs));
        link.socket.destroy();
        return;
      }
      this.refusedVersions.delete(pnn);
      this.peerVersions.set(pnn, theirs);
    }
    const key = this.opts.sharedKey;
    if (typeof hello.nonce === "string" && !link.peerHello) {
      link.peerHello = true;
      if (key !== undefined) {
        link.socket.write(encodeJsonFrame(Channel.HELLO, { pnn: this.opts.pnn, proof: this.proof(hello.nonce, this.opts.pnn) }));
      }
    } else if (typeof hello.proof === "string" && key !== undefined) {
      const want = Buffer.from(this.proof(link.nonce.toString("hex"), pnn));
      const got = Buffer.from(hello.proof);
      if (want.length !== got.length || !timingSafeEqual(want, got)) {
        this.opts.log("error", `Node ${pnn} failed to prove the shared key; closing connection`);
        link.socket.destroy();
        return;
      }
      link.peerProved = true;
    }
    if (!link.up && link.peerHello && (key === undefined || link.peerProved)) {
      link.up = true;
      this.retryMs.delete(pnn);
      this.countPeer(pnn, "ups");
      this.opts.onPeerUp(pnn);
    }
  }

  private countPeer(pnn: number, which: "ups" | "downs"): void {
    const stats = this.peerStats.get(pnn) ?? { ups: 0, downs: 0 };
    stats[which]++;
    this.peerStats.set(pnn, stats);
  }
}
