// Carries out the failover component's effects in the daemon: events go to the
// lifecycle's lane, messages to the node transport (or straight back in, for
// this node's own coordinator), replies to the client controls waiting for
// them, notices to local clients. What happens to addresses beyond the event
// scripts (ARP and tickle ACKs after a run, killing connections on release,
// removing addresses without scripts) goes to AddressHooks, where the raw
// network seams plug in.

import { performance } from "node:perf_hooks";
import type { ClusterPacket } from "../cluster/types.ts";
import {
  SRVID_IPREALLOCATED,
  SRVID_RELEASE_IP,
  SRVID_START_IPREALLOCATE,
  SRVID_TAKE_IP,
} from "../protocol/constants.ts";
import { encodeI32, encodeString } from "../protocol/types.ts";
import {
  type ClusterFacts,
  type FailoverConfig,
  type FailoverEffect,
  type FailoverInput,
  type FailoverState,
  initialFailover,
  stepFailover,
} from "./node.ts";
import type { ClientNotice } from "./participant.ts";
import type { PublicAddress, ReplyTo } from "./types.ts";

type NoTime<I> = I extends unknown ? Omit<I, "nowMs"> : never;
type Request = Extract<FailoverInput, { kind: "request" }>["request"];
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What the network seams do with addresses; every hook is optional. */
export interface AddressHooks {
  /** After a run: send gratuitous ARPs / neighbour advertisements and tickle ACKs for each address. */
  announce?(addresses: { address: string; iface: string }[]): void;
  /** An address was released here: kill the connections to it. */
  released?(address: string, iface: string): void;
  /** An address is configured here now (its takeip/updateip succeeded). */
  taken?(address: string, iface: string, previousIface: string | null): void;
  /** Remove these addresses at once without scripts; return false to have releaseip run instead. */
  dropAddresses?(addresses: { address: string; iface: string; prefix: number }[]): boolean;
}

export interface FailoverShellHooks {
  log(level: "error" | "warning" | "notice" | "info", message: string): void;
  /** Ask the lifecycle lane to run an event; its end comes back through eventFinished(ref). */
  requestEvent(ref: number, event: string, args: string[]): void;
  /** Send a cluster packet to another node. */
  sendPacket(to: number, packet: ClusterPacket): void;
  /** A CTDB message to local clients registered for the srvid. */
  notifyClients(srvid: bigint, data: Buffer): void;
  /** A CTDB message to a client on some node (the answer to a takeover-run request). */
  sendMessage(pnn: number, srvid: bigint, data: Buffer): void;
  /** This node's BANNED flag changed. */
  setBanned(on: boolean): void;
  /** A run ended (kept for history on the leader). */
  runFinished?(record: FailoverState["coordinator"]["history"][number]): void;
}

const NOTICE_SRVID: Record<ClientNotice, bigint> = {
  "release-ip": SRVID_RELEASE_IP,
  "take-ip": SRVID_TAKE_IP,
  "start-ipreallocate": SRVID_START_IPREALLOCATE,
  ipreallocated: SRVID_IPREALLOCATED,
};

export interface RequestResult {
  status: number;
  errmsg: string;
}

export class FailoverShell {
  readonly state: FailoverState;
  private timer: NodeJS.Timeout | undefined;
  private queue: DistributiveOmit<FailoverInput, "nowMs">[] = [];
  private busy = false;
  private stopped = false;
  private nextToken = 1;
  private waiting = new Map<number, (r: RequestResult) => void>();
  /** Events this component asked the lane for, by reference. */
  private events = new Set<number>();
  address: AddressHooks = {};

  constructor(
    config: FailoverConfig,
    addresses: readonly PublicAddress[],
    private readonly hooks: FailoverShellHooks,
  ) {
    this.state = initialFailover(config, addresses, performance.now());
  }

  feed(input: DistributiveOmit<FailoverInput, "nowMs">): void {
    if (this.stopped) return;
    this.queue.push(input);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const { effects } = stepFailover(this.state, { ...next, nowMs: performance.now() } as FailoverInput);
        for (const e of effects) this.execute(e);
      }
    } finally {
      this.busy = false;
    }
  }

  /** A request for the participant, answered when it is done (client controls). */
  request(request: DistributiveOmit<NoTime<Request>, "token">): Promise<RequestResult> {
    const token = this.nextToken++;
    return new Promise((resolve) => {
      this.waiting.set(token, resolve);
      this.feed({ kind: "request", request: { ...request, token } as NoTime<Request> });
    });
  }

  cluster(facts: ClusterFacts): void {
    this.feed({ kind: "cluster", ...facts });
  }

  /** The lifecycle ran an event this component asked for. */
  eventFinished(ref: number, result: number): boolean {
    if (!this.events.delete(ref)) return false;
    this.feed({ kind: "event-done", id: ref, status: result });
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const resolve of this.waiting.values()) resolve({ status: -1, errmsg: "Node is shutting down" });
    this.waiting.clear();
  }

  private execute(e: FailoverEffect): void {
    const h = this.hooks;
    switch (e.kind) {
      case "send":
        if (e.to === this.state.config.pnn) {
          // This node's own coordinator or participant: in again, after this step.
          const msg = e.msg;
          queueMicrotask(() => this.feed({ kind: "message", from: this.state.config.pnn, msg }));
        } else {
          h.sendPacket(e.to, { t: "failover", m: e.msg });
        }
        return;
      case "send-ban":
        h.sendPacket(e.to, { t: "ban", pnn: e.to, seconds: e.seconds });
        return;
      case "run-event":
        this.events.add(e.id);
        h.requestEvent(e.id, e.event, e.args);
        return;
      case "client-reply": {
        const resolve = this.waiting.get(e.token);
        this.waiting.delete(e.token);
        resolve?.({ status: e.status, errmsg: e.errmsg });
        return;
      }
      case "client-notice":
        h.notifyClients(NOTICE_SRVID[e.notice], e.address === undefined ? Buffer.alloc(0) : encodeString(e.address));
        return;
      case "reply":
        h.sendMessage(e.replyTo.pnn, e.replyTo.srvid, encodeI32(e.result));
        return;
      case "banned":
        h.setBanned(e.on);
        return;
      case "run-finished":
        h.runFinished?.(e.record);
        return;
      case "announce":
        h.log("info", `Announcing ${e.addresses.map((a) => `${a.address}@${a.iface}`).join(" ")}`);
        this.address.announce?.(e.addresses);
        return;
      case "released":
        this.address.released?.(e.address, e.iface);
        return;
      case "taken":
        this.address.taken?.(e.address, e.iface, e.previousIface);
        return;
      case "drop-addresses":
        if (this.address.dropAddresses?.(e.addresses) !== true) {
          // No fast path: the scripts remove them, outside the participant's queue.
          for (const a of e.addresses) h.requestEvent(-1, "releaseip", [a.iface, a.address, String(a.prefix)]);
        }
        return;
      case "log":
        h.log(e.level, e.message);
        return;
      case "wake-at": {
        clearTimeout(this.timer);
        if (e.atMs === undefined) return;
        const delay = Math.max(0, e.atMs - performance.now());
        this.timer = setTimeout(() => this.feed({ kind: "tick" }), delay);
        this.timer.unref();
        return;
      }
    }
  }

  /**
   * The watchdog removed these addresses while the daemon could not (it was
   * stopped, or stuck): forget them, so the leader places them again.
   */
  addressesRemoved(addresses: string[]): void {
    this.feed({ kind: "request", request: { kind: "removed", addresses } });
  }

  /** The cluster core says this node's part lost its majority: its addresses go at once. */
  lostMajority(): void {
    this.feed({ kind: "request", request: { kind: "lost-majority" } });
  }

  /** A takeover-run request (CTDB_SRVID_TAKEOVER_RUN); only the leader answers. */
  takeoverRun(reason: string, replyTo: ReplyTo | undefined): void {
    this.feed({ kind: "trigger", reason, ...(replyTo === undefined || replyTo.srvid === 0n ? {} : { replyTo }) });
  }
}
