// The client socket: CTDB's client protocol over a unix stream socket. Every
// packet is length-checked by the reader and decoded with bounds checks; a
// malformed one closes that client's connection with a log line and nothing
// else. Which packets go where is the router's business (router.ts).

import fs from "node:fs";
import net from "node:net";
import type { Log } from "./logger.ts";
import { PacketReader } from "../protocol/framing.ts";
import { decodePacket, type Packet } from "../protocol/packets.ts";
import { peerPid } from "./peercred.ts";

export class ClientConnection {
  readonly srvids = new Set<bigint>();
  readonly notifications = new Map<bigint, Buffer>();
  private static nextId = 1;
  readonly id = ClientConnection.nextId++;
  /** The client process (SO_PEERCRED), read when the connection is accepted. */
  readonly pid: number | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly counters: ClientCounters = { sent: 0, recv: 0 },
  ) {
    this.pid = peerPid(socket);
  }

  write(packet: Buffer): void {
    if (this.socket.destroyed) return;
    this.counters.sent++;
    this.socket.write(packet);
  }
}

/** Packets to and from all clients, for STATISTICS. */
export interface ClientCounters {
  sent: number;
  recv: number;
}

export interface ClientHandlers {
  onPacket(client: ClientConnection, packet: Packet): void;
  onClose(client: ClientConnection): void;
}

export class ClientServer {
  readonly clients = new Set<ClientConnection>();
  readonly counters: ClientCounters = { sent: 0, recv: 0 };
  /** Called for every accepted connection (the memory reclaimer counts them). */
  onSession: () => void = () => {};
  private server: net.Server | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly handlers: ClientHandlers,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    await removeStaleSocket(this.socketPath);
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  close(): void {
    for (const client of this.clients) client.socket.destroy();
    this.server?.close();
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }

  private accept(socket: net.Socket): void {
    const client = new ClientConnection(socket, this.counters);
    this.clients.add(client);
    this.onSession();
    const reader = new PacketReader();
    socket.on("data", (chunk) => {
      let raw: Buffer[];
      try {
        raw = reader.push(chunk);
      } catch (err) {
        this.log("error", `Client ${client.id}: ${(err as Error).message}; closing its connection`);
        socket.destroy();
        return;
      }
      for (const bytes of raw) {
        if (socket.destroyed) return;
        let packet: Packet;
        try {
          packet = decodePacket(bytes);
        } catch (err) {
          this.log("error", `Client ${client.id}: malformed packet: ${(err as Error).message}; closing its connection`);
          socket.destroy();
          return;
        }
        this.counters.recv++;
        this.handlers.onPacket(client, packet);
      }
    });
    socket.on("error", (err) => this.log("debug", `Client ${client.id}: ${err.message}`));
    socket.on("close", () => {
      this.clients.delete(client);
      this.handlers.onClose(client);
    });
  }
}

/** A socket file left by a dead daemon is removed; one with a live listener is refused. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!fs.existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) throw new Error(`Another daemon is listening on ${path}`);
  fs.unlinkSync(path);
}
