// The simulated cluster lock: one holder at a time, answered asynchronously
// like the real lock (an fcntl lock or a mutex helper).
//
// - `take` answers held/contended after a random delay, sometimes slow, and
//   under fault sometimes error/timeout instead (taking nothing).
// - `release` frees the lock and silently cancels a take in flight.
// - A holder whose process dies loses the lock a little later, as the kernel
//   drops an fcntl lock when the process goes.
// - Fault "lost" (the lock file replaced or removed): the holder is told `lost`
//   after a delay, like the real lock noticing at its next recheck. Until the
//   holder has actually processed that notice it still believes it holds the
//   lock, so the service keeps it recorded as holder, flagged `lostPending`:
//   that window is the only time a node may act as leader on a lock that is
//   going away, and nobody else can hold the lock during it.

import type { LockOutcome } from "../cluster/types.ts";
import type { Prng } from "./prng.ts";
import type { Scheduler } from "./scheduler.ts";

/** A node process: its PNN and which life (restart count) it is in. */
export interface Proc {
  pnn: number;
  life: number;
}

export interface LockHolder extends Proc {
  /** Distinguishes successive holdings, so a stale `lost` notice is dropped. */
  holding: number;
  lostPending: boolean;
}

export interface LockFaults {
  /** Chance that a take is slow (seconds rather than milliseconds). */
  slow: number;
  /** Chance that a take answers error or timeout. */
  error: number;
}

export interface LockHooks {
  /** Hand an outcome to the node; the node calls `noticed` once it has processed a `lost`. */
  answer(proc: Proc, outcome: LockOutcome, holding: number): void;
  trace(line: string): void;
}

export class LockService {
  holder: LockHolder | undefined;
  faults: LockFaults = { slow: 0, error: 0 };
  private readonly pending = new Map<number, number>();
  private nextToken = 1;
  private nextHolding = 1;
  takes = 0;
  lostNotices = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Prng,
    private readonly hooks: LockHooks,
    private readonly slowMs: [number, number] = [1000, 8000],
  ) {}

  /** Whether `proc` is recorded as the holder. */
  holds(proc: Proc): boolean {
    const h = this.holder;
    return h !== undefined && h.pnn === proc.pnn && h.life === proc.life;
  }

  take(proc: Proc): void {
    this.takes++;
    const token = this.nextToken++;
    this.pending.set(proc.pnn, token);
    const slow = this.rng.chance(this.faults.slow);
    const delay = slow ? this.rng.range(this.slowMs[0], this.slowMs[1]) : this.rng.range(1, 30);
    const failure: LockOutcome | undefined = this.rng.chance(this.faults.error)
      ? this.rng.pick(["error", "timeout"] as const)
      : undefined;
    this.sched.after(delay, () => {
      if (this.pending.get(proc.pnn) !== token) return;
      this.pending.delete(proc.pnn);
      if (failure !== undefined) {
        this.hooks.answer(proc, failure, 0);
        return;
      }
      const h = this.holder;
      if (h === undefined) {
        this.holder = { ...proc, holding: this.nextHolding++, lostPending: false };
        this.hooks.trace(`lock granted to ${proc.pnn}`);
        this.hooks.answer(proc, "held", this.holder.holding);
      } else if (h.pnn === proc.pnn && h.life === proc.life) {
        this.hooks.answer(proc, "held", h.holding);
      } else {
        this.hooks.answer(proc, "contended", 0);
      }
    });
  }

  release(proc: Proc): void {
    this.pending.delete(proc.pnn);
    if (this.holds(proc)) {
      this.hooks.trace(`lock released by ${proc.pnn}`);
      this.holder = undefined;
    }
  }

  /**
   * The process died: in-flight takes die with it and the lock frees after
   * `freeMs` (a killed process at once; a crashed host only when the shared
   * file system declares it gone).
   */
  died(proc: Proc, freeMs: [number, number] = [0, 100]): void {
    this.pending.delete(proc.pnn);
    const h = this.holder;
    if (h === undefined || h.pnn !== proc.pnn || h.life !== proc.life) return;
    this.sched.after(this.rng.range(freeMs[0], freeMs[1]), () => {
      if (this.holder === h) {
        this.hooks.trace(`lock freed: holder ${proc.pnn} died`);
        this.holder = undefined;
      }
    });
  }

  /** Fault: the lock goes away under its holder, who notices at its next recheck. */
  lose(recheckMs: number): void {
    const h = this.holder;
    if (h === undefined || h.lostPending) return;
    h.lostPending = true;
    this.hooks.trace(`lock lost under ${h.pnn}, noticed within ${recheckMs} ms`);
    this.sched.after(this.rng.range(1, recheckMs), () => {
      if (this.holder !== h) return;
      this.lostNotices++;
      this.hooks.answer(h, "lost", h.holding);
    });
  }

  /** The holder has processed its `lost` notice: only now may someone else take the lock. */
  noticed(proc: Proc, holding: number): void {
    const h = this.holder;
    if (h !== undefined && h.pnn === proc.pnn && h.life === proc.life && h.holding === holding) {
      this.hooks.trace(`lock free: ${proc.pnn} noticed the loss`);
      this.holder = undefined;
    }
  }
}
