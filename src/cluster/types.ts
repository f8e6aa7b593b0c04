// Types shared by the cluster core, its shell and the simulator. Flags,
// runstates and capabilities are CTDB's own values (protocol/constants.ts),
// because they cross the client socket unchanged.

import type { FailoverMessage } from "../failover/types.ts";
import { NodeFlag } from "../protocol/constants.ts";

export {
  Capability,
  INVALID_GENERATION,
  NodeFlag as Flag,
  Runstate,
  UNKNOWN_PNN,
} from "../protocol/constants.ts";
export const FLAGS_DISABLED: number = NodeFlag.DISABLED;
export const FLAGS_INACTIVE: number = NodeFlag.INACTIVE;

export type LogLevel = "error" | "warning" | "notice" | "info" | "debug";

/** What one node tells the others about itself, node to node. */
export type ClusterPacket =
  | {
      t: "state";
      flags: number;
      runstate: number;
      caps: number;
      leader: number;
      term: number;
      generation: number;
    }
  | { t: "leader"; leader: number; term: number }
  | { t: "vote-request"; term: number }
  | { t: "vote"; term: number; granted: boolean }
  | { t: "recovered"; term: number; generation: number; vnnmap: number[] }
  | { t: "ban"; pnn: number; seconds: number }
  /** A follower passes on a recovery someone asked it for (`ctdb recover`). */
  | { t: "recover-request" }
  /** A takeover-run message between failover cores (src/failover/). */
  | { t: "failover"; m: FailoverMessage };

export type LockOutcome = "held" | "contended" | "timeout" | "error" | "lost";

/** ban / unban: the failover component's banning core decided (src/failover/banning.ts). */
export type AdminAction = "disable" | "enable" | "stop" | "continue" | "ban" | "unban";

export type Input =
  | { kind: "tick"; nowMs: number }
  | { kind: "peer-up"; nowMs: number; pnn: number }
  | { kind: "peer-down"; nowMs: number; pnn: number }
  | { kind: "packet"; nowMs: number; from: number; packet: ClusterPacket }
  | { kind: "lock"; nowMs: number; outcome: LockOutcome; reason?: string }
  | { kind: "admin"; nowMs: number; action: AdminAction }
  | { kind: "health"; nowMs: number; healthy: boolean }
  | { kind: "runstate"; nowMs: number; runstate: number }
  | { kind: "capabilities"; nowMs: number; leader?: boolean; lmaster?: boolean }
  | { kind: "force-recovery"; nowMs: number };

export type Effect =
  | { kind: "send"; to: number; packet: ClusterPacket }
  | { kind: "drop-peer"; pnn: number; reason: string }
  | { kind: "take-lock" }
  | { kind: "release-lock" }
  | { kind: "wake-at"; atMs: number }
  | { kind: "log"; level: LogLevel; message: string }
  /** Tell local clients registered for CTDB's leader SRVID who leads. */
  | { kind: "leader-to-clients"; leader: number }
  /** The leader changed in this node's view. */
  | { kind: "leader-changed"; leader: number; previous: number }
  /** This node's first recovery finished: the shell runs the startup event. */
  | { kind: "first-recovery-done" }
  | { kind: "recovered"; generation: number; vnnmap: number[] }
  | { kind: "flags-changed"; pnn: number; flags: number; previous: number }
  /**
   * This node's part of the cluster can no longer have a leader (it lost its
   * majority): its public addresses must go at once, because the rest of the
   * cluster will hand them out once this node's lease has run out.
   */
  | { kind: "lost-majority" }
  /** Store term and vote durably before any effect after it (no-lock elections). */
  | { kind: "persist-vote"; term: number; votedFor: number };

export interface ClusterConfig {
  pnn: number;
  /** Every line of the nodes file: deleted nodes keep their PNN. */
  nodes: readonly { pnn: number; deleted: boolean }[];
  lockConfigured: boolean;
  /** Without a lock, elect only in a partition holding a majority. */
  requireMajority: boolean;
  leaderTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveLimit: number;
  recoverIntervalMs: number;
  /** How often the leader tells everyone (and their clients) it leads. */
  leaderBroadcastMs: number;
  /** Pause between attempts at a contended lock while no leader is known. */
  lockRetryMs: number;
  /** Base of the randomised wait before asking for votes (no-lock mode). */
  electionBackoffMs: number;
  startFlags: number;
  leaderCapable: boolean;
  lmasterCapable: boolean;
  seed: number;
  /** Term and vote stored before a restart: a node must never vote twice in one term. */
  savedVote?: { term: number; votedFor: number } | undefined;
}
