// The cluster core: membership, node flags, keepalives, leader election and
// the generation/vnnmap a leader hands out. Pure: no clock, sockets or files.
// `step` takes the state it was given (and owns it from then on, mutating it in
// place like etcd's raft node) plus one input, and returns the effects for the
// shell or the simulator to carry out.
//
// Election follows CTDB when a cluster lock is configured: eligible nodes race
// for the lock and the holder leads; a node that already knows a live leader
// never races, so a joining node does not unseat anyone. Unlike CTDB, the race
// starts the moment the leader's connection closes instead of after the leader
// timeout, which is what makes failover fast. Without a lock CTDB elects in any
// partition (split brain); Tandem by default runs a term-and-vote election that
// needs a majority of the configured nodes, so at most one leader per term and
// none in a minority partition.

import {
  type AdminAction,
  type ClusterConfig,
  type ClusterPacket,
  type Effect,
  FLAGS_INACTIVE,
  Flag,
  INVALID_GENERATION,
  type Input,
  type LockOutcome,
  type LogLevel,
  Runstate,
  UNKNOWN_PNN,
  Capability,
} from "./types.ts";

export interface PeerState {
  connected: boolean;
  flags: number;
  runstate: number;
  caps: number;
  generation: number;
  leader: number;
  lastHeardMs: number;
  lastSentMs: number;
  /** Entered FIRST_RECOVERY and has not been sent a recovery since. */
  awaitingFirstRecovery: boolean;
  /** The last loss was its connection closing (not silence): its process ended or it dropped us. */
  closed: boolean;
}

export type Role = "follower" | "candidate" | "leader";

export interface ClusterState {
  config: ClusterConfig;
  nowMs: number;
  startedMs: number;
  ownFlags: number;
  runstate: number;
  caps: number;
  peers: Map<number, PeerState>;
  leader: number;
  role: Role;
  term: number;
  votedFor: number;
  votes: Set<number>;
  electionDeadlineMs: number;
  lock: "none" | "taking" | "held";
  nextLockTryMs: number;
  lastLeaderHeardMs: number;
  nextBroadcastMs: number;
  generation: number;
  vnnmap: number[];
  recoveryMode: 0 | 1;
  lastRecoveryMs: number;
  firstRecoveryDone: boolean;
  /** This node's part could have a leader at the last step (see mayLead). */
  hadMajority: boolean;
  rng: number;
}

export function initialState(config: ClusterConfig, nowMs: number): ClusterState {
  const peers = new Map<number, PeerState>();
  for (const node of config.nodes) {
    if (node.pnn === config.pnn || node.deleted) continue;
    peers.set(node.pnn, {
      connected: false,
      flags: Flag.DISCONNECTED | Flag.UNHEALTHY,
      runstate: Runstate.UNKNOWN,
      caps: 0,
      generation: INVALID_GENERATION,
      leader: UNKNOWN_PNN,
      lastHeardMs: nowMs,
      lastSentMs: nowMs,
      awaitingFirstRecovery: false,
      closed: false,
    });
  }
  let caps = Capability.PARALLEL_RECOVERY | Capability.FRAGMENTED_CONTROLS;
  if (config.leaderCapable) caps |= Capability.LEADER;
  if (config.lmasterCapable) caps |= Capability.LMASTER;
  return {
    config,
    nowMs,
    startedMs: nowMs,
    ownFlags: config.startFlags,
    runstate: Runstate.INIT,
    caps,
    peers,
    leader: UNKNOWN_PNN,
    role: "follower",
    term: config.savedVote?.term ?? 0,
    votedFor: config.savedVote?.votedFor ?? UNKNOWN_PNN,
    votes: new Set(),
    electionDeadlineMs: 0,
    lock: "none",
    nextLockTryMs: nowMs,
    lastLeaderHeardMs: nowMs,
    nextBroadcastMs: nowMs,
    generation: INVALID_GENERATION,
    vnnmap: [],
    recoveryMode: 1,
    lastRecoveryMs: -Infinity,
    firstRecoveryDone: false,
    hadMajority: false,
    rng: (config.seed >>> 0) || 0x9e3779b9,
  };
}

export function step(state: ClusterState, input: Input): { state: ClusterState; effects: Effect[] } {
  const fx: Effect[] = [];
  state.nowMs = Math.max(state.nowMs, input.nowMs);
  expireSilentPeers(state, fx);
  switch (input.kind) {
    case "tick":
      break;
    case "peer-up":
      onPeerUp(state, input.pnn, fx);
      break;
    case "peer-down":
      onPeerDown(state, input.pnn, "connection closed", fx);
      break;
    case "packet":
      onPacket(state, input.from, input.packet, fx);
      break;
    case "lock":
      onLock(state, input.outcome, input.reason, fx);
      break;
    case "admin":
      onAdmin(state, input.action, fx);
      break;
    case "health":
      setOwnFlag(state, Flag.UNHEALTHY, !input.healthy, fx);
      break;
    case "runstate":
      onRunstate(state, input.runstate, fx);
      break;
    case "capabilities":
      onCapabilities(state, input.leader, input.lmaster, fx);
      break;
    case "force-recovery":
      // `ctdb recover` may be sent to any node: a follower passes it on.
      if (state.role === "leader") recover(state, fx, "recovery requested");
      else if (state.leader !== UNKNOWN_PNN) send(state, fx, state.leader, { t: "recover-request" });
      break;
  }
  evaluate(state, fx);
  return { state, effects: fx };
}

function onRunstate(state: ClusterState, runstate: number, fx: Effect[]): void {
  state.runstate = runstate;
  if (runstate === Runstate.FIRST_RECOVERY) {
    // A recovery seen while still setting up does not count: the node needs one
    // after it is ready, so it forgets the generation and the leader sees that.
    state.generation = INVALID_GENERATION;
    state.recoveryMode = 1;
  }
  broadcastState(state, fx);
  if (runstate === Runstate.FIRST_RECOVERY && state.role === "leader") recover(state, fx, "leader finished setup");
}

/** The flags this node shows for `pnn`, as CTDB's node map carries them. */
export function nodeFlags(state: ClusterState, pnn: number): number {
  if (pnn === state.config.pnn) return state.ownFlags;
  const peer = state.peers.get(pnn);
  return peer === undefined ? Flag.DELETED : peer.flags;
}

export function majorityOfConfigured(config: ClusterConfig): number {
  const live = config.nodes.filter((n) => !n.deleted).length;
  return Math.floor(live / 2) + 1;
}

function log(fx: Effect[], level: LogLevel, message: string): void {
  fx.push({ kind: "log", level, message });
}

function random(state: ClusterState): number {
  // xorshift32: deterministic from the configured seed, so a simulated run replays.
  let x = state.rng;
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  state.rng = x;
  return x;
}

function jitter(state: ClusterState, baseMs: number): number {
  return baseMs + (random(state) % Math.max(1, Math.floor(baseMs)));
}

function send(state: ClusterState, fx: Effect[], to: number, packet: ClusterPacket): void {
  const peer = state.peers.get(to);
  if (peer === undefined || !peer.connected) return;
  peer.lastSentMs = state.nowMs;
  fx.push({ kind: "send", to, packet });
}

function sendAll(state: ClusterState, fx: Effect[], packet: ClusterPacket): void {
  for (const pnn of state.peers.keys()) send(state, fx, pnn, packet);
}

function statePacket(state: ClusterState): ClusterPacket {
  return {
    t: "state",
    flags: state.ownFlags,
    runstate: state.runstate,
    caps: state.caps,
    leader: state.leader,
    term: state.term,
    generation: state.generation,
  };
}

function broadcastState(state: ClusterState, fx: Effect[]): void {
  sendAll(state, fx, statePacket(state));
}

function persistVote(state: ClusterState, fx: Effect[]): void {
  if (!state.config.lockConfigured) fx.push({ kind: "persist-vote", term: state.term, votedFor: state.votedFor });
}

function adoptTerm(state: ClusterState, term: number, fx: Effect[]): void {
  state.term = term;
  state.votedFor = UNKNOWN_PNN;
  persistVote(state, fx);
}

function setLeader(state: ClusterState, leader: number, fx: Effect[]): void {
  if (state.leader === leader) return;
  const previous = state.leader;
  state.leader = leader;
  fx.push({ kind: "leader-changed", leader, previous });
  if (leader === UNKNOWN_PNN) {
    log(fx, "notice", previous === UNKNOWN_PNN ? "No leader" : `Leader ${previous} lost`);
  } else {
    log(fx, "notice", `Leader is node ${leader}`);
  }
}

function setOwnFlag(state: ClusterState, flag: number, on: boolean, fx: Effect[]): void {
  const previous = state.ownFlags;
  const flags = on ? previous | flag : previous & ~flag;
  if (flags === previous) return;
  state.ownFlags = flags;
  fx.push({ kind: "flags-changed", pnn: state.config.pnn, flags, previous });
  broadcastState(state, fx);
}

function setPeerFlags(pnn: number, peer: PeerState, flags: number, fx: Effect[]): void {
  if (peer.flags === flags) return;
  const previous = peer.flags;
  peer.flags = flags;
  fx.push({ kind: "flags-changed", pnn, flags, previous });
}

function onPeerUp(state: ClusterState, pnn: number, fx: Effect[]): void {
  const peer = state.peers.get(pnn);
  if (peer === undefined) return;
  peer.connected = true;
  peer.lastHeardMs = state.nowMs;
  setPeerFlags(pnn, peer, peer.flags & ~Flag.DISCONNECTED, fx);
  log(fx, "notice", `Node ${pnn} connected`);
  send(state, fx, pnn, statePacket(state));
  if (state.role === "leader") send(state, fx, pnn, { t: "leader", leader: state.config.pnn, term: state.term });
}

function onPeerDown(state: ClusterState, pnn: number, reason: string, fx: Effect[]): void {
  const peer = state.peers.get(pnn);
  if (peer === undefined || !peer.connected) return;
  peer.connected = false;
  peer.closed = reason === "connection closed";
  peer.generation = INVALID_GENERATION;
  // CTDB marks a vanished node unhealthy too, until it reports its own flags again.
  setPeerFlags(pnn, peer, peer.flags | Flag.DISCONNECTED | Flag.UNHEALTHY, fx);
  log(fx, "notice", `Node ${pnn} disconnected (${reason})`);
}

function onAdmin(state: ClusterState, action: AdminAction, fx: Effect[]): void {
  switch (action) {
    case "disable":
      return setOwnFlag(state, Flag.PERMANENTLY_DISABLED, true, fx);
    case "enable":
      return setOwnFlag(state, Flag.PERMANENTLY_DISABLED, false, fx);
    case "stop":
      return setOwnFlag(state, Flag.STOPPED, true, fx);
    case "continue":
      return setOwnFlag(state, Flag.STOPPED, false, fx);
    case "ban":
      return setOwnFlag(state, Flag.BANNED, true, fx);
    case "unban":
      return setOwnFlag(state, Flag.BANNED, false, fx);
  }
}

function onCapabilities(state: ClusterState, leader: boolean | undefined, lmaster: boolean | undefined, fx: Effect[]): void {
  let caps = state.caps;
  if (leader !== undefined) caps = leader ? caps | Capability.LEADER : caps & ~Capability.LEADER;
  if (lmaster !== undefined) caps = lmaster ? caps | Capability.LMASTER : caps & ~Capability.LMASTER;
  if (caps === state.caps) return;
  state.caps = caps;
  broadcastState(state, fx);
}

function onPacket(state: ClusterState, from: number, packet: ClusterPacket, fx: Effect[]): void {
  const peer = state.peers.get(from);
  if (peer === undefined || !peer.connected) return;
  peer.lastHeardMs = state.nowMs;
  switch (packet.t) {
    case "state":
      setPeerFlags(from, peer, packet.flags, fx);
      if (packet.runstate === Runstate.FIRST_RECOVERY && peer.runstate !== Runstate.FIRST_RECOVERY) {
        peer.awaitingFirstRecovery = true;
      }
      peer.runstate = packet.runstate;
      peer.caps = packet.caps;
      peer.generation = packet.generation;
      peer.leader = packet.leader;
      return;
    case "leader":
      return onLeaderPacket(state, from, packet.leader, packet.term, fx);
    case "vote-request":
      return onVoteRequest(state, from, packet.term, fx);
    case "vote":
      return onVote(state, from, packet.term, packet.granted, fx);
    case "recovered":
      return onRecovered(state, from, packet, fx);
    case "recover-request":
      if (state.role === "leader") recover(state, fx, `node ${from} asked for a recovery`);
      return;
    case "ban":
    case "failover":
      return;
  }
}

function onLeaderPacket(state: ClusterState, from: number, leader: number, term: number, fx: Effect[]): void {
  if (leader === UNKNOWN_PNN) {
    // The leader stepped down: race now rather than after the leader timeout.
    if (state.leader === from) {
      setLeader(state, UNKNOWN_PNN, fx);
      state.nextLockTryMs = state.nowMs;
    }
    return;
  }
  if (leader !== from) return;
  if (state.role === "leader") {
    if (state.config.lockConfigured) {
      // Two claimants mean the lock itself is broken (a replaced file, say); the
      // holder whose recheck fails steps down. Answering each claim would only
      // make the two of them shout at each other.
      log(fx, "error", `Node ${from} claims leadership while this node holds the cluster lock`);
      return;
    }
    if (term < state.term) {
      // An older claimant learns of the newer term and steps down.
      send(state, fx, from, { t: "leader", leader: state.config.pnn, term: state.term });
      return;
    }
    if (term === state.term) {
      // Cannot happen while votes are stored durably; if it does, the lower PNN keeps it.
      log(fx, "error", `Node ${from} claims leadership of term ${term}, which this node leads`);
      if (from > state.config.pnn) return;
    }
    stepDown(state, fx, `node ${from} leads term ${term}`);
  }
  // Follow a claimant when it is the leader we know, when we know none that is
  // alive, or when its term is newer. A follower may thus follow a lower term
  // than it has seen (a failed candidate); only leaders are bound to terms.
  if (from !== state.leader && leaderAlive(state) && term < state.term) return;
  if (term > state.term) adoptTerm(state, term, fx);
  if (state.role === "candidate") state.role = "follower";
  state.lastLeaderHeardMs = state.nowMs;
  setLeader(state, from, fx);
  fx.push({ kind: "leader-to-clients", leader: from });
}

function eligible(state: ClusterState): boolean {
  return (
    (state.caps & Capability.LEADER) !== 0 &&
    (state.ownFlags & (Flag.STOPPED | Flag.BANNED)) === 0 &&
    state.runstate >= Runstate.SETUP &&
    state.runstate < Runstate.SHUTDOWN
  );
}

function connectedCount(state: ClusterState): number {
  let n = 1;
  for (const peer of state.peers.values()) if (peer.connected) n++;
  return n;
}

function votesNeeded(state: ClusterState): number {
  if (state.config.requireMajority) return majorityOfConfigured(state.config);
  return Math.floor(connectedCount(state) / 2) + 1;
}

function hasQuorum(state: ClusterState): boolean {
  return !state.config.requireMajority || connectedCount(state) >= majorityOfConfigured(state.config);
}

/**
 * Whether this node's part of the cluster may have a leader. Without a lock:
 * a majority of the configured nodes. With a lock: at least half of them, the
 * lock deciding an even split; so a leader cut off into a smaller part gives
 * the lock up even while it still reaches the lock file, and the larger part
 * can elect. Without `requireMajority` (CTDB's behaviour) any part may.
 */
function mayLead(state: ClusterState): boolean {
  const { config } = state;
  if (!config.requireMajority) return true;
  if (!config.lockConfigured) return hasQuorum(state);
  return connectedCount(state) * 2 >= config.nodes.filter((n) => !n.deleted).length;
}

/** Tell the failover side at once when this node's part can no longer have a leader: its addresses must go. */
function noteMajority(state: ClusterState, fx: Effect[]): void {
  const now = mayLead(state);
  if (state.hadMajority && !now) {
    log(fx, "warning", "This node lost the majority of the cluster: dropping its public addresses");
    fx.push({ kind: "lost-majority" });
  }
  state.hadMajority = now;
}

function leaderAlive(state: ClusterState): boolean {
  if (state.leader === UNKNOWN_PNN) return false;
  if (state.leader === state.config.pnn) return state.role === "leader";
  const peer = state.peers.get(state.leader);
  return peer?.connected === true && state.nowMs - state.lastLeaderHeardMs < state.config.leaderTimeoutMs;
}

function onVoteRequest(state: ClusterState, from: number, term: number, fx: Effect[]): void {
  const deny = () => send(state, fx, from, { t: "vote", term: state.term, granted: false });
  if (state.config.lockConfigured || term < state.term) return deny();
  // Leader stickiness: a node that still hears a live leader refuses, so a node
  // that merely lost sight of the leader cannot unseat it.
  if (leaderAlive(state) && state.leader !== from) return deny();
  if (term > state.term) {
    adoptTerm(state, term, fx);
    if (state.role !== "follower") stepDown(state, fx, `node ${from} started term ${term}`);
  }
  const candidate = state.peers.get(from);
  const candidateActive = candidate !== undefined && (candidate.flags & (Flag.STOPPED | Flag.BANNED)) === 0;
  if ((state.votedFor === UNKNOWN_PNN || state.votedFor === from) && candidateActive) {
    state.votedFor = from;
    persistVote(state, fx);
    send(state, fx, from, { t: "vote", term, granted: true });
    return;
  }
  deny();
}

function onVote(state: ClusterState, from: number, term: number, granted: boolean, fx: Effect[]): void {
  if (term > state.term) {
    adoptTerm(state, term, fx);
    if (state.role !== "follower") stepDown(state, fx, `node ${from} is in term ${term}`);
    return;
  }
  if (state.role !== "candidate" || term !== state.term || !granted) return;
  state.votes.add(from);
  // Votes from nodes since lost still count for the term, but leading needs
  // the majority connected now (and the candidate still eligible), or the new
  // leader would hand out a recovery and step down in the same breath.
  if (state.votes.size >= votesNeeded(state) && hasQuorum(state) && eligible(state)) becomeLeader(state, fx, `won the vote for term ${term}`);
}

function onRecovered(
  state: ClusterState,
  from: number,
  packet: ClusterPacket & { t: "recovered" },
  fx: Effect[],
): void {
  if (from !== state.leader) {
    // Tell the sender what we have, so a real leader sees the mismatch and retries.
    send(state, fx, from, statePacket(state));
    return;
  }
  applyRecovery(state, packet.generation, packet.vnnmap, fx);
}

function applyRecovery(state: ClusterState, generation: number, vnnmap: number[], fx: Effect[]): void {
  state.generation = generation;
  state.vnnmap = vnnmap;
  state.recoveryMode = 0;
  state.lastRecoveryMs = state.nowMs;
  fx.push({ kind: "recovered", generation, vnnmap });
  broadcastState(state, fx);
  if (!state.firstRecoveryDone && state.runstate === Runstate.FIRST_RECOVERY) {
    state.firstRecoveryDone = true;
    fx.push({ kind: "first-recovery-done" });
  }
}

function onLock(state: ClusterState, outcome: LockOutcome, reason: string | undefined, fx: Effect[]): void {
  const suffix = reason === undefined ? "" : ` (${reason})`;
  switch (outcome) {
    case "held":
      if (state.lock !== "taking") {
        fx.push({ kind: "release-lock" });
        return;
      }
      state.lock = "held";
      if (!eligible(state) || !mayLead(state)) {
        releaseLock(state, fx);
        return;
      }
      becomeLeader(state, fx, "took the cluster lock");
      return;
    case "contended":
      if (state.lock === "taking") state.lock = "none";
      state.nextLockTryMs = state.nowMs + jitter(state, state.config.lockRetryMs);
      return;
    case "timeout":
    case "error":
      if (state.lock === "taking") state.lock = "none";
      log(fx, "error", `Unable to take cluster lock: ${outcome}${suffix}`);
      state.nextLockTryMs = state.nowMs + jitter(state, state.config.lockRetryMs * 4);
      return;
    case "lost":
      if (state.lock !== "held") return;
      state.lock = "none";
      log(fx, "error", `Cluster lock lost${suffix}`);
      if (state.role === "leader") stepDown(state, fx, "cluster lock lost");
      state.nextLockTryMs = state.nowMs + jitter(state, state.config.lockRetryMs);
      return;
  }
}

function releaseLock(state: ClusterState, fx: Effect[]): void {
  if (state.lock === "none") return;
  state.lock = "none";
  fx.push({ kind: "release-lock" });
}

function becomeLeader(state: ClusterState, fx: Effect[], why: string): void {
  state.role = "leader";
  state.votes.clear();
  if (state.config.lockConfigured) state.term++;
  log(fx, "notice", `This node (${state.config.pnn}) is now the leader: ${why}`);
  setLeader(state, state.config.pnn, fx);
  // Announce before recovering: followers accept a recovery only from the node
  // they know as leader.
  sendAll(state, fx, { t: "leader", leader: state.config.pnn, term: state.term });
  fx.push({ kind: "leader-to-clients", leader: state.config.pnn });
  state.nextBroadcastMs = state.nowMs + state.config.leaderBroadcastMs;
  recover(state, fx, "new leader");
}

function stepDown(state: ClusterState, fx: Effect[], why: string): void {
  const wasLeader = state.role === "leader";
  state.role = "follower";
  state.votes.clear();
  if (state.config.lockConfigured) releaseLock(state, fx);
  if (wasLeader) {
    log(fx, "notice", `This node (${state.config.pnn}) is no longer the leader: ${why}`);
    sendAll(state, fx, { t: "leader", leader: UNKNOWN_PNN, term: state.term });
    fx.push({ kind: "leader-to-clients", leader: UNKNOWN_PNN });
    setLeader(state, UNKNOWN_PNN, fx);
  }
}

function desiredVnnmap(state: ClusterState): number[] {
  const map: number[] = [];
  if ((state.ownFlags & FLAGS_INACTIVE) === 0 && (state.caps & Capability.LMASTER) !== 0) map.push(state.config.pnn);
  for (const [pnn, peer] of state.peers) {
    if (peer.connected && (peer.flags & FLAGS_INACTIVE) === 0 && (peer.caps & Capability.LMASTER) !== 0) map.push(pnn);
  }
  map.sort((a, b) => a - b);
  return map.length > 0 ? map : [state.config.pnn];
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function recover(state: ClusterState, fx: Effect[], why: string): void {
  let generation = random(state);
  while (generation === INVALID_GENERATION || generation === state.generation || generation === 0) {
    generation = random(state);
  }
  const vnnmap = desiredVnnmap(state);
  log(fx, "notice", `Recovery (${why}): generation ${generation}, vnnmap [${vnnmap.join(",")}]`);
  for (const [pnn, peer] of state.peers) {
    if (!peer.connected) continue;
    send(state, fx, pnn, { t: "recovered", term: state.term, generation, vnnmap });
    peer.awaitingFirstRecovery = false;
    // TCP keeps order, so the peer has this generation once it reads the packet;
    // a state report it sent before then must not look like a mismatch.
    peer.generation = generation;
  }
  applyRecovery(state, generation, vnnmap, fx);
}

function recoveryNeeded(state: ClusterState): string | undefined {
  if (!sameList(desiredVnnmap(state), state.vnnmap)) return "membership changed";
  for (const [pnn, peer] of state.peers) {
    // A node that just became ready for its first recovery is not kept waiting
    // for the interval; once per entry, so stale reports cannot feed a storm.
    if (peer.connected && peer.awaitingFirstRecovery) {
      return `node ${pnn} waits for its first recovery`;
    }
  }
  if (state.nowMs - state.lastRecoveryMs < state.config.recoverIntervalMs) return undefined;
  for (const [pnn, peer] of state.peers) {
    if (peer.connected && peer.runstate >= Runstate.FIRST_RECOVERY && peer.generation !== state.generation) {
      return `node ${pnn} has generation ${peer.generation}`;
    }
  }
  return undefined;
}

function startElection(state: ClusterState, fx: Effect[]): void {
  state.term++;
  state.role = "candidate";
  state.votedFor = state.config.pnn;
  state.votes = new Set([state.config.pnn]);
  persistVote(state, fx);
  state.electionDeadlineMs = state.nowMs + jitter(state, state.config.electionBackoffMs * 2);
  log(fx, "info", `Election for term ${state.term}`);
  if (state.votes.size >= votesNeeded(state)) {
    becomeLeader(state, fx, `won the vote for term ${state.term}`);
    return;
  }
  sendAll(state, fx, { t: "vote-request", term: state.term });
}

/**
 * Time may have jumped since the last step (a late timer, a SIGSTOPped
 * process): drop peers silent past the limit and stop leading without a
 * majority BEFORE acting on an input, so a stale view never hands out a
 * recovery or wins an election.
 */
function expireSilentPeers(state: ClusterState, fx: Effect[]): void {
  const { config } = state;
  const silenceLimit = config.keepaliveIntervalMs * config.keepaliveLimit;
  for (const [pnn, peer] of state.peers) {
    if (peer.connected && state.nowMs - peer.lastHeardMs > silenceLimit) {
      fx.push({ kind: "drop-peer", pnn, reason: "keepalive timeout" });
      onPeerDown(state, pnn, `no traffic for ${silenceLimit} ms`, fx);
    }
  }
  if (state.role === "leader" && !mayLead(state)) stepDown(state, fx, "lost the majority");
  noteMajority(state, fx);
}

function evaluate(state: ClusterState, fx: Effect[]): void {
  const now = state.nowMs;
  const { config } = state;

  expireSilentPeers(state, fx);
  for (const [pnn, peer] of state.peers) {
    if (peer.connected && now - peer.lastSentMs >= config.keepaliveIntervalMs) send(state, fx, pnn, statePacket(state));
  }

  if (state.leader !== UNKNOWN_PNN && state.leader !== config.pnn && !leaderAlive(state)) {
    setLeader(state, UNKNOWN_PNN, fx);
    state.nextLockTryMs = now;
    state.electionDeadlineMs = now + jitter(state, config.electionBackoffMs);
  }

  if (state.role === "leader") {
    const lockOk = !config.lockConfigured || state.lock === "held";
    if (!eligible(state)) stepDown(state, fx, "no longer eligible");
    else if (!lockOk) stepDown(state, fx, "cluster lock not held");
    else if (!mayLead(state)) stepDown(state, fx, "lost the majority");
  } else if (config.lockConfigured && state.lock === "held" && state.leader === UNKNOWN_PNN && eligible(state) && mayLead(state)) {
    becomeLeader(state, fx, "holds the cluster lock");
  } else if (config.lockConfigured && state.lock === "held" && (!eligible(state) || !mayLead(state))) {
    releaseLock(state, fx);
  }

  if (state.leader === UNKNOWN_PNN && eligible(state)) {
    if (config.lockConfigured) {
      if (state.lock === "none" && now >= state.nextLockTryMs && mayLead(state)) {
        state.lock = "taking";
        fx.push({ kind: "take-lock" });
      }
    } else if (hasQuorum(state)) {
      if (state.role === "follower" && state.electionDeadlineMs === 0) {
        state.electionDeadlineMs = now + jitter(state, config.electionBackoffMs);
      }
      if (now >= state.electionDeadlineMs) startElection(state, fx);
    }
  } else if (state.role === "candidate" && state.leader !== UNKNOWN_PNN) {
    state.role = "follower";
  }
  if (state.leader !== UNKNOWN_PNN) state.electionDeadlineMs = 0;

  if (state.role === "leader") {
    if (now >= state.nextBroadcastMs) {
      sendAll(state, fx, { t: "leader", leader: config.pnn, term: state.term });
      fx.push({ kind: "leader-to-clients", leader: config.pnn });
      state.nextBroadcastMs = now + config.leaderBroadcastMs;
    }
    const why = recoveryNeeded(state);
    if (why !== undefined) recover(state, fx, why);
  }
  noteMajority(state, fx);

  fx.push({ kind: "wake-at", atMs: nextDeadline(state) });
}

function nextDeadline(state: ClusterState): number {
  const { config } = state;
  let at = state.nowMs + Math.max(config.recoverIntervalMs, 10);
  const consider = (t: number) => {
    if (t > state.nowMs && t < at) at = t;
  };
  for (const peer of state.peers.values()) {
    if (!peer.connected) continue;
    consider(peer.lastSentMs + config.keepaliveIntervalMs);
    consider(peer.lastHeardMs + config.keepaliveIntervalMs * config.keepaliveLimit + 1);
  }
  if (state.leader !== UNKNOWN_PNN && state.leader !== config.pnn) {
    consider(state.lastLeaderHeardMs + config.leaderTimeoutMs);
  }
  if (state.leader === UNKNOWN_PNN) {
    consider(state.nextLockTryMs);
    if (state.electionDeadlineMs > 0) consider(state.electionDeadlineMs);
  }
  if (state.role === "leader") {
    consider(state.nextBroadcastMs);
    consider(state.lastRecoveryMs + config.recoverIntervalMs);
  }
  return at;
}
