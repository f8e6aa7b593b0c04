// Drives one coordinator and one participant per node in memory: messages are
// delivered in order, event scripts finish when the test says so. The cores
// are the real ones; only the transport and the scripts are the test's.

import {
  type CoordinatorEffect,
  type CoordinatorState,
  initialCoordinator,
  stepCoordinator,
} from "../../src/failover/coordinator.ts";
import {
  initialParticipant,
  type ParticipantEffect,
  type ParticipantState,
  stepParticipant,
} from "../../src/failover/participant.ts";
import { allocate, IpAllocAlgorithm } from "../../src/failover/alloc/index.ts";
import type { Allocate, FailoverMessage, NodeView, PublicAddress } from "../../src/failover/types.ts";
import { Runstate } from "../../src/protocol/constants.ts";

/** The real allocator with CTDB's default options (LCP2). */
export const lcp2: Allocate = (nodes, addresses) =>
  allocate(nodes, addresses, { algorithm: IpAllocAlgorithm.LCP2, noIpFailback: false, noIpTakeover: false });

/** The deterministic allocator with home nodes: placements a test can name. */
export function homes(home: Record<string, number>): Allocate {
  const homeNodes = Object.entries(home).map(([address, pnn]) => ({ address, pnn }));
  return (nodes, addresses) =>
    allocate(nodes, addresses, { algorithm: IpAllocAlgorithm.DETERMINISTIC, noIpFailback: false, noIpTakeover: false, homeNodes });
}

export function addr(address: string, ifaces = ["eth0"], prefix = 24): PublicAddress {
  return { address, prefix, family: address.includes(":") ? 6 : 4, interfaces: ifaces };
}

export interface Event {
  pnn: number;
  id: number;
  event: string;
  args: string[];
}

export class Bed {
  now = 0;
  coordinator: CoordinatorState;
  participants = new Map<number, ParticipantState>();
  /** Events started and not yet finished. */
  running: Event[] = [];
  /** Every event started, in order. */
  log: Event[] = [];
  coordinatorFx: CoordinatorEffect[] = [];
  participantFx: { pnn: number; fx: ParticipantEffect }[] = [];
  /** Messages held back, when a test wants to lose or delay them. */
  drop: (from: number, to: number, msg: FailoverMessage) => boolean = () => false;
  private queue: { from: number; to: number; msg: FailoverMessage }[] = [];

  constructor(
    readonly leader: number,
    nodes: Record<number, PublicAddress[]>,
    allocator: Allocate = lcp2,
    over: Partial<Parameters<typeof initialCoordinator>[0]> = {},
  ) {
    this.coordinator = initialCoordinator(
      { pnn: leader, allocate: allocator, runTimeoutMs: 27000, retryMs: 1000, holderGraceMs: 10000, historySize: 10, ...over },
      0,
    );
    for (const [pnn, list] of Object.entries(nodes)) {
      const p = Number(pnn);
      const s = initialParticipant({ pnn: p, leaderlessGraceMs: 5000 }, list, 0);
      this.participants.set(p, s);
      this.toParticipant(p, { kind: "self", nowMs: 0, flags: 0, runstate: Runstate.RUNNING });
      this.toParticipant(p, { kind: "leader", nowMs: 0, leader });
    }
  }

  views(over: Record<number, Partial<NodeView>> = {}): NodeView[] {
    return [...this.participants.keys()].map((pnn) => ({
      pnn,
      connected: true,
      flags: 0,
      runstate: Runstate.RUNNING,
      lastHeardMs: this.now,
      ...over[pnn],
    }));
  }

  toCoordinator(input: Parameters<typeof stepCoordinator>[1]): void {
    const { effects } = stepCoordinator(this.coordinator, input);
    for (const e of effects) {
      this.coordinatorFx.push(e);
      if (e.kind === "send") this.queue.push({ from: this.leader, to: e.to, msg: e.msg });
    }
    this.flush();
  }

  toParticipant(pnn: number, input: Parameters<typeof stepParticipant>[1]): void {
    const state = this.participants.get(pnn)!;
    const { effects } = stepParticipant(state, input);
    for (const e of effects) {
      this.participantFx.push({ pnn, fx: e });
      if (e.kind === "send") this.queue.push({ from: pnn, to: e.to, msg: e.msg });
      if (e.kind === "run-event") {
        const ev = { pnn, id: e.id, event: e.event, args: e.args };
        this.running.push(ev);
        this.log.push(ev);
      }
    }
    this.flush();
  }

  private flushing = false;
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    while (this.queue.length > 0) {
      const { from, to, msg } = this.queue.shift()!;
      if (this.drop(from, to, msg)) continue;
      if (to === this.leader && (msg.k === "ips" || msg.k === "ack" || msg.k === "run-request" || msg.k === "move")) {
        this.toCoordinatorNow({ kind: "message", nowMs: this.now, from, msg });
      }
      if (this.participants.has(to) && (msg.k === "gather" || msg.k === "start" || msg.k === "release" || msg.k === "take" || msg.k === "done" || msg.k === "moved")) {
        this.toParticipantNow(to, { kind: "message", nowMs: this.now, from, msg });
      }
    }
    this.flushing = false;
  }

  private toCoordinatorNow(input: Parameters<typeof stepCoordinator>[1]): void {
    const { effects } = stepCoordinator(this.coordinator, input);
    for (const e of effects) {
      this.coordinatorFx.push(e);
      if (e.kind === "send") this.queue.push({ from: this.leader, to: e.to, msg: e.msg });
    }
  }

  private toParticipantNow(pnn: number, input: Parameters<typeof stepParticipant>[1]): void {
    const { effects } = stepParticipant(this.participants.get(pnn)!, input);
    for (const e of effects) {
      this.participantFx.push({ pnn, fx: e });
      if (e.kind === "send") this.queue.push({ from: pnn, to: e.to, msg: e.msg });
      if (e.kind === "run-event") {
        const ev = { pnn, id: e.id, event: e.event, args: e.args };
        this.running.push(ev);
        this.log.push(ev);
      }
    }
  }

  /** Finish one running event (the first matching), with a status. */
  finish(match: (e: Event) => boolean, status = 0): Event {
    const i = this.running.findIndex(match);
    if (i === -1) throw new Error(`no running event matches; running: ${JSON.stringify(this.running)}`);
    const [ev] = this.running.splice(i, 1);
    this.toParticipant(ev!.pnn, { kind: "event-done", nowMs: this.now, id: ev!.id, status });
    return ev!;
  }

  /** Let every script succeed until nothing runs. */
  settle(limit = 1000): void {
    for (let i = 0; i < limit && this.running.length > 0; i++) this.finish(() => true);
    if (this.running.length > 0) throw new Error("scripts keep running");
  }

  /** The cluster as the shell reports it, then leadership: the first run starts. */
  start(): void {
    this.toCoordinator({ kind: "nodes", nowMs: this.now, nodes: this.views() });
    this.toCoordinator({ kind: "leader", nowMs: this.now, leading: true });
  }

  hosted(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [pnn, s] of this.participants) {
      for (const a of s.hosted.keys()) out[a] = [...(out[a] ?? []), pnn];
    }
    return out;
  }

  events(pnn?: number): string[] {
    return this.log.filter((e) => pnn === undefined || e.pnn === pnn).map((e) => `${e.pnn}:${e.event}${e.args.length ? ` ${e.args.join(" ")}` : ""}`);
  }
}
