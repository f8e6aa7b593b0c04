// The simulated node-to-node network. It models what the real transport sees
// over TCP: one connection per pair of nodes, each direction strictly FIFO with
// no loss and no duplicates while the connection lives; packets of different
// connections interleave freely. Loss shows up as the connection breaking:
// both ends are told (peer-down) and the pair reconnects after a backoff, like
// a TCP transport redialling. A one-way cut stops packets in one direction
// while the connection stays up (a half-broken path), which only keepalives
// can detect. TCP never loses data on a connection that survives, so packets
// caught by a one-way cut are held, not dropped: they arrive in order if the
// cut heals before the connection breaks, and die with it otherwise. A
// symmetric cut breaks the connection and keeps the pair apart until healed.

import type { ClusterPacket } from "../cluster/types.ts";
import type { Prng } from "./prng.ts";
import type { Scheduler } from "./scheduler.ts";

export type NodeStatus = "dead" | "frozen" | "running";

export interface NetworkHooks {
  packet(to: number, from: number, packet: ClusterPacket): void;
  peerUp(node: number, peer: number): void;
  peerDown(node: number, peer: number): void;
  status(node: number): NodeStatus;
  trace(line: string): void;
}

interface Conn {
  id: number;
  open: boolean;
  /** Whether each end (index 0 = lower PNN) has been told the connection is up. */
  told: [boolean, boolean];
  /** Time of the last scheduled arrival in each direction, towards end 0 and end 1. */
  lastAt: [number, number];
  /** Packets held by a one-way cut, per direction (towards end 0 / end 1). */
  held: [ClusterPacket[], ClusterPacket[]];
  /** The life of each end when the connection was made. */
  lives: [number, number];
}

interface Slow {
  extraMs: number;
  untilMs: number;
}

export class Network {
  private readonly conns = new Map<number, Conn>();
  private readonly connecting = new Set<number>();
  private readonly blocked = new Set<number>();
  private readonly slow = new Map<number, Slow>();
  /** Bumped when a node dies, so notices meant for its previous life are dropped. */
  private readonly life: number[];
  /** Latest peer-up/peer-down scheduled for (node, peer): notices about one peer never overtake each other. */
  private readonly noticeAt = new Map<number, number>();
  private nextId = 1;
  /** Packets that arrived, for throughput figures. */
  delivered = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Prng,
    private readonly n: number,
    private readonly hooks: NetworkHooks,
    private readonly baseDelayMs: [number, number] = [1, 3],
    private readonly reconnectMs: [number, number] = [200, 1000],
  ) {
    this.life = new Array<number>(n).fill(0);
  }

  private pairKey(a: number, b: number): number {
    return a < b ? a * this.n + b : b * this.n + a;
  }

  private dirKey(from: number, to: number): number {
    return from * this.n + to;
  }

  /** Whether `from` can currently reach `to` and back over an open connection. */
  linked(a: number, b: number): boolean {
    const c = this.conns.get(this.pairKey(a, b));
    return (
      c?.open === true && !this.blocked.has(this.dirKey(a, b)) && !this.blocked.has(this.dirKey(b, a))
    );
  }

  isOpen(a: number, b: number): boolean {
    return this.conns.get(this.pairKey(a, b))?.open === true;
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked.has(this.dirKey(from, to));
  }

  send(from: number, to: number, packet: ClusterPacket): void {
    const key = this.pairKey(from, to);
    const c = this.conns.get(key);
    // Writing to a connection the sender has not yet learnt is closed fails.
    if (c === undefined || !c.open) return;
    const dir = from < to ? 1 : 0;
    const sl = this.slow.get(this.dirKey(from, to));
    let delay = this.rng.range(this.baseDelayMs[0], this.baseDelayMs[1]);
    if (sl !== undefined) {
      if (sl.untilMs <= this.sched.nowMs) this.slow.delete(this.dirKey(from, to));
      else delay += this.rng.int(sl.extraMs + 1);
    }
    const at = Math.max(this.sched.nowMs + delay, c.lastAt[dir]);
    c.lastAt[dir] = at;
    this.sched.at(at, () => this.arrive(c, dir, from, to, packet));
  }

  private arrive(c: Conn, dir: 0 | 1, from: number, to: number, packet: ClusterPacket): void {
    if (!c.open) return;
    if (this.life[to] !== c.lives[dir]) {
      // The receiving host crashed and came back: it knows no such connection
      // and answers with a reset.
      this.breakConn(from, to, `reset by restarted node ${to}`);
      return;
    }
    const held = c.held[dir];
    if (held.length > 0 || this.blocked.has(this.dirKey(from, to))) {
      if (held.length === 0) this.hooks.trace(`net ${from}->${to} stalled at ${packet.t}`);
      held.push(packet);
      return;
    }
    this.delivered++;
    this.hooks.packet(to, from, packet);
  }

  /**
   * A one-way cut healed: what TCP was retransmitting now arrives, in order.
   * Packets that reach the receiver before the flush queue up behind the held
   * ones, so the direction stays FIFO.
   */
  private release(from: number, to: number): void {
    const c = this.conns.get(this.pairKey(from, to));
    if (c === undefined || !c.open) return;
    const dir = from < to ? 1 : 0;
    if (c.held[dir].length === 0) return;
    this.sched.after(this.rng.range(this.baseDelayMs[0], this.baseDelayMs[1]), () => {
      if (!c.open || this.blocked.has(this.dirKey(from, to))) return;
      const held = c.held[dir];
      c.held[dir] = [];
      this.hooks.trace(`net ${from}->${to} delivers ${held.length} held packets`);
      for (const packet of held) {
        if (!c.open) return;
        this.delivered++;
        this.hooks.packet(to, from, packet);
      }
    });
  }

  /** Break the connection between a and b (loss, a reset, or one end giving up on it). */
  breakConn(a: number, b: number, why: string): void {
    const key = this.pairKey(a, b);
    const c = this.conns.get(key);
    if (c === undefined || !c.open) return;
    c.open = false;
    this.conns.delete(key);
    this.hooks.trace(`net ${Math.min(a, b)}<->${Math.max(a, b)} broken: ${why}`);
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (c.told[0]) this.notifyDown(lo, hi);
    if (c.told[1]) this.notifyDown(hi, lo);
    this.redial(a, b, this.rng.range(this.reconnectMs[0], this.reconnectMs[1]));
  }

  /** When to tell `node` something about `peer`: after anything already on its way about that peer. */
  private noticeTime(node: number, peer: number): number {
    const key = this.dirKey(node, peer);
    const at = Math.max(this.sched.nowMs + this.rng.range(0, 3), this.noticeAt.get(key) ?? 0);
    this.noticeAt.set(key, at);
    return at;
  }

  private notifyDown(node: number, peer: number): void {
    const life = this.life[node];
    this.sched.at(this.noticeTime(node, peer), () => {
      if (this.life[node] !== life || this.hooks.status(node) === "dead") return;
      this.hooks.peerDown(node, peer);
    });
  }

  nodeDied(node: number): void {
    this.life[node] = (this.life[node] ?? 0) + 1;
    for (let m = 0; m < this.n; m++) {
      if (m !== node) this.breakConn(node, m, `node ${node} died`);
    }
  }

  /** The host vanished without closing anything: peers find out by silence, or by a reset once it is back. */
  nodeCrashed(node: number): void {
    this.life[node] = (this.life[node] ?? 0) + 1;
  }

  nodeStarted(node: number): void {
    for (let m = 0; m < this.n; m++) {
      if (m !== node) this.redial(node, m, this.rng.range(1, 50));
    }
  }

  /** A cut that stops packets from `from` to `to`; symmetric cuts also break the connection. */
  cut(from: number, to: number, symmetric: boolean): void {
    this.blocked.add(this.dirKey(from, to));
    if (symmetric) {
      this.blocked.add(this.dirKey(to, from));
      this.breakConn(from, to, "partitioned");
    }
  }

  heal(from: number, to: number): void {
    this.blocked.delete(this.dirKey(from, to));
    this.blocked.delete(this.dirKey(to, from));
    this.release(from, to);
    this.release(to, from);
  }

  healAll(): void {
    this.blocked.clear();
    this.slow.clear();
    for (let a = 0; a < this.n; a++) for (let b = 0; b < this.n; b++) if (a !== b) this.release(a, b);
  }

  slowDown(from: number, to: number, extraMs: number, forMs: number): void {
    this.slow.set(this.dirKey(from, to), { extraMs, untilMs: this.sched.nowMs + forMs });
  }

  private redial(a: number, b: number, delayMs: number): void {
    const key = this.pairKey(a, b);
    if (this.connecting.has(key)) return;
    this.connecting.add(key);
    this.sched.after(delayMs, () => {
      this.connecting.delete(key);
      this.dial(a, b);
    });
  }

  private dial(a: number, b: number): void {
    const key = this.pairKey(a, b);
    const old = this.conns.get(key);
    if (old?.open) {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      if (old.lives[0] === this.life[lo] && old.lives[1] === this.life[hi]) return;
      // One end is a new life: its handshake resets the stale connection; the
      // redial that follows connects after the old end has been told.
      this.breakConn(a, b, "stale connection of a restarted node");
      return;
    }
    const sa = this.hooks.status(a);
    const sb = this.hooks.status(b);
    if (sa === "dead" || sb === "dead") return; // nodeStarted redials
    if (sa === "frozen" || sb === "frozen" || this.blocked.has(this.dirKey(a, b)) || this.blocked.has(this.dirKey(b, a))) {
      this.redial(a, b, this.rng.range(this.reconnectMs[0], this.reconnectMs[1]));
      return;
    }
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const upLo = this.noticeTime(lo, hi);
    const upHi = this.noticeTime(hi, lo);
    // Packets towards an end never overtake that end's own peer-up.
    const c: Conn = {
      id: this.nextId++,
      open: true,
      told: [false, false],
      lastAt: [upLo, upHi],
      held: [[], []],
      lives: [this.life[lo] ?? 0, this.life[hi] ?? 0],
    };
    this.conns.set(key, c);
    this.hooks.trace(`net ${lo}<->${hi} connected (conn ${c.id})`);
    this.sched.at(upLo, () => {
      if (!c.open) return;
      c.told[0] = true;
      this.hooks.peerUp(lo, hi);
    });
    this.sched.at(upHi, () => {
      if (!c.open) return;
      c.told[1] = true;
      this.hooks.peerUp(hi, lo);
    });
  }
}
