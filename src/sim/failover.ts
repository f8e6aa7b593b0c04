// A simulator of public address failover: N nodes each run the real failover
// component (src/failover/node.ts: participant, coordinator with the real
// allocator, banning) on a virtual clock, with messages delayed, reordered
// between links (in order within one, as TCP keeps them), lost, links cut,
// nodes killed, frozen and restarted, scripts slow, failing or hung. After
// every step three invariants are checked:
//   1. no address is configured on two nodes at once (an address counts as
//      configured from the start of its takeip until its releaseip ends, and a
//      dead or frozen node's addresses until its watchdog removes them);
//   2. no node starts a takeip before every node of that run still alive has
//      acknowledged startipreallocate for it;
//   3. once faults stop and the cluster is quiet, every address some healthy
//      node may host is hosted, by exactly one such node.
// Membership is the environment here, as the network is: each node sees a
// peer after a short delay once both can reach each other, loses it at once
// when its process dies and after the detection window when it falls silent,
// and follows the lowest-numbered node of the majority it belongs to.

import { IpAllocAlgorithm, allocate } from "../failover/alloc/index.ts";
import { type FailoverEffect, type FailoverInput, type FailoverState, initialFailover, stepFailover } from "../failover/node.ts";
import { keepAddressesUntil } from "../failover/participant.ts";
import type { FailoverMessage, NodeView, PublicAddress } from "../failover/types.ts";
import { ETIMEDOUT } from "../failover/types.ts";
import { NodeFlag, Runstate, UNKNOWN_PNN } from "../protocol/constants.ts";
import { Prng } from "./prng.ts";
import { Scheduler } from "./scheduler.ts";

export interface FailoverSimOptions {
  seed: number;
  nodes: number;
  addresses: number;
  /** Faults in the fault phase (default 25). */
  faults?: number;
}

export interface FailoverSimResult {
  ok: boolean;
  seed: number;
  failure?: string;
  trace: string[];
  runs: number;
}

const W = 3000; // silence detection window
const LEADERLESS = 2000; // participant's grace without a leader
const WATCHDOG = 500; // a dead node's watchdog removes its addresses within this
const MARGIN = 1000;
const RUN_TIMEOUT = 6000;
const HUNG_MS = 9000;

type Status = "up" | "dead" | "frozen";

interface SimNode {
  pnn: number;
  status: Status;
  life: number;
  state: FailoverState;
  /** Inputs that reached a frozen node, in order. */
  inbox: (() => void)[];
  /** Addresses configured on its interfaces now, as the invariant sees them. */
  configured: Set<string>;
  /** Events running: id -> what it is. */
  events: Map<number, { event: string; args: string[] }>;
  wakeAt: number | undefined;
  /** When this node's view of each peer last changed, and what it is. */
  sees: Map<number, boolean>;
  lastHeard: Map<number, number>;
  closed: Map<number, boolean>;
  leader: number;
  /** Events the watchdog ended while the daemon was stopped. */
  killedScripts: Set<number>;
  healthy: boolean;
  disabled: boolean;
}

export class FailoverSim {
  readonly sched = new Scheduler(0);
  readonly rng: Prng;
  readonly nodes: SimNode[] = [];
  readonly addresses: PublicAddress[];
  /** Links cut: "a>b" means a's packets do not reach b. */
  readonly cut = new Set<string>();
  /** Per link, the time the last packet arrives, to keep each link in order. */
  private readonly linkClock = new Map<string, number>();
  failure: string | undefined;
  private readonly traceLines: string[] = [];
  private hungScripts = 0;
  private failingScripts = new Set<number>();
  private dropNextAck = false;

  constructor(readonly opts: FailoverSimOptions) {
    this.rng = new Prng(opts.seed);
    this.addresses = Array.from({ length: opts.addresses }, (_, i) => ({
      address: `10.1.0.${i + 1}`,
      prefix: 24,
      family: 4 as const,
      interfaces: i % 3 === 2 ? ["eth0", "eth1"] : ["eth0"],
    }));
    for (let pnn = 0; pnn < opts.nodes; pnn++) this.nodes.push(this.newNode(pnn, 0));
    for (const n of this.nodes) this.refreshViews(n);
  }

  private newNode(pnn: number, life: number): SimNode {
    const state = initialFailover(
      {
        pnn,
        coordinator: {
          allocate: (nodes, addresses) => allocate(nodes, addresses, { algorithm: IpAllocAlgorithm.LCP2, noIpFailback: false, noIpTakeover: false }),
          runTimeoutMs: RUN_TIMEOUT,
          retryMs: 500,
          holderGraceMs: W + LEADERLESS + MARGIN,
          closedGraceMs: Math.max(LEADERLESS, WATCHDOG) + MARGIN,
          historySize: 50,
          firstRun: life * 1_000_000 + 1,
        },
        participant: { leaderlessGraceMs: LEADERLESS },
        bans: { enableBans: true, banPeriodSec: 20, graceMs: 30_000 },
      },
      // Node lists differ: the last node cannot host the first address.
      this.addresses.filter((_a, i) => !(pnn === this.opts.nodes - 1 && i === 0)),
      this.sched.nowMs,
    );
    return {
      pnn,
      status: "up",
      life,
      state,
      inbox: [],
      configured: new Set(),
      events: new Map(),
      wakeAt: undefined,
      sees: new Map(),
      lastHeard: new Map(),
      closed: new Map(),
      leader: UNKNOWN_PNN,
      killedScripts: new Set(),
      healthy: true,
      disabled: false,
    };
  }

  trace(line: string): void {
    this.traceLines.push(`${String(this.sched.nowMs).padStart(6)} ${line}`);
    if (this.traceLines.length > 80) this.traceLines.shift();
  }

  fail(message: string): void {
    if (this.failure === undefined) this.failure = `at ${this.sched.nowMs} ms: ${message}`;
  }

  // ---- the environment: reachability and membership ----

  private reaches(a: number, b: number): boolean {
    return this.nodes[a]!.status !== "dead" && this.nodes[b]!.status !== "dead" && !this.cut.has(`${a}>${b}`);
  }

  /** Node n's view of the cluster, as its cluster core would report it. */
  private refreshViews(n: SimNode): void {
    if (n.status !== "up") return;
    const now = this.sched.nowMs;
    const views: NodeView[] = [];
    for (const p of this.nodes) {
      if (p.pnn === n.pnn) continue;
      views.push({
        pnn: p.pnn,
        connected: n.sees.get(p.pnn) === true,
        flags: (n.sees.get(p.pnn) === true ? 0 : NodeFlag.DISCONNECTED) | flagsOf(p),
        runstate: Runstate.RUNNING,
        lastHeardMs: n.lastHeard.get(p.pnn) ?? 0,
        closed: n.closed.get(p.pnn) === true,
      });
    }
    views.push({ pnn: n.pnn, connected: true, flags: flagsOf(n), runstate: Runstate.RUNNING, lastHeardMs: now });
    views.sort((a, b) => a.pnn - b.pnn);
    const global = this.leader;
    n.leader = global === n.pnn || (global !== UNKNOWN_PNN && n.sees.get(global) === true) ? global : UNKNOWN_PNN;
    this.feed(n, {
      kind: "cluster",
      nowMs: now,
      nodes: views,
      leader: n.leader,
      leading: n.leader === n.pnn,
      ownFlags: flagsOf(n),
      runstate: Runstate.RUNNING,
      recoveryActive: false,
    });
  }

  /**
   * Re-evaluate who sees whom, as connections behave: one connects when both
   * directions work; an end drops it after W of silence, and the other end
   * learns at once only if the close reaches it (else by its own silence); a
   * dead process's connections are closed by its kernel, if that reaches.
   */
  /**
   * The one leader, as a working cluster lock makes it: the lowest-numbered
   * running, unbanned node connected to a majority. A new one is chosen only
   * after the old one is gone or has lost its majority.
   */
  leader = UNKNOWN_PNN;
  private chooseLeader(): boolean {
    const majority = Math.floor(this.nodes.length / 2) + 1;
    const fit = (n: SimNode) =>
      n.status === "up" &&
      (flagsOf(n) & NodeFlag.BANNED) === 0 &&
      1 + this.nodes.filter((p) => p !== n && n.sees.get(p.pnn) === true).length >= majority;
    const current = this.leader === UNKNOWN_PNN ? undefined : this.nodes[this.leader];
    if (current !== undefined && fit(current)) return false;
    // Others learn that a leader froze or was cut off only by its silence: the
    // lock passes on once a majority no longer sees it.
    if (current !== undefined && current.status !== "dead" && (flagsOf(current) & NodeFlag.BANNED) === 0) {
      const stillSeen = this.nodes.filter((p) => p !== current && p.status === "up" && p.sees.get(current.pnn) === true).length;
      if (stillSeen + 1 >= majority) return false;
    }
    const next = this.nodes.find(fit);
    const chosen = next?.pnn ?? UNKNOWN_PNN;
    if (chosen === this.leader) return false;
    this.trace(`leader ${chosen}`);
    this.leader = chosen;
    return true;
  }

  private membershipTick(): void {
    const now = this.sched.nowMs;
    const changed = new Set<SimNode>();
    for (const n of this.nodes) {
      if (n.status === "dead") continue;
      // Packets wait in a frozen node's socket buffers: it has heard them once it runs again.
      for (const p of this.nodes) if (p !== n && p.status === "up" && this.reaches(p.pnn, n.pnn)) n.lastHeard.set(p.pnn, now);
    }
    for (const n of this.nodes) {
      if (n.status !== "up") continue;
      for (const p of this.nodes) {
        if (p === n) continue;
        if (n.sees.get(p.pnn) !== true) {
          if (p.status === "up" && this.reaches(n.pnn, p.pnn) && this.reaches(p.pnn, n.pnn)) {
            for (const [a, b] of [[n, p], [p, n]] as const) {
              a.sees.set(b.pnn, true);
              a.closed.set(b.pnn, false);
              a.lastHeard.set(b.pnn, now);
              changed.add(a);
            }
          }
          continue;
        }
        if (p.status === "dead" && !this.cut.has(`${p.pnn}>${n.pnn}`)) {
          n.sees.set(p.pnn, false);
          n.closed.set(p.pnn, true);
          changed.add(n);
        } else if (now - (n.lastHeard.get(p.pnn) ?? 0) >= W) {
          n.sees.set(p.pnn, false);
          n.closed.set(p.pnn, false);
          changed.add(n);
          if (p.status === "up" && this.reaches(n.pnn, p.pnn) && p.sees.get(n.pnn) === true) {
            p.sees.set(n.pnn, false);
            p.closed.set(n.pnn, true);
            changed.add(p);
          }
        }
      }
    }
    if (this.chooseLeader()) this.everyoneRefresh();
    else for (const n of changed) this.refreshViews(n);
  }

  // ---- driving the cores ----

  private feed(n: SimNode, input: FailoverInput): void {
    if (n.status === "dead") return;
    if (n.status === "frozen") {
      n.inbox.push(() => this.feed(n, { ...input, nowMs: this.sched.nowMs }));
      return;
    }
    const { effects } = stepFailover(n.state, input);
    for (const e of effects) this.effect(n, e);
    this.checkNoDouble();
  }

  private effect(n: SimNode, e: FailoverEffect): void {
    const life = n.life;
    switch (e.kind) {
      case "send":
        if (e.to === n.pnn) {
          const msg = e.msg;
          this.sched.after(0, () => this.arrive(n.pnn, n.pnn, life, msg));
        } else {
          this.transmit(n.pnn, e.to, e.msg, life);
        }
        return;
      case "send-ban": {
        const to = e.to;
        const seconds = e.seconds;
        if (!this.reaches(n.pnn, to)) return;
        this.sched.after(this.rng.range(1, 20), () => {
          const t = this.nodes[to]!;
          this.feed(t, { kind: "ban", nowMs: this.sched.nowMs, seconds, reason: `banned by ${n.pnn}` });
        });
        return;
      }
      case "run-event":
        return this.runEvent(n, e.id, e.event, e.args);
      case "drop-addresses":
        this.trace(`${n.pnn} drops ${e.addresses.map((a) => a.address).join(",")}`);
        for (const a of e.addresses) n.configured.delete(a.address);
        return;
      case "banned":
        this.trace(`${n.pnn} banned=${e.on}`);
        n.state.facts = n.state.facts === undefined ? undefined : { ...n.state.facts };
        this.sched.after(0, () => this.everyoneRefresh());
        return;
      case "wake-at":
        if (e.atMs === undefined || (n.wakeAt !== undefined && n.wakeAt <= e.atMs && n.wakeAt > this.sched.nowMs)) return;
        n.wakeAt = e.atMs;
        this.sched.at(e.atMs, () => {
          if (n.life !== life || n.wakeAt !== e.atMs) return;
          n.wakeAt = undefined;
          this.feed(n, { kind: "tick", nowMs: this.sched.nowMs });
        });
        return;
      case "log":
        if (e.level === "error" || e.level === "notice") this.trace(`${n.pnn} ${e.message}`);
        return;
      default:
        return;
    }
  }

  private everyoneRefresh(): void {
    for (const n of this.nodes) this.refreshViews(n);
  }

  private transmit(from: number, to: number, msg: FailoverMessage, life: number): void {
    if (!this.reaches(from, to)) return;
    if (msg.k === "ack" && this.dropNextAck) {
      this.dropNextAck = false;
      this.trace(`lost ack ${from}->${to} ${msg.stage} run ${msg.run}`);
      return;
    }
    const key = `${from}>${to}`;
    const at = Math.max(this.sched.nowMs + this.rng.range(1, 15), this.linkClock.get(key) ?? 0);
    this.linkClock.set(key, at);
    const toLife = this.nodes[to]!.life;
    this.sched.at(at, () => {
      // A packet dies with either end's connection.
      if (this.nodes[from]!.life !== life || this.nodes[to]!.life !== toLife || !this.reaches(from, to)) return;
      this.arrive(from, to, life, msg);
    });
  }

  private arrive(from: number, to: number, _life: number, msg: FailoverMessage): void {
    const t = this.nodes[to]!;
    this.feed(t, { kind: "message", nowMs: this.sched.nowMs, from, msg });
  }

  private runEvent(n: SimNode, id: number, event: string, args: string[]): void {
    const life = n.life;
    n.events.set(id, { event, args });
    if (event === "takeip" || event === "updateip") {
      const address = event === "takeip" ? args[1]! : args[2]!;
      this.checkGrace(n, address);
      n.configured.add(address);
    }
    let delay = this.rng.range(1, 40);
    let status = 0;
    if (this.hungScripts > 0 && this.rng.chance(0.3)) {
      this.hungScripts--;
      delay = HUNG_MS;
      // eventd kills a hung script at its timeout; a hung takeip or releaseip counts as done.
      status = event === "takeip" || event === "releaseip" ? 0 : ETIMEDOUT;
      this.trace(`${n.pnn} ${event} hangs`);
    } else if (this.failingScripts.has(n.pnn) && event !== "releaseip") {
      status = 1;
    }
    this.sched.after(delay, () => {
      if (n.life !== life) return;
      const done = () => {
        n.events.delete(id);
        if (n.killedScripts.delete(id)) status = 137;
        if (event === "releaseip" && status === 0) n.configured.delete(args[1]!);
        this.feed(n, { kind: "event-done", nowMs: this.sched.nowMs, id, status });
      };
      // A frozen node's script still finishes; the daemon hears of it on resume.
      if (n.status === "frozen") n.inbox.push(done);
      else done();
    });
  }

  // ---- invariants ----

  private checkNoDouble(): void {
    const seen = new Map<string, number>();
    for (const n of this.nodes) {
      for (const a of n.configured) {
        const other = seen.get(a);
        if (other !== undefined) this.fail(`address ${a} configured on nodes ${other} and ${n.pnn}`);
        seen.set(a, n.pnn);
      }
    }
  }

  /** No take before every surviving member of the run acknowledged startipreallocate. */
  private checkGrace(n: SimNode, address: string): void {
    const job = n.state.participant.current;
    if (job === undefined || job.origin.kind !== "leader") return;
    const { leader, run } = job.origin;
    const coordinator = this.nodes[leader]!.state.coordinator;
    const record = coordinator.run?.id === run ? coordinator.run.record : coordinator.history.find((r) => r.run === run);
    const members = coordinator.run?.id === run ? coordinator.run.members : undefined;
    if (record === undefined) {
      // The leader died or restarted since: its run is gone with it; fine only if it is dead now.
      if (this.nodes[leader]!.status === "up" && this.nodes[leader]!.state.coordinator.leading) this.fail(`${n.pnn} takes ${address} for unknown run ${run} of ${leader}`);
      return;
    }
    if (!record.grace) this.fail(`${n.pnn} takes ${address} in run ${run}, which had no startipreallocate`);
    const acked = new Set(record.startAcks.map((a) => a.pnn));
    for (const pnn of members ?? []) {
      if (this.nodes[pnn]!.status === "dead") continue;
      if (!acked.has(pnn)) this.fail(`${n.pnn} takes ${address} in run ${run} before node ${pnn} acknowledged startipreallocate`);
    }
  }

  /** Quiet: every address a healthy node may host is on exactly one healthy node. */
  private checkQuiet(): void {
    for (const a of this.addresses) {
      const mayHost = this.nodes.filter((n) => n.status === "up" && (flagsOf(n) & (NodeFlag.INACTIVE | NodeFlag.DISABLED)) === 0 && n.state.participant.addresses.has(a.address));
      const hosts = this.nodes.filter((n) => n.configured.has(a.address));
      if (mayHost.length === 0) continue;
      if (hosts.length !== 1) this.fail(`quiet: ${a.address} hosted by [${hosts.map((h) => h.pnn)}] though nodes [${mayHost.map((m) => m.pnn)}] may host it`);
      else if (!mayHost.includes(hosts[0]!)) this.fail(`quiet: ${a.address} on node ${hosts[0]!.pnn}, which may not host it`);
    }
  }

  // ---- faults ----

  private fault(): void {
    const r = this.rng;
    const n = this.nodes[r.int(this.nodes.length)]!;
    const kind = r.int(10);
    switch (kind) {
      case 0:
        // A dead node starts again once its watchdog has cleaned up.
        if (n.status === "dead") return n.configured.size === 0 ? this.restart(n) : undefined;
        this.trace(`kill ${n.pnn}`);
        n.status = "dead";
        n.life++;
        n.events.clear();
        // Its watchdog removes what it configured.
        this.sched.after(r.range(1, WATCHDOG), () => n.status === "dead" && n.configured.clear());
        return;
      case 1:
        if (n.status !== "up") return;
        this.trace(`freeze ${n.pnn}`);
        n.status = "frozen";
        // The watchdog sees the daemon stop beating and drops its addresses at
        // the deadline the daemon last gave it; the daemon hears of it when it resumes.
        this.sched.at(keepAddressesUntil(n.state.participant), () => {
          if (n.status !== "frozen") return;
          // It ends the daemon's scripts first, so none adds an address back.
          n.killedScripts = new Set(n.events.keys());
          if (n.configured.size === 0) return;
          const removed = [...n.configured];
          n.configured.clear();
          n.inbox.push(() => this.feed(n, { kind: "request", nowMs: this.sched.nowMs, request: { kind: "removed", addresses: removed } }));
        });
        this.sched.after(r.range(500, 8000), () => this.resume(n));
        return;
      case 2:
      case 3: {
        const a = r.int(this.nodes.length);
        const b = r.int(this.nodes.length);
        if (a === b) return;
        const oneWay = r.chance(0.3);
        this.trace(`cut ${a}${oneWay ? ">" : "<>"}${b}`);
        this.cut.add(`${a}>${b}`);
        if (!oneWay) this.cut.add(`${b}>${a}`);
        this.sched.after(r.range(1000, 10_000), () => {
          this.cut.delete(`${a}>${b}`);
          this.cut.delete(`${b}>${a}`);
          this.trace(`heal ${a}-${b}`);
        });
        return;
      }
      case 4:
        this.trace("a script will hang");
        this.hungScripts++;
        return;
      case 5:
        this.trace("an acknowledgement will be lost");
        this.dropNextAck = true;
        return;
      case 6:
        n.healthy = !n.healthy;
        this.trace(`${n.pnn} ${n.healthy ? "healthy" : "unhealthy"}`);
        return this.everyoneRefresh();
      case 7:
        n.disabled = !n.disabled;
        this.trace(`${n.pnn} ${n.disabled ? "disabled" : "enabled"}`);
        return this.everyoneRefresh();
      case 8:
        if (this.failingScripts.has(n.pnn)) this.failingScripts.delete(n.pnn);
        else this.failingScripts.add(n.pnn);
        this.trace(`${n.pnn} scripts ${this.failingScripts.has(n.pnn) ? "fail" : "work"}`);
        return;
      case 9: {
        const up = this.nodes.filter((x) => x.status === "up");
        const target = up[r.int(Math.max(1, up.length))];
        const a = this.addresses[r.int(this.addresses.length)]!;
        if (target === undefined) return;
        // `ctdb moveip`: RELEASE_IP on the holder.
        for (const h of this.nodes) {
          if (h.status === "up" && h.state.participant.hosted.has(a.address)) {
            this.trace(`moveip ${a.address} ${target.pnn}`);
            this.feed(h, { kind: "request", nowMs: this.sched.nowMs, request: { kind: "client-release", address: a.address, pnn: target.pnn, token: 1 } });
          }
        }
        return;
      }
    }
  }

  private resume(n: SimNode): void {
    if (n.status !== "frozen") return;
    this.trace(`resume ${n.pnn}`);
    n.status = "up";
    const inbox = n.inbox;
    n.inbox = [];
    for (const f of inbox) f();
    this.refreshViews(n);
  }

  private restart(n: SimNode): void {
    this.trace(`restart ${n.pnn}`);
    const fresh = this.newNode(n.pnn, n.life + 1);
    this.nodes[n.pnn] = fresh;
    fresh.healthy = n.healthy;
    fresh.disabled = n.disabled;
    this.refreshViews(fresh);
  }

  private heal(): void {
    this.cut.clear();
    this.hungScripts = 0;
    this.failingScripts.clear();
    this.dropNextAck = false;
    for (const n of this.nodes) {
      if (n.status === "frozen") this.resume(n);
      if (n.status === "dead") this.sched.after(WATCHDOG, () => this.restart(n));
    }
    for (const n of this.nodes) {
      n.healthy = true;
      n.disabled = false;
    }
    this.everyoneRefresh();
  }

  run(): FailoverSimResult {
    const faults = this.opts.faults ?? 25;
    const tick = () => {
      this.membershipTick();
      if (this.failure === undefined) this.sched.after(100, tick);
    };
    this.sched.after(0, tick);
    let t = 1000;
    for (let i = 0; i < faults; i++) {
      t += this.rng.range(100, 3000);
      this.sched.at(t, () => this.fault());
    }
    const quietFrom = t + 11_000;
    this.sched.at(quietFrom, () => this.heal());
    // Quiet long enough for a ban (20 s) to run out, failed runs to be retried and graces to end.
    const checkAt = quietFrom + 40_000;
    let checked = false;
    this.sched.at(checkAt, () => {
      this.checkQuiet();
      checked = true;
    });
    while (this.failure === undefined && !checked && this.sched.runNext()) {
      // run until the check
    }
    const runs = this.nodes.reduce((s, n) => s + n.state.coordinator.history.length, 0);
    return { ok: this.failure === undefined, seed: this.opts.seed, ...(this.failure === undefined ? {} : { failure: this.failure }), trace: [...this.traceLines], runs };
  }
}

function flagsOf(n: SimNode): number {
  let f = 0;
  if (!n.healthy) f |= NodeFlag.UNHEALTHY;
  if (n.disabled) f |= NodeFlag.PERMANENTLY_DISABLED;
  if ((n.state.bans.own?.untilMs ?? 0) > n.state.nowMs) f |= NodeFlag.BANNED;
  return f;
}

export function runFailoverSim(opts: FailoverSimOptions): FailoverSimResult {
  return new FailoverSim(opts).run();
}
