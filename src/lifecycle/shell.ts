// Carries out the lifecycle core's effects with a real clock and timer and
// the daemon's services, and turns what happens into the core's inputs.

import { performance } from "node:perf_hooks";
import {
  initialLifecycle,
  type LifecycleConfig,
  type LifecycleEffect,
  type LifecycleInput,
  type LifecycleState,
  type LogLevel,
  stepLifecycle,
} from "./core.ts";

type InputWithoutTime = LifecycleInput extends infer I ? (I extends LifecycleInput ? Omit<I, "nowMs"> : never) : never;

/** What the daemon does for the lifecycle. */
export interface LifecycleHandlers {
  /** Runs an event's scripts; resolves with eventd's reply (0 = success). */
  runEvent(event: string, args: string[], timeoutSec: number): Promise<number>;
  setRunstate(runstate: number): void;
  /** Starts the node transport. */
  joinCluster(): Promise<void>;
  setHealth(healthy: boolean): void;
  notify(event: string): void;
  log(level: LogLevel, message: string): void;
  /** The database seam: recover this node's databases for the generation. */
  recoverDatabases?(generation: number): Promise<void>;
  /** The failover seam: a takeover run may start. */
  recoveryFinished?(generation: number): void;
  /** An event asked for with `request` finished. */
  eventFinished?(ref: number, event: string, result: number): void;
  exit(code: number, reason: string | undefined): void;
}

export class LifecycleShell {
  readonly state: LifecycleState;
  private timer: NodeJS.Timeout | undefined;
  private queue: InputWithoutTime[] = [];
  private busy = false;

  constructor(
    config: LifecycleConfig,
    private readonly handlers: LifecycleHandlers,
  ) {
    this.state = initialLifecycle(config, performance.now());
  }

  /** Inputs that arrive while effects run wait their turn. */
  feed(input: InputWithoutTime): void {
    this.queue.push(input);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const { effects } = stepLifecycle(this.state, { ...next, nowMs: performance.now() } as LifecycleInput);
        for (const effect of effects) this.execute(effect);
      }
    } finally {
      this.busy = false;
    }
  }

  private execute(effect: LifecycleEffect): void {
    const h = this.handlers;
    switch (effect.kind) {
      case "run-event":
        h.runEvent(effect.event, effect.args, effect.timeoutSec).then(
          (result) => this.feed({ kind: "event-done", id: effect.id, result }),
          (err: Error) => {
            h.log("error", `Could not run the ${effect.event} event: ${err.message}`);
            this.feed({ kind: "event-done", id: effect.id, result: -1 });
          },
        );
        return;
      case "set-runstate":
        h.setRunstate(effect.runstate);
        return;
      case "join-cluster":
        h.joinCluster().then(
          () => this.feed({ kind: "joined" }),
          (err: Error) => this.feed({ kind: "shutdown", code: 1, reason: err.message }),
        );
        return;
      case "set-health":
        h.setHealth(effect.healthy);
        return;
      case "notify":
        h.notify(effect.event);
        return;
      case "recover-databases": {
        const recover = h.recoverDatabases;
        if (recover === undefined) {
          this.feed({ kind: "databases-recovered", generation: effect.generation });
          return;
        }
        recover(effect.generation).then(
          () => this.feed({ kind: "databases-recovered", generation: effect.generation }),
          (err: Error) => {
            h.log("error", `Database recovery failed: ${err.message}`);
            this.feed({ kind: "shutdown", code: 1 });
          },
        );
        return;
      }
      case "recovery-finished":
        h.recoveryFinished?.(effect.generation);
        return;
      case "event-finished":
        h.eventFinished?.(effect.ref, effect.event, effect.result);
        return;
      case "wake-at": {
        clearTimeout(this.timer);
        const delay = Math.max(0, effect.atMs - performance.now());
        this.timer = setTimeout(() => this.feed({ kind: "tick" }), delay);
        this.timer.unref();
        return;
      }
      case "log":
        h.log(effect.level, effect.message);
        return;
      case "exit":
        clearTimeout(this.timer);
        h.exit(effect.code, effect.reason);
        return;
    }
  }
}
