// Types shared by the failover cores (coordinator, participant, banning),
// their shell and the simulator, and the node-to-node messages of a takeover
// run. Addresses are canonical text as CTDB prints them (config/public-addresses).

import type { PublicAddress } from "../config/public-addresses.ts";
import type { AllocAddress, AllocNode } from "./alloc/types.ts";

export type { AllocAddress, AllocNode, PublicAddress };

/** The stages of a takeover run, in CTDB 4.21's order. */
export type Stage = "gather" | "start" | "release" | "take" | "done";

/** One address as a participant reports it to the coordinator. */
export interface AddressReport {
  address: string;
  prefix: number;
  interfaces: string[];
  /** This node may host it now (RUNNING, active, enabled, some interface up). */
  available: boolean;
  /** The interface it is configured on here, or null when this node does not host it. */
  hostedOn: string | null;
}

/** An address to take or release, with what the event script needs. */
export interface AddressRef {
  address: string;
  prefix: number;
}

/** Who asked for a run and where its answer goes (CTDB's srvid_message reply-to). */
export interface ReplyTo {
  pnn: number;
  srvid: bigint;
}

/** Node-to-node failover messages, carried as cluster packets `{t: "failover", m}`. */
export type FailoverMessage =
  // coordinator -> participant
  | { k: "gather"; run: number }
  | { k: "start"; run: number }
  | { k: "release"; run: number; ips: AddressRef[]; assignment: [string, number][] }
  /** `grace`: the run ran startipreallocate; without it a node may only keep what it has. */
  | { k: "take"; run: number; ips: AddressRef[]; grace: boolean }
  | { k: "done"; run: number; assignment: [string, number][] }
  | { k: "moved"; token: number; ok: boolean }
  // participant -> coordinator
  | { k: "ips"; run: number; ips: AddressReport[] }
  | { k: "ack"; run: number; stage: Stage; status: number }
  | { k: "run-request"; reason: string }
  | { k: "move"; token: number; address: string; to: number };

/** A node as the coordinator sees it, from the cluster core's view. */
export interface NodeView {
  pnn: number;
  connected: boolean;
  flags: number;
  runstate: number;
  /** When this node last heard anything from it (the cluster core's lastHeardMs). */
  lastHeardMs: number;
  /** Disconnected by its connection closing rather than by silence. */
  closed?: boolean;
}

/** The allocator bound to its options (src/failover/alloc): address -> new holder, -1 for none. */
export type Allocate = (nodes: readonly AllocNode[], addresses: readonly AllocAddress[]) => Map<string, number>;

/** A participant's answer when the plan rests on a report that went stale: try again. */
export const EAGAIN = 11;

/** Errno CTDB's event daemon reports for a script that ran out of time. */
export const ETIMEDOUT = 110;
