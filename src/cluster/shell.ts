// Carries out the cluster core's effects with a real clock, timer, transport and
// cluster lock, and turns what happens into the core's inputs.

import fs from "node:fs";
import { performance } from "node:perf_hooks";
import type { ClusterLock } from "../lock/cluster-lock.ts";
import type { Transport } from "../transport/tcp.ts";
import { type ClusterState, initialState, step } from "./core.ts";
import type { ClusterConfig, ClusterPacket, Effect, Input, LogLevel } from "./types.ts";

type InputWithoutTime = Input extends infer I ? (I extends Input ? Omit<I, "nowMs"> : never) : never;

export interface ClusterHooks {
  log: (level: LogLevel, message: string) => void;
  leaderToClients: (leader: number) => void;
  firstRecoveryDone: () => void;
  recovered: (generation: number, vnnmap: number[]) => void;
  flagsChanged: (pnn: number, flags: number, previous: number) => void;
  leaderChanged: (leader: number, previous: number) => void;
  /** This node lost its majority: its public addresses must go at once. */
  lostMajority?: () => void;
  /** After each step: other cores follow the state (recovery mode, own flags). */
  stepped?: (state: ClusterState) => void;
}

/** The term and vote a no-lock election stored before this process started. */
export function loadVote(file: string): { term: number; votedFor: number } | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as { term?: unknown; votedFor?: unknown };
    if (typeof v.term === "number" && typeof v.votedFor === "number") return { term: v.term, votedFor: v.votedFor };
  } catch {
    // none stored yet, or unreadable: start from term 0 as a new node would
  }
  return undefined;
}

function saveVote(file: string, term: number, votedFor: number): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, JSON.stringify({ term, votedFor }));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export class ClusterShell {
  readonly state: ClusterState;
  private timer: NodeJS.Timeout | undefined;
  private transport: Transport | undefined;
  private stopped = false;

  constructor(
    config: ClusterConfig,
    private readonly lock: ClusterLock | undefined,
    private readonly hooks: ClusterHooks,
    private readonly voteFile?: string,
  ) {
    this.state = initialState(config, performance.now());
    if (lock !== undefined) {
      lock.onEvent = (e) => this.feed({ kind: "lock", outcome: e.kind, ...("reason" in e ? { reason: e.reason } : {}) });
    }
  }

  attach(transport: Transport): void {
    this.transport = transport;
  }

  onPeerUp = (pnn: number) => this.feed({ kind: "peer-up", pnn });
  onPeerDown = (pnn: number) => this.feed({ kind: "peer-down", pnn });
  onPacket = (from: number, packet: ClusterPacket) => this.feed({ kind: "packet", from, packet });

  private queue: InputWithoutTime[] = [];
  private busy = false;

  /** Inputs that arrive while effects run (a lock answering at once) wait their turn. */
  feed(input: InputWithoutTime): void {
    if (this.stopped) return;
    this.queue.push(input);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const { effects } = step(this.state, { ...next, nowMs: performance.now() } as Input);
        this.hooks.stepped?.(this.state);
        for (const effect of effects) this.execute(effect);
      }
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.lock?.close();
  }

  private execute(effect: Effect): void {
    switch (effect.kind) {
      case "send":
        this.transport?.send(effect.to, effect.packet);
        return;
      case "drop-peer":
        this.transport?.drop(effect.pnn, effect.reason);
        return;
      case "take-lock":
        if (this.lock === undefined) this.feed({ kind: "lock", outcome: "error", reason: "no cluster lock configured" });
        else this.lock.take();
        return;
      case "release-lock":
        this.lock?.release();
        return;
      case "wake-at": {
        clearTimeout(this.timer);
        const delay = Math.max(0, effect.atMs - performance.now());
        this.timer = setTimeout(() => this.feed({ kind: "tick" }), delay);
        this.timer.unref();
        return;
      }
      case "log":
        this.hooks.log(effect.level, effect.message);
        return;
      case "leader-to-clients":
        this.hooks.leaderToClients(effect.leader);
        return;
      case "leader-changed":
        this.hooks.leaderChanged(effect.leader, effect.previous);
        return;
      case "first-recovery-done":
        this.hooks.firstRecoveryDone();
        return;
      case "recovered":
        this.hooks.recovered(effect.generation, effect.vnnmap);
        return;
      case "flags-changed":
        this.hooks.flagsChanged(effect.pnn, effect.flags, effect.previous);
        return;
      case "lost-majority":
        this.hooks.lostMajority?.();
        return;
      case "persist-vote":
        // Synchronous on purpose: the vote must be on disk before it is sent.
        if (this.voteFile !== undefined) saveVote(this.voteFile, effect.term, effect.votedFor);
        return;
    }
  }
}
