// The whole-cluster simulator: N cluster cores, each with its own virtual
// timer, joined by the simulated network and lock service, driven through
// faults drawn from one seed, with invariants checked after every core step.
// A run is a pure function of its options, so a failing seed replays exactly.
//
// A run has two phases. In the fault phase nodes are killed, restarted,
// frozen (SIGSTOP: they process and send nothing, their connections stay up)
// and resumed; links are cut both ways or one way, broken and slowed; the lock
// is slow, fails or is lost; admins disable, enable, stop and continue nodes
// and health flips. In the quiet phase everything heals and the cluster must
// converge: one leader everyone agrees on, consistent flags, one generation
// and vnnmap, every live node RUNNING.
//
// Each node also runs the lifecycle core (runstate walk, recovery chain,
// monitor loop) exactly as the daemon does, with fake event scripts: the
// services' health is a fault like any other and turns into the node's
// UNHEALTHY flag through the monitor, and a node may be shut down as
// `ctdb shutdown` would, walking through SHUTDOWN before it exits.

import { type ClusterState, initialState, majorityOfConfigured, nodeFlags, step } from "../cluster/core.ts";
import {
  type AdminAction,
  type ClusterConfig,
  type ClusterPacket,
  type Effect,
  FLAGS_INACTIVE,
  Flag,
  type Input,
  type LockOutcome,
  Runstate,
  UNKNOWN_PNN,
} from "../cluster/types.ts";
import {
  DEFAULT_LIFECYCLE_CONFIG,
  initialLifecycle,
  type LifecycleEffect,
  type LifecycleInput,
  type LifecycleState,
  stepLifecycle,
} from "../lifecycle/core.ts";
import { LockService, type Proc } from "./lock.ts";
import { Network, type NodeStatus } from "./network.ts";
import { Prng } from "./prng.ts";
import { Scheduler } from "./scheduler.ts";

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Number of faults injected in the fault phase (default 40). */
  steps?: number;
  lock: boolean;
  /** No-lock mode only: elect only with a majority of configured nodes (default true, Tandem's default). */
  requireMajority?: boolean;
  /** Inject faults (default true); false runs a fault-free formation. */
  faults?: boolean;
  /** Keep the whole trace (default: only the last lines, for a failure report). */
  log?: boolean;
  /** Test-only: break the cluster on purpose to prove the checker notices. */
  sabotage?: Sabotage;
}

/** At `atMs`, make the lowest-numbered running node that is not leading act as leader. */
/**
 * Test-only ways to break the cluster on purpose, to prove the checker notices.
 * "second-leader": at `atMs`, make the lowest-numbered running node that is not
 * leading act as leader. "blind-leader": at `atMs`, silently cut the acting
 * leader off from everyone and make it deaf to silence (keepalive limit
 * effectively infinite), so it keeps leading a partition of one.
 */
export type Sabotage = { kind: "second-leader" | "blind-leader"; atMs: number };

export interface SimStats {
  /** Virtual time at the end of the run. */
  virtualMs: number;
  coreSteps: number;
  packets: number;
  faults: number;
  /** Times some node took up leadership. */
  elections: number;
  /** `lost` notices the lock service handed to holders. */
  locksLost: number;
  /** Virtual time from start until the cluster first converged (fault-free runs: formation time). */
  firstConvergedMs?: number;
  /** Virtual time from the start of the quiet phase until it converged for good. */
  quietConvergedMs?: number;
}

export interface SimResult {
  ok: boolean;
  seed: number;
  failure?: string;
  trace: string[];
  stats: SimStats;
}

/** Timing of every node in one run; varied by seed within CTDB-like ranges. */
export interface SimTiming {
  keepaliveIntervalMs: number;
  keepaliveLimit: number;
  leaderTimeoutMs: number;
  recoverIntervalMs: number;
  leaderBroadcastMs: number;
  lockRetryMs: number;
  electionBackoffMs: number;
  /** How long a lost lock may go unnoticed (the lock's recheck interval). */
  lockRecheckMs: number;
}

const TRACE_TAIL = 40;

/** How long each fake event script takes, ms (init and setup as a booting daemon's). */
const EVENT_MS: Record<string, [number, number]> = {
  init: [10, 1000],
  setup: [10, 500],
  startup: [50, 2000],
  monitor: [5, 300],
  shutdown: [10, 500],
};

/** What a node keeps on disk across restarts: its election term and vote. */
interface SavedVote {
  term: number;
  votedFor: number;
}
/** A healthy cluster takes tens of steps per node per second; this many means packets feed on each other. */
const STORM_STEPS_PER_NODE_SECOND = 500;

interface SimNode {
  pnn: number;
  life: number;
  status: NodeStatus;
  state: ClusterState | undefined;
  config: ClusterConfig;
  wakeAt: number;
  /** Work that arrived while frozen, in arrival order. */
  inbox: (() => void)[];
  tickPending: boolean;
  /** Its durable election state, if the core asks for one to be kept. */
  saved: SavedVote | undefined;
  /** This life's monotonic clock minus virtual time: nodes do not share a clock. */
  clockOffset: number;
  /** Test-only sabotage: never told that a connection closed. */
  blind: boolean;
  /** The leader this life last told its local clients about. */
  toldClients: number;
  /** This life's lifecycle core, and inputs waiting while it steps. */
  life$: LifecycleState | undefined;
  lifeQueue: LifecycleInput[];
  lifeBusy: boolean;
  lifeWakeAt: number;
  /** The fake monitor script passes. */
  servicesOk: boolean;
  /** The next startup events of this life that fail. */
  startupFailures: number;
}

interface TraceEntry {
  t: number;
  text?: string;
  pnn?: number;
  input?: Input;
  fx?: Effect[];
  after?: Snapshot;
}

interface Snapshot {
  role: string;
  leader: number;
  term: number;
  lock: string;
  generation: number;
  runstate: number;
  flags: number;
}

export class ClusterSim {
  readonly sched = new Scheduler(0);
  readonly rng: Prng;
  readonly net: Network;
  readonly lock: LockService;
  readonly nodes: SimNode[] = [];
  readonly timing: SimTiming;
  readonly lockMode: boolean;
  readonly requireMajority: boolean;
  /** Per (node, peer): since when the peer has been out of the node's reach, or -1. */
  private readonly missingSince: number[] = [];
  /** Every leader ever seen per term (no-lock mode): which node, in which life, since when. */
  readonly termLeaders = new Map<number, { pnn: number; life: number; atMs: number }>();
  /** Node restarts so far (a start after the first life). */
  restarts = 0;
  failure: string | undefined;
  /** The faults have ended (heal() ran). */
  quiet = false;
  coreSteps = 0;
  faultCount = 0;
  /** Times some node took up leadership. */
  elections = 0;
  /** Core steps in the current virtual second, to catch message storms. */
  private bucketStartMs = 0;
  private bucketSteps = 0;
  /** Log lines seen while a storm builds up, normalised, to name its cause. */
  private stormLogs: Map<string, number> | undefined;
  private readonly keepAll: boolean;
  private readonly tail: TraceEntry[] = [];
  private tailPos = 0;
  private readonly full: string[] = [];
  private readonly rngFaults: Prng;
  private readonly rngNodes: Prng;

  constructor(
    readonly seed: number,
    readonly n: number,
    opts: { lock: boolean; requireMajority?: boolean; log?: boolean; timing?: Partial<SimTiming> },
  ) {
    const root = new Prng(seed);
    this.rng = root.fork();
    this.rngFaults = root.fork();
    this.rngNodes = root.fork();
    const netRng = root.fork();
    const lockRng = root.fork();
    this.lockMode = opts.lock;
    this.requireMajority = opts.requireMajority ?? true;
    this.keepAll = opts.log === true;
    const r = this.rng;
    this.timing = {
      // 300 ms × 5 is Tandem's default (peer timeout 1.5 s); the rest are CTDB-style tunables.
      keepaliveIntervalMs: r.pick([300, 1000, 2000, 5000]),
      keepaliveLimit: r.pick([3, 5]),
      leaderTimeoutMs: r.pick([3000, 5000]),
      recoverIntervalMs: 1000,
      leaderBroadcastMs: r.pick([1000, 2000]),
      lockRetryMs: r.pick([500, 1000]),
      electionBackoffMs: r.pick([300, 1000]),
      lockRecheckMs: 5000,
      ...opts.timing,
    };
    this.net = new Network(this.sched, netRng, n, {
      packet: (to, from, packet) => {
        // Traffic that arrives is life as far as the receiver can tell, even a
        // packet held back by a cut and sent before its sender froze or died:
        // the receiver's silence window starts again from here.
        const k = to * this.n + from;
        if ((this.missingSince[k] ?? -1) >= 0) this.missingSince[k] = this.sched.nowMs;
        this.deliver(to, (nowMs) => ({ kind: "packet", nowMs, from, packet }));
      },
      peerUp: (node, peer) => this.deliver(node, (nowMs) => ({ kind: "peer-up", nowMs, pnn: peer })),
      peerDown: (node, peer) => this.deliver(node, (nowMs) => ({ kind: "peer-down", nowMs, pnn: peer })),
      status: (node) => this.nodes[node]?.status ?? "dead",
      trace: (line) => this.note(line),
    });
    this.lock = new LockService(this.sched, lockRng, {
      answer: (proc, outcome, holding) => this.lockAnswer(proc, outcome, holding),
      trace: (line) => this.note(line),
    });
    const nodeList = Array.from({ length: n }, (_, pnn) => ({ pnn, deleted: false }));
    // Sometimes the nodes file keeps a deleted line: that PNN never runs and
    // counts for nothing, not even the majority.
    if (r.chance(0.15)) nodeList.push({ pnn: n, deleted: true });
    // Some nodes cannot lead (CTDB's "leader capability = false"), but never all of them.
    const noLead = n >= 3 && r.chance(0.2) ? r.int(n) : -1;
    for (let pnn = 0; pnn < n; pnn++) {
      const startFlags = r.chance(0.05) ? Flag.PERMANENTLY_DISABLED : 0;
      const config: ClusterConfig = {
        pnn,
        nodes: nodeList,
        lockConfigured: opts.lock,
        requireMajority: this.requireMajority,
        leaderTimeoutMs: this.timing.leaderTimeoutMs,
        keepaliveIntervalMs: this.timing.keepaliveIntervalMs,
        keepaliveLimit: this.timing.keepaliveLimit,
        recoverIntervalMs: this.timing.recoverIntervalMs,
        leaderBroadcastMs: this.timing.leaderBroadcastMs,
        lockRetryMs: this.timing.lockRetryMs,
        electionBackoffMs: this.timing.electionBackoffMs,
        startFlags,
        leaderCapable: pnn !== noLead,
        lmasterCapable: true,
        seed: 0,
      };
      this.nodes.push({
        pnn,
        life: 0,
        status: "dead",
        state: undefined,
        config,
        wakeAt: -1,
        inbox: [],
        tickPending: false,
        saved: undefined,
        clockOffset: 0,
        blind: false,
        toldClients: UNKNOWN_PNN,
        life$: undefined,
        lifeQueue: [],
        lifeBusy: false,
        lifeWakeAt: -1,
        servicesOk: true,
        startupFailures: 0,
      });
    }
  }

  get nowMs(): number {
    return this.sched.nowMs;
  }

  // ---- trace ----

  note(text: string): void {
    this.record({ t: this.sched.nowMs, text });
  }

  private record(e: TraceEntry): void {
    if (this.keepAll) {
      this.full.push(formatEntry(e));
      return;
    }
    if (this.tail.length < TRACE_TAIL) this.tail.push(e);
    else this.tail[this.tailPos] = e;
    this.tailPos = (this.tailPos + 1) % TRACE_TAIL;
  }

  trace(): string[] {
    if (this.keepAll) return this.full.slice();
    const ordered = this.tail.length < TRACE_TAIL ? this.tail : [...this.tail.slice(this.tailPos), ...this.tail.slice(0, this.tailPos)];
    return ordered.map(formatEntry);
  }

  /** The last `count` trace lines (for failure reports). */
  traceTail(count = TRACE_TAIL): string[] {
    return this.trace().slice(-count);
  }

  // ---- node lifecycle ----

  /** The node's own clock, which is what its core sees as nowMs. */
  clock(node: SimNode): number {
    return this.sched.nowMs + node.clockOffset;
  }

  proc(pnn: number): Proc {
    return { pnn, life: this.node(pnn).life };
  }

  node(pnn: number): SimNode {
    const node = this.nodes[pnn];
    if (node === undefined) throw new Error(`no node ${pnn}`);
    return node;
  }

  start(pnn: number): void {
    const node = this.node(pnn);
    if (node.status !== "dead") return;
    if (node.life > 0) this.restarts++;
    node.life++;
    node.status = "running";
    node.inbox = [];
    node.tickPending = false;
    node.wakeAt = -1;
    // Each life gets its own core seed and a clock of its own, as a restarted
    // daemon on another host would.
    node.clockOffset = this.rngNodes.range(0, 1_000_000_000);
    node.blind = false;
    node.toldClients = UNKNOWN_PNN;
    node.state = initialState({ ...node.config, seed: this.rngNodes.nextU32() | 1, savedVote: node.saved }, this.clock(node));
    this.note(`node ${pnn} started (life ${node.life})`);
    this.net.nodeStarted(pnn);
    node.life$ = initialLifecycle(DEFAULT_LIFECYCLE_CONFIG, this.clock(node));
    node.lifeQueue = [];
    node.lifeBusy = false;
    node.lifeWakeAt = -1;
    this.stepNode(node, { kind: "tick", nowMs: this.clock(node) });
    this.feedLife(node, { kind: "start", nowMs: this.clock(node) });
  }

  /** `ctdb shutdown`: the lifecycle walks the node to SHUTDOWN and exits. */
  shutdown(pnn: number): void {
    this.note(`node ${pnn} asked to shut down`);
    this.deliverLife(pnn, (nowMs) => ({ kind: "shutdown", nowMs, code: 0 }));
  }

  /** Fake services: the monitor script passes or fails from now on. */
  health(pnn: number, healthy: boolean): void {
    this.node(pnn).servicesOk = healthy;
  }

  kill(pnn: number): void {
    const node = this.node(pnn);
    if (node.status === "dead") return;
    this.note(`node ${pnn} killed`);
    node.status = "dead";
    node.inbox = [];
    this.lock.died(this.proc(pnn));
    this.net.nodeDied(pnn);
  }

  /** Power off: nothing is closed; peers learn by silence, the lock frees late. */
  crash(pnn: number): void {
    const node = this.node(pnn);
    if (node.status === "dead") return;
    this.note(`node ${pnn} crashed`);
    node.status = "dead";
    node.inbox = [];
    this.lock.died(this.proc(pnn), [500, 10_000]);
    this.net.nodeCrashed(pnn);
  }

  freeze(pnn: number): void {
    const node = this.node(pnn);
    if (node.status !== "running") return;
    this.note(`node ${pnn} frozen`);
    node.status = "frozen";
  }

  resume(pnn: number): void {
    const node = this.node(pnn);
    if (node.status !== "frozen") return;
    this.note(`node ${pnn} resumed (${node.inbox.length} queued)`);
    node.status = "running";
    const queued = node.inbox;
    node.inbox = [];
    for (const work of queued) {
      if (node.status !== "running") break;
      work();
    }
    if (node.status === "running") {
      node.tickPending = false;
      this.stepNode(node, { kind: "tick", nowMs: this.clock(node) });
    }
  }

  admin(pnn: number, action: AdminAction): void {
    this.deliver(pnn, (nowMs) => ({ kind: "admin", nowMs, action }));
  }

  /** Hand an input to a node now, or queue it if the node is frozen. */
  deliver(pnn: number, make: (nowMs: number) => Input, after?: () => void): void {
    const node = this.nodes[pnn];
    if (node === undefined || node.status === "dead") return;
    const life = node.life;
    const work = () => {
      if (node.life !== life || node.status !== "running") return;
      const input = make(this.clock(node));
      if (node.blind && input.kind === "peer-down") return;
      this.stepNode(node, input);
      after?.();
    };
    if (node.status === "frozen") node.inbox.push(work);
    else work();
  }

  /** Hand an input to a node's lifecycle now, or queue it if the node is frozen. */
  deliverLife(pnn: number, make: (nowMs: number) => LifecycleInput, life = this.node(pnn).life): void {
    const node = this.nodes[pnn];
    if (node === undefined || node.status === "dead" || node.life !== life) return;
    const work = () => {
      if (node.life !== life || node.status !== "running") return;
      this.feedLife(node, make(this.clock(node)));
    };
    if (node.status === "frozen") node.inbox.push(work);
    else work();
  }

  /** One lifecycle step, or queued behind the one whose effects are running. */
  private feedLife(node: SimNode, input: LifecycleInput): void {
    node.lifeQueue.push(input);
    if (node.lifeBusy) return;
    node.lifeBusy = true;
    try {
      for (let next = node.lifeQueue.shift(); next !== undefined; next = node.lifeQueue.shift()) {
        const state = node.life$;
        if (state === undefined || node.status !== "running") break;
        const { effects } = stepLifecycle(state, next);
        for (const e of effects) this.lifeEffect(node, e);
      }
    } finally {
      node.lifeBusy = false;
      if (node.status !== "running") node.lifeQueue = [];
    }
  }

  private lifeEffect(node: SimNode, e: LifecycleEffect): void {
    const pnn = node.pnn;
    const life = node.life;
    const r = this.rngNodes;
    switch (e.kind) {
      case "run-event": {
        const [lo, hi] = EVENT_MS[e.event] ?? [1, 200];
        let result = 0;
        if (e.event === "monitor") result = node.servicesOk ? 0 : 1;
        if (e.event === "startup" && node.startupFailures > 0) {
          node.startupFailures--;
          result = 1;
        }
        if (e.event !== "monitor") this.note(`node ${pnn} runs ${e.event}${result === 0 ? "" : " (fails)"}`);
        const id = e.id;
        this.sched.after(r.range(lo, hi), () => this.deliverLife(pnn, (nowMs) => ({ kind: "event-done", nowMs, id, result }), life));
        return;
      }
      case "set-runstate":
        this.stepNode(node, { kind: "runstate", nowMs: this.clock(node), runstate: e.runstate });
        return;
      case "join-cluster":
        // The simulated network dials from the start; joining is immediate.
        this.sched.after(0, () => this.deliverLife(pnn, (nowMs) => ({ kind: "joined", nowMs }), life));
        return;
      case "set-health":
        this.stepNode(node, { kind: "health", nowMs: this.clock(node), healthy: e.healthy });
        return;
      case "wake-at": {
        if (node.lifeWakeAt === e.atMs) return;
        node.lifeWakeAt = e.atMs;
        const at = e.atMs;
        this.sched.at(Math.max(this.sched.nowMs, at - node.clockOffset), () => {
          if (node.life !== life || node.lifeWakeAt !== at) return;
          node.lifeWakeAt = -1;
          this.deliverLife(pnn, (nowMs) => ({ kind: "tick", nowMs }), life);
        });
        return;
      }
      case "exit":
        this.note(`node ${pnn} exits (${e.code})`);
        this.kill(pnn);
        // A shutdown asked for before the quiet phase may end within it: the
        // node's supervisor brings it back, so the cluster can still converge.
        if (this.quiet) this.sched.after(this.rngNodes.range(100, 1000), () => this.start(pnn));
        return;
      case "log":
        if (e.level === "error") this.note(`node ${pnn}: ${e.message}`);
        return;
      default:
        return;
    }
  }

  private lockAnswer(proc: Proc, outcome: LockOutcome, holding: number): void {
    const node = this.nodes[proc.pnn];
    if (node === undefined || node.life !== proc.life) return;
    this.deliver(
      proc.pnn,
      (nowMs) => ({ kind: "lock", nowMs, outcome }),
      outcome === "lost" ? () => this.lock.noticed(proc, holding) : undefined,
    );
  }

  private scheduleWake(node: SimNode, atMs: number): void {
    if (node.wakeAt === atMs) return;
    node.wakeAt = atMs;
    const life = node.life;
    // A busy event loop runs timers late now and then.
    const late = this.rngNodes.chance(0.05) ? this.rngNodes.range(1, 200) : 0;
    this.sched.at(atMs - node.clockOffset + late, () => {
      if (node.life !== life || node.wakeAt !== atMs || node.status === "dead") return;
      node.wakeAt = -1;
      if (node.status === "frozen") {
        if (!node.tickPending) {
          node.tickPending = true;
          node.inbox.push(() => {
            node.tickPending = false;
            if (node.life === life && node.status === "running") this.stepNode(node, { kind: "tick", nowMs: this.clock(node) });
          });
        }
        return;
      }
      this.stepNode(node, { kind: "tick", nowMs: this.clock(node) });
    });
  }

  // ---- one core step ----

  stepNode(node: SimNode, input: Input): void {
    const state = node.state;
    if (state === undefined || node.status !== "running") return;
    this.coreSteps++;
    if (this.sched.nowMs - this.bucketStartMs >= 1000) {
      this.bucketStartMs = this.sched.nowMs;
      this.bucketSteps = 0;
      this.stormLogs = undefined;
    }
    const limit = STORM_STEPS_PER_NODE_SECOND * this.n;
    if (++this.bucketSteps > limit) {
      const top = [...(this.stormLogs ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 2);
      const cause = top.map(([m, c]) => `"${m}" x${c}`).join(", ");
      this.fail(`message storm: over ${limit} core steps within one virtual second; most logged: ${cause || "nothing"}`);
    } else if (this.bucketSteps > limit / 2) {
      this.stormLogs ??= new Map();
    }
    const wasLeader = state.role === "leader";
    const { effects } = step(state, input);
    if (!wasLeader && state.role === "leader") this.elections++;
    const storm = this.stormLogs;
    if (storm !== undefined) {
      for (const e of effects) {
        if (e.kind !== "log") continue;
        const m = e.message.replace(/\d+/g, "N");
        storm.set(m, (storm.get(m) ?? 0) + 1);
      }
    }
    this.record({ t: this.sched.nowMs, pnn: node.pnn, input, fx: effects, after: snapshot(state) });
    this.feedLife(node, {
      kind: "cluster",
      nowMs: this.clock(node),
      recoveryActive: state.recoveryMode !== 0,
      inactive: (state.ownFlags & FLAGS_INACTIVE) !== 0,
    });
    const proc = this.proc(node.pnn);
    for (const e of effects) {
      switch (e.kind) {
        case "send":
          this.net.send(node.pnn, e.to, e.packet);
          break;
        case "drop-peer":
          this.net.breakConn(node.pnn, e.pnn, `node ${node.pnn} dropped ${e.pnn}: ${e.reason}`);
          break;
        case "take-lock":
          this.lock.take(proc);
          break;
        case "release-lock":
          this.lock.release(proc);
          break;
        case "wake-at":
          this.scheduleWake(node, e.atMs);
          break;
        case "leader-to-clients":
          node.toldClients = e.leader;
          break;
        case "first-recovery-done":
          this.feedLife(node, { kind: "first-recovery-done", nowMs: this.clock(node) });
          break;
        case "recovered":
          this.feedLife(node, { kind: "recovered", nowMs: this.clock(node), generation: e.generation });
          break;
        case "persist-vote":
          node.saved = { term: e.term, votedFor: e.votedFor };
          break;
      }
    }
    this.checkSafety(node);
    if (this.failure === undefined && state.role !== "leader") {
      // Only an acting leader hands out generations.
      const rogue = effects.find((e) => e.kind === "send" && e.packet.t === "recovered");
      if (rogue !== undefined) this.fail(`node ${node.pnn} sent a recovery while not acting as leader`);
    }
  }

  // ---- invariants ----

  fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = `t=${this.sched.nowMs} step ${this.coreSteps}: ${message}`;
    this.note(`INVARIANT VIOLATED: ${message}`);
  }

  /** Safety, after every core step. */
  checkSafety(stepped: SimNode): void {
    if (this.failure !== undefined) return;
    if (this.lockMode) {
      const holder = this.lock.holder;
      let actingHolders = 0;
      for (const node of this.nodes) {
        if (node.status === "dead" || node.state?.role !== "leader") continue;
        const holds = this.lock.holds({ pnn: node.pnn, life: node.life });
        if (!holds) {
          const h = holder === undefined ? "nobody" : `node ${holder.pnn} (life ${holder.life})`;
          this.fail(`node ${node.pnn} acts as leader but the lock service records ${h} as holder`);
          return;
        }
        actingHolders++;
      }
      if (actingHolders > 1) this.fail(`${actingHolders} nodes act as leader holding the lock`);
      // Holding the lock is not enough: a leader cut off into less than half
      // of the nodes must give it up, even while it still reaches the lock.
      if (this.requireMajority) this.checkMajority(this.leadQuorum());
      return;
    }
    const s = stepped.state;
    if (s !== undefined && s.role === "leader") {
      const seen = this.termLeaders.get(s.term);
      if (seen === undefined) this.termLeaders.set(s.term, { pnn: stepped.pnn, life: stepped.life, atMs: this.sched.nowMs });
      else if (seen.pnn !== stepped.pnn && this.requireMajority) {
        const first = this.nodes[seen.pnn];
        const both = first?.life === seen.life && first.status !== "dead" && first.state?.role === "leader";
        this.fail(
          `two leaders in term ${s.term}: node ${seen.pnn} (life ${seen.life}, from t=${seen.atMs}) and node ${stepped.pnn} ` +
            `(life ${stepped.life})${both ? ", both leading now" : ""}; ${this.restarts} restarts so far`,
        );
        return;
      }
    }
    if (this.requireMajority) this.checkMajority(this.leadQuorum());
  }

  /** Nodes a partition needs to have a leader: a majority, or with a lock at least half. */
  leadQuorum(): number {
    const config = this.node(0).config;
    if (!this.lockMode) return majorityOfConfigured(config);
    return Math.ceil(config.nodes.filter((n) => !n.deleted).length / 2);
  }

  /**
   * A leader cut off into a minority cannot know it at once: it learns that a
   * peer is gone when the connection closes, or only after the keepalive
   * limit when the peer falls silent (frozen, crashed, a one-way cut towards
   * the leader). So the check is: no node acts as leader in a partition (of
   * nodes reaching each other both ways) without a majority of the configured
   * nodes once enough of the others have been silent towards it, or cut off
   * from it, for longer than that limit.
   */
  private checkMajority(need: number): void {
    const t = this.timing;
    // Silence limit, one more keepalive tick, a late timer (up to 200 ms) and delivery.
    const grace = t.keepaliveIntervalMs * (t.keepaliveLimit + 1) + t.recoverIntervalMs + 300;
    const now = this.sched.nowMs;
    const n = this.n;
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a === b) continue;
        // What `a` can notice itself is silence from `b`; a cut the other way
        // shows up only when `b` gives up on the connection and closes it.
        const up = b.status === "running" && this.net.isOpen(a.pnn, b.pnn) && !this.net.isBlocked(b.pnn, a.pnn);
        const k = a.pnn * n + b.pnn;
        // A frozen node notices nothing: its window starts when it runs again.
        if (up || a.status !== "running") this.missingSince[k] = -1;
        else if ((this.missingSince[k] ?? -1) < 0) this.missingSince[k] = now;
      }
    }
    for (const node of this.nodes) {
      if (node.status !== "running" || node.state?.role !== "leader") continue;
      const size = this.componentSize(node.pnn);
      if (size >= need) continue;
      // Nodes it may still count: reachable, or missing too briefly to notice.
      let excusable = 1;
      let longest = 0;
      for (let m = 0; m < n; m++) {
        if (m === node.pnn) continue;
        const since = this.missingSince[node.pnn * n + m] ?? -1;
        if (since < 0 || now - since <= grace) excusable++;
        else longest = Math.max(longest, now - since);
      }
      if (excusable < need) {
        this.fail(
          `node ${node.pnn} leads in a partition of ${size} nodes (majority ${need}); ` +
            `${n - excusable} nodes have been out of its reach for more than ${grace} ms (up to ${longest} ms)`,
        );
        return;
      }
    }
  }

  /** Size of the partition of running nodes that `pnn` can reach both ways. */
  componentSize(pnn: number): number {
    const seen = new Set([pnn]);
    const todo = [pnn];
    while (todo.length > 0) {
      const a = todo.pop() as number;
      for (const b of this.nodes) {
        if (seen.has(b.pnn) || b.status !== "running") continue;
        if (this.net.linked(a, b.pnn)) {
          seen.add(b.pnn);
          todo.push(b.pnn);
        }
      }
    }
    return seen.size;
  }

  /** Liveness: undefined when the live nodes have converged, else what is wrong. */
  convergence(): string | undefined {
    const live = this.nodes.filter((x) => x.status !== "dead");
    if (live.length === 0) return "no live node";
    const leaders = live.filter((x) => x.state?.role === "leader").map((x) => x.pnn);
    if (leaders.length !== 1) return `${leaders.length} nodes act as leader [${leaders.join(",")}]`;
    const leader = leaders[0] as number;
    const ref = this.node(leader).state as ClusterState;
    // The leader's vnnmap is every live node that is not inactive (all are lmaster-capable here).
    const active = live.filter((x) => ((x.state as ClusterState).ownFlags & FLAGS_INACTIVE) === 0).map((x) => x.pnn);
    const expected = active.length > 0 ? active : [leader];
    if (!sameList(ref.vnnmap, expected)) return `leader ${leader} has vnnmap [${ref.vnnmap}], active nodes are [${expected}]`;
    for (const x of live) {
      const s = x.state as ClusterState;
      if (x.status === "frozen") return `node ${x.pnn} is frozen`;
      if (s.leader !== leader) return `node ${x.pnn} follows ${fmtPnn(s.leader)}, not ${leader}`;
      if (x.toldClients !== leader) return `node ${x.pnn} last told its clients the leader is ${fmtPnn(x.toldClients)}, not ${leader}`;
      if (s.runstate !== Runstate.RUNNING) return `node ${x.pnn} is in runstate ${runstateName(s.runstate)}`;
      if (s.generation !== ref.generation) return `node ${x.pnn} has generation ${s.generation}, leader ${ref.generation}`;
      if (!sameList(s.vnnmap, ref.vnnmap)) return `node ${x.pnn} has vnnmap [${s.vnnmap}], leader [${ref.vnnmap}]`;
      for (const y of live) {
        if (y === x) continue;
        const ys = y.state as ClusterState;
        const peer = s.peers.get(y.pnn);
        if (peer === undefined || !peer.connected) return `node ${x.pnn} is not connected to node ${y.pnn}`;
        const seen = nodeFlags(s, y.pnn);
        if (seen !== ys.ownFlags) {
          return `node ${x.pnn} sees flags 0x${seen.toString(16)} for node ${y.pnn}, which has 0x${ys.ownFlags.toString(16)}`;
        }
      }
    }
    return undefined;
  }

  /** Run scheduled work until virtual time `untilMs` (or a failure). */
  runUntil(untilMs: number): void {
    while (this.failure === undefined) {
      const next = this.sched.peekTime();
      if (next === undefined || next > untilMs) break;
      this.sched.runNext();
    }
    if (this.sched.nowMs < untilMs) this.sched.nowMs = untilMs;
  }

  /**
   * Run until the cluster has converged and stayed so for `stableMs`, probing
   * every `probeMs`; returns the time convergence began, or undefined (with
   * the last reason in `lastReason`) if it did not by `deadlineMs`.
   */
  runToConvergence(deadlineMs: number, stableMs: number, probeMs = 250): { sinceMs?: number; lastReason?: string } {
    let since: number | undefined;
    let lastReason: string | undefined;
    for (let t = this.sched.nowMs; t <= deadlineMs && this.failure === undefined; t += probeMs) {
      this.runUntil(t);
      if (this.failure !== undefined) break;
      const why = this.convergence();
      if (why === undefined) {
        since ??= t;
        if (t - since >= stableMs) return { sinceMs: since };
      } else {
        since = undefined;
        lastReason = why;
      }
    }
    return lastReason === undefined ? {} : { lastReason };
  }

  /** Who the live, running nodes think leads, for tests: pnn -> leader. */
  leaders(): Map<number, number> {
    const m = new Map<number, number>();
    for (const x of this.nodes) if (x.status === "running" && x.state !== undefined) m.set(x.pnn, x.state.leader);
    return m;
  }

  actingLeaders(): number[] {
    return this.nodes.filter((x) => x.status !== "dead" && x.state?.role === "leader").map((x) => x.pnn);
  }

  // ---- random faults ----

  injectFault(): void {
    const r = this.rngFaults;
    const n = this.n;
    const live = this.nodes.filter((x) => x.status !== "dead");
    const running = this.nodes.filter((x) => x.status === "running");
    const dead = this.nodes.filter((x) => x.status === "dead");
    const choice = r.int(100);
    this.faultCount++;
    if (choice < 10) {
      if (live.length > 1) {
        const pnn = r.pick(live).pnn;
        const how = r.int(10);
        if (how < 3) this.crash(pnn);
        else if (how < 5) this.shutdown(pnn);
        else this.kill(pnn);
      }
    } else if (choice < 18) {
      if (dead.length > 0) {
        const x = r.pick(dead);
        // Now and then a restarted node's services are not ready: startup fails and is retried.
        x.startupFailures = r.chance(0.2) ? 1 + r.int(2) : 0;
        this.start(x.pnn);
      }
    } else if (choice < 26) {
      if (running.length > 0) {
        const pnn = r.pick(running).pnn;
        this.freeze(pnn);
        const life = this.node(pnn).life;
        this.sched.after(r.range(100, 20_000), () => {
          if (this.node(pnn).life === life) this.resume(pnn);
        });
      }
    } else if (choice < 34) {
      // Symmetric partition: a random non-empty proper subset against the rest.
      const side = new Set<number>();
      for (let i = 0; i < n; i++) if (r.chance(0.5)) side.add(i);
      if (side.size === 0) side.add(r.int(n));
      if (side.size === n) side.delete(r.int(n));
      this.note(`partition [${[...side].join(",")}] | rest`);
      const pairs: [number, number][] = [];
      for (const a of side) for (let b = 0; b < n; b++) if (!side.has(b)) pairs.push([a, b]);
      for (const [a, b] of pairs) this.net.cut(a, b, true);
      this.sched.after(r.range(500, 30_000), () => {
        this.note(`heal partition [${[...side].join(",")}]`);
        for (const [a, b] of pairs) this.net.heal(a, b);
      });
    } else if (choice < 42) {
      const a = r.int(n);
      const b = (a + 1 + r.int(n - 1)) % n;
      this.note(`one-way cut ${a}->${b}`);
      this.net.cut(a, b, false);
      this.sched.after(r.range(500, 30_000), () => {
        this.note(`heal ${a}->${b}`);
        this.net.heal(a, b);
      });
    } else if (choice < 52) {
      const a = r.int(n);
      const b = (a + 1 + r.int(n - 1)) % n;
      this.net.breakConn(a, b, "connection lost");
    } else if (choice < 58) {
      const a = r.int(n);
      const b = (a + 1 + r.int(n - 1)) % n;
      const extra = r.pick([50, 500, 2000, 6000]);
      this.note(`slow ${a}->${b} by up to ${extra} ms`);
      this.net.slowDown(a, b, extra, r.range(1000, 20_000));
    } else if (choice < 66) {
      if (this.lockMode) this.lock.lose(this.timing.lockRecheckMs);
    } else if (choice < 72) {
      const slow = r.pick([0, 0.2, 0.8]);
      const error = r.pick([0, 0.3, 0.9]);
      this.note(`lock faults: slow ${slow}, error ${error}`);
      this.lock.faults = { slow, error };
    } else if (choice < 84) {
      if (live.length > 0) {
        const pnn = r.pick(live).pnn;
        const action = r.pick(["disable", "enable", "stop", "continue", "continue"] as const);
        this.note(`admin ${action} node ${pnn}`);
        this.admin(pnn, action);
      }
    } else if (choice < 94) {
      if (live.length > 0) {
        const pnn = r.pick(live).pnn;
        const healthy = r.chance(0.5);
        this.note(`node ${pnn} health ${healthy ? "ok" : "bad"}`);
        this.health(pnn, healthy);
      }
    } else if (choice < 97) {
      if (live.length > 0) {
        const pnn = r.pick(live).pnn;
        this.note(`force recovery on node ${pnn}`);
        this.deliver(pnn, (nowMs) => ({ kind: "force-recovery", nowMs }));
      }
    } else if (live.length > 0) {
      const pnn = r.pick(live).pnn;
      const leader = r.chance(0.5);
      this.note(`node ${pnn} leader capability ${leader ? "on" : "off"}`);
      this.deliver(pnn, (nowMs) => ({ kind: "capabilities", nowMs, leader }));
    }
  }

  /** End every fault so the cluster can converge; keeps enough nodes alive and able to lead. */
  heal(): void {
    const r = this.rngFaults;
    this.note("quiet phase: healing everything");
    this.quiet = true;
    this.net.healAll();
    this.lock.faults = { slow: 0, error: 0 };
    for (const x of this.nodes) if (x.status === "frozen") this.resume(x.pnn);
    for (const x of this.nodes) {
      const leader = x.config.leaderCapable;
      this.deliver(x.pnn, (nowMs) => ({ kind: "capabilities", nowMs, leader }));
    }
    for (const x of this.nodes) if (x.status === "dead" && r.chance(0.7)) this.start(x.pnn);
    const need = this.lockMode ? (this.requireMajority ? this.leadQuorum() : 1) : majorityOfConfigured(this.node(0).config);
    for (const x of this.nodes) {
      if (this.nodes.filter((y) => y.status !== "dead").length >= need) break;
      if (x.status === "dead") this.start(x.pnn);
    }
    // A stopped node cannot lead: make sure some live, leader-capable node can.
    const canLead = (x: SimNode) =>
      x.status !== "dead" && x.config.leaderCapable && ((x.state?.ownFlags ?? 0) & Flag.STOPPED) === 0;
    for (const x of this.nodes) {
      if (x.status !== "dead" && ((x.state?.ownFlags ?? 0) & Flag.STOPPED) !== 0 && r.chance(0.5)) this.admin(x.pnn, "continue");
    }
    if (!this.nodes.some(canLead)) {
      const x = this.nodes.find((y) => y.config.leaderCapable) as SimNode;
      if (x.status === "dead") this.start(x.pnn);
      else this.admin(x.pnn, "continue");
    }
    // Connections broken during the faults redial on their own; make sure
    // every pair of live nodes is trying.
    for (const x of this.nodes) if (x.status !== "dead") this.net.nodeStarted(x.pnn);
  }
}

export function simulate(opts: SimOptions): SimResult {
  const sim = new ClusterSim(opts.seed, opts.nodes, {
    lock: opts.lock,
    ...(opts.requireMajority === undefined ? {} : { requireMajority: opts.requireMajority }),
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  const steps = opts.steps ?? 40;
  const faults = opts.faults ?? true;
  const r = sim.rng;
  const t = sim.timing;
  const silence = t.keepaliveIntervalMs * t.keepaliveLimit;
  sim.note(
    `seed ${opts.seed}: ${opts.nodes} nodes, ${opts.lock ? "lock" : sim.requireMajority ? "no lock, majority" : "no lock, no majority"}, ` +
      `keepalive ${t.keepaliveIntervalMs}x${t.keepaliveLimit}, leader timeout ${t.leaderTimeoutMs}, election backoff ${t.electionBackoffMs}`,
  );
  const sabotage = opts.sabotage;
  if (sabotage !== undefined) {
    sim.sched.at(sabotage.atMs, () => {
      if (sabotage.kind === "blind-leader") {
        const l = sim.nodes.find((y) => y.status === "running" && y.state?.role === "leader");
        if (l?.state === undefined) return;
        sim.note(`SABOTAGE: node ${l.pnn} cut off silently and blind to silence`);
        l.state.config = { ...l.state.config, keepaliveLimit: 1_000_000 };
        l.blind = true;
        for (let m = 0; m < sim.n; m++) {
          if (m === l.pnn) continue;
          sim.net.cut(l.pnn, m, false);
          sim.net.cut(m, l.pnn, false);
        }
        return;
      }
      const x = sim.nodes.find((y) => y.status === "running" && y.state !== undefined && y.state.role !== "leader");
      if (x?.state === undefined) return;
      // Behind the core's back: the core itself would step down at its next
      // step, so check at once, as the checker does after every step.
      const other = sim.nodes.find((y) => y !== x && y.status !== "dead" && y.state?.role === "leader");
      sim.note(`SABOTAGE: node ${x.pnn} made leader${other === undefined ? "" : ` in node ${other.pnn}'s term`}`);
      x.state.role = "leader";
      if (other?.state !== undefined) x.state.term = other.state.term;
      sim.checkSafety(x);
    });
  }
  // Nodes come up at slightly different times, as they would when booted together.
  for (let pnn = 0; pnn < opts.nodes; pnn++) {
    const at = r.range(0, 2000);
    sim.sched.at(at, () => sim.start(pnn));
  }
  let firstConvergedMs: number | undefined;
  let quietConvergedMs: number | undefined;
  if (faults) {
    for (let i = 0; i < steps && sim.failure === undefined; i++) {
      sim.runUntil(sim.nowMs + r.range(0, 4000));
      if (sim.failure !== undefined) break;
      sim.injectFault();
    }
    if (sim.failure === undefined) {
      sim.heal();
    }
  }
  if (sim.failure === undefined) {
    const quietStart = sim.nowMs;
    // Long enough for stale connections to time out, leaders to be noticed
    // gone, slow lock answers to arrive, restarted nodes to walk to RUNNING.
    const budget = 4 * silence + 6 * t.leaderTimeoutMs + 30_000;
    const stable = silence + t.leaderTimeoutMs + 2 * t.recoverIntervalMs;
    const res = sim.runToConvergence(quietStart + budget, stable);
    if (res.sinceMs !== undefined) {
      quietConvergedMs = res.sinceMs - quietStart;
      if (!faults) firstConvergedMs = res.sinceMs;
    } else if (sim.failure === undefined) {
      sim.fail(`no convergence ${budget} ms after the faults ended: ${res.lastReason ?? "?"}`);
    }
  }
  const stats: SimStats = {
    virtualMs: sim.nowMs,
    coreSteps: sim.coreSteps,
    packets: sim.net.delivered,
    faults: sim.faultCount,
    elections: sim.elections,
    locksLost: sim.lock.lostNotices,
    ...(firstConvergedMs === undefined ? {} : { firstConvergedMs }),
    ...(quietConvergedMs === undefined ? {} : { quietConvergedMs }),
  };
  const failure = sim.failure;
  return failure === undefined
    ? { ok: true, seed: opts.seed, trace: sim.trace(), stats }
    : { ok: false, seed: opts.seed, failure, trace: opts.log ? sim.trace() : sim.traceTail(), stats };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function fmtPnn(pnn: number): string {
  return pnn === UNKNOWN_PNN ? "nobody" : String(pnn);
}

const RUNSTATE_NAMES = ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"];

function runstateName(r: number): string {
  return RUNSTATE_NAMES[r] ?? String(r);
}

function snapshot(s: ClusterState): Snapshot {
  return {
    role: s.role,
    leader: s.leader,
    term: s.term,
    lock: s.lock,
    generation: s.generation,
    runstate: s.runstate,
    flags: s.ownFlags,
  };
}

function fmtSnapshot(s: Snapshot | undefined): string {
  if (s === undefined) return "";
  return `${s.role} leader=${fmtPnn(s.leader)} term=${s.term} lock=${s.lock} gen=${s.generation} rs=${runstateName(s.runstate)} flags=0x${s.flags.toString(16)}`;
}

function fmtPacket(p: ClusterPacket): string {
  switch (p.t) {
    case "state":
      return `state{flags=0x${p.flags.toString(16)} rs=${runstateName(p.runstate)} leader=${fmtPnn(p.leader)} term=${p.term} gen=${p.generation}}`;
    case "leader":
      return `leader{${fmtPnn(p.leader)} term=${p.term}}`;
    case "vote-request":
      return `vote-request{term=${p.term}}`;
    case "vote":
      return `vote{term=${p.term} ${p.granted ? "yes" : "no"}}`;
    case "recovered":
      return `recovered{term=${p.term} gen=${p.generation} map=[${p.vnnmap}]}`;
    case "ban":
      return `ban{${p.pnn} ${p.seconds}s}`;
    case "recover-request":
      return "recover-request";
    case "failover":
      return `failover{${p.m.k}}`;
  }
}

function fmtInput(i: Input): string {
  switch (i.kind) {
    case "packet":
      return `<- ${i.from} ${fmtPacket(i.packet)}`;
    case "peer-up":
    case "peer-down":
      return `${i.kind} ${i.pnn}`;
    case "lock":
      return `lock ${i.outcome}`;
    case "admin":
      return `admin ${i.action}`;
    case "health":
      return `health ${i.healthy ? "ok" : "bad"}`;
    case "runstate":
      return `runstate ${runstateName(i.runstate)}`;
    default:
      return i.kind;
  }
}

function fmtEffect(e: Effect): string | undefined {
  switch (e.kind) {
    case "send":
      return `-> ${e.to} ${fmtPacket(e.packet)}`;
    case "drop-peer":
      return `drop ${e.pnn} (${e.reason})`;
    case "log":
      return `log ${e.level}: ${e.message}`;
    case "wake-at":
    case "leader-to-clients":
      return undefined;
    case "leader-changed":
      return `leader ${fmtPnn(e.previous)} -> ${fmtPnn(e.leader)}`;
    case "recovered":
      return `recovered gen=${e.generation} map=[${e.vnnmap}]`;
    case "flags-changed":
      return `flags of ${e.pnn}: 0x${e.previous.toString(16)} -> 0x${e.flags.toString(16)}`;
    default:
      return e.kind;
  }
}

function formatEntry(e: TraceEntry): string {
  const t = String(e.t).padStart(8);
  if (e.text !== undefined) return `${t} ** ${e.text}`;
  const fx = (e.fx ?? []).map(fmtEffect).filter((s): s is string => s !== undefined);
  const input = e.input === undefined ? "" : fmtInput(e.input);
  return `${t} n${e.pnn} ${input}${fx.length > 0 ? ` => ${fx.join("; ")}` : ""} [${fmtSnapshot(e.after)}]`;
}
