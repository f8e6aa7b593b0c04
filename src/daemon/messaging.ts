// Client messaging controls that need the node's clients: which server ids
// and tunnels they registered (CHECK_SRVIDS, CHECK_PID_SRVID,
// TUNNEL_REGISTER / TUNNEL_DEREGISTER), and the node-wide counters
// (STATISTICS, STATISTICS_RESET) and memory report (DUMP_MEMORY).

import type { ControlReply } from "../control/dispatch.ts";
import { encodeStatistics, type Latency, STATS_FIELDS, type Statistics } from "../cli/format/statistics.ts";
import { Control } from "../protocol/constants.ts";
import type { ReqControl } from "../protocol/packets.ts";
import { decodePidSrvid, encodeString } from "../protocol/types.ts";
import type { ClientConnection } from "./client-server.ts";

export interface MessagingHooks {
  clients(): Iterable<ClientConnection>;
  /**
   * The node's counters by STATISTICS field name. Counters that only grow are
   * reported as the growth since the last STATISTICS_RESET; the gauges
   * (GAUGES) as they are.
   */
  counters(): Map<string, number>;
  hopCountBuckets(): number[];
  /** Lines describing what the daemon holds (databases, clients...), for DUMP_MEMORY. */
  memoryLines(): string[];
}

/** Fields that say how things are now rather than count events. */
const GAUGES = new Set(["num_clients", "frozen", "recovering", "pending_calls", "pending_childwrite_calls", "memory_used", "max_hop_count"]);

const EMPTY = Buffer.alloc(0);
const ok = (data: Buffer = EMPTY, status = 0): ControlReply => ({ status, data, errmsg: "" });
const fail = (errmsg: string, status = -1): ControlReply => ({ status, data: EMPTY, errmsg });
const ZERO: Latency = { num: 0, min: 0, max: 0, total: 0 };

export class Messaging {
  private readonly tunnels = new Map<bigint, ClientConnection>();
  private startTime = Math.floor(Date.now() / 1000);
  private baseline = new Map<string, number>();
  private hopBaseline: number[] = [];

  constructor(private readonly hooks: MessagingHooks) {}

  /** Answers req when it is one of these controls; undefined otherwise. `client` is unset for a control from another node. */
  control(req: ReqControl, client: ClientConnection | undefined): ControlReply | undefined {
    switch (req.opcode) {
      case Control.CHECK_SRVIDS:
        return this.checkSrvids(req.data);
      case Control.CHECK_PID_SRVID: {
        const { pid, srvid } = decodePidSrvid(req.data);
        const owners = [...this.hooks.clients()].filter((c) => c.pid === pid);
        if (owners.length === 0) return fail(`No client for PID ${pid}`);
        return owners.some((c) => c.srvids.has(srvid)) ? ok() : fail(`No client for PID ${pid} with SRVID 0x${srvid.toString(16)}`);
      }
      case Control.TUNNEL_REGISTER: {
        if (client === undefined) return fail("TUNNEL_REGISTER comes from a client");
        const holder = this.tunnels.get(req.srvid);
        if (holder !== undefined && holder !== client) return fail(`Tunnel 0x${req.srvid.toString(16)} is registered by another client`);
        this.tunnels.set(req.srvid, client);
        return ok();
      }
      case Control.TUNNEL_DEREGISTER: {
        if (client === undefined || this.tunnels.get(req.srvid) !== client) return fail(`Tunnel 0x${req.srvid.toString(16)} is not registered by this client`);
        this.tunnels.delete(req.srvid);
        return ok();
      }
      case Control.STATISTICS:
        return ok(encodeStatistics(this.statistics()));
      case Control.STATISTICS_RESET:
        this.reset();
        return ok();
      case Control.DUMP_MEMORY:
        return ok(encodeString(this.memoryReport()));
      default:
        return undefined;
    }
  }

  /** The client a tunnel's packets go to on this node. */
  tunnelClient(tunnelId: bigint): ClientConnection | undefined {
    return this.tunnels.get(tunnelId);
  }

  clientClosed(client: ClientConnection): void {
    for (const [id, c] of this.tunnels) if (c === client) this.tunnels.delete(id);
  }

  /** CHECK_SRVIDS: a bitmap, one bit per asked srvid (in order, low bit first), set when some client registered it. */
  private checkSrvids(data: Buffer): ControlReply {
    if (data.length % 8 !== 0) return fail(`CHECK_SRVIDS data of ${data.length} bytes is not a list of 64-bit ids`);
    const n = data.length / 8;
    const registered = new Set<bigint>();
    for (const c of this.hooks.clients()) for (const s of c.srvids) registered.add(s);
    const bitmap = Buffer.alloc(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) {
      if (registered.has(data.readBigUInt64LE(i * 8))) bitmap[i >> 3]! |= 1 << (i & 7);
    }
    return ok(bitmap);
  }

  statistics(): Statistics {
    const now = this.hooks.counters();
    const counters = new Map<string, number>();
    for (const name of STATS_FIELDS) {
      const v = now.get(name) ?? 0;
      counters.set(name, GAUGES.has(name) ? v : v - (this.baseline.get(name) ?? 0));
    }
    const hops = this.hooks.hopCountBuckets().map((v, i) => v - (this.hopBaseline[i] ?? 0));
    return {
      counters,
      reclockCtdbd: { ...ZERO },
      reclockRecd: { ...ZERO },
      locksLatency: { ...ZERO },
      lockBuckets: new Array<number>(16).fill(0),
      hopCountBuckets: hops,
      callLatency: { ...ZERO },
      childwriteLatency: { ...ZERO },
      startTime: this.startTime,
      currentTime: Math.floor(Date.now() / 1000),
    };
  }

  private reset(): void {
    this.baseline = this.hooks.counters();
    this.hopBaseline = [...this.hooks.hopCountBuckets()];
    this.startTime = Math.floor(Date.now() / 1000);
  }

  /** In the shape of CTDB's talloc report (its first line is what tools look at). */
  private memoryReport(): string {
    const m = process.memoryUsage();
    const lines = this.hooks.memoryLines();
    let out = `full talloc report on 'null_context' (total ${String(m.heapUsed).padStart(6)} bytes in ${String(lines.length + 4).padStart(3)} blocks)\n`;
    out += `    rss                            contains ${String(m.rss).padStart(6)} bytes\n`;
    out += `    heap total                     contains ${String(m.heapTotal).padStart(6)} bytes\n`;
    out += `    external                       contains ${String(m.external).padStart(6)} bytes\n`;
    out += `    array buffers                  contains ${String(m.arrayBuffers).padStart(6)} bytes\n`;
    for (const line of lines) out += `    ${line}\n`;
    return out;
  }
}
