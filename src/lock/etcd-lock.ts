// ClusterLock in etcd (v3 API, through the etcd3 client library): the lock is a
// key created only if absent, attached to a lease that this node keeps alive.
//
// - take: grant a lease (kept across contended attempts, so a contender costs
//   one transaction per try), then one transaction: if the key does not
//   exist, put it with our lease; else read it. The key existing with our
//   own lease (an earlier attempt whose answer was lost) also counts as held.
// - hold: the library sends keep-alives every TTL/3. lease.ts says how long
//   the lease is certainly alive; if no answer extends that, we report "lost"
//   shortly before it could expire on the server, so the leader steps down
//   before anyone else can take the key. (The library's own "lost" comes only
//   after twice the TTL, too late for a lock.)
// - release: revoke the lease, which deletes the key at once. A killed daemon
//   cannot revoke: its key goes when the lease's TTL runs out.
//
// The library (gRPC, protobuf) costs ~30 MB and ~0.2 s to load, so it is
// imported only when an etcd lock is configured, on the first take.

import type { Etcd3, Lease } from "etcd3";
import type { ClusterLock, LockEvent, LockLog } from "./cluster-lock.ts";
import { type LeaseClock, keepaliveAnswered, keepaliveSent, keepaliveStreamLost, leaseGranted, stepDownAtMs } from "./lease.ts";
import { answeredWithoutTaking, type LockPhase } from "./take-guard.ts";

export interface EtcdLockSetting {
  /** host:port of each member's client URL. */
  endpoints: string[];
  key: string;
  ttlSec: number;
}

export interface EtcdLockOptions {
  log: LockLog;
  /** Stored as the key's value, so `etcdctl get KEY` shows who holds it. */
  holder: string;
  /** Deadline of each request (not of the keep-alive stream). Default: half the TTL, at least 1 s. */
  requestTimeoutMs?: number;
}

interface Held {
  lease: Lease;
  id: string;
  clock: LeaseClock | null; // null until the grant is answered
}

export class EtcdLock implements ClusterLock {
  onEvent: (e: LockEvent) => void = () => {};
  readonly description: string;
  private phase: LockPhase = "idle";
  private closed = false;
  private attempt = 0;
  private client: Etcd3 | null = null;
  private lease: Held | null = null;
  private stepDownTimer: NodeJS.Timeout | null = null;
  private readonly requestTimeoutMs: number;
  // While etcd stays unreachable the cluster core retries every few hundred
  // ms; the same failure is logged as an error once, then at debug level.
  private lastError: string | null = null;

  constructor(
    readonly setting: EtcdLockSetting,
    private readonly opts: EtcdLockOptions,
  ) {
    this.description = `etcd lock ${setting.key} at ${setting.endpoints.join(",")}`;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? Math.max(1000, (setting.ttlSec * 1000) / 2);
  }

  take(): void {
    const { closed, phase, description } = this;
    if (answeredWithoutTaking({ closed, phase, description }, (e) => this.emitLater(e), this.opts.log)) return;
    this.phase = "taking";
    const attempt = ++this.attempt;
    this.tryTake(attempt).then(
      (e) => this.finishTake(attempt, e),
      (err: unknown) => this.finishTake(attempt, { kind: "error", reason: this.explain(err) }),
    );
  }

  release(): void {
    this.attempt++;
    const wasHeld = this.phase === "held";
    this.phase = "idle";
    this.clearStepDown();
    const held = this.lease;
    this.lease = null;
    if (held !== null) {
      // Revoking deletes the key at once; if etcd cannot be reached the key
      // goes with the lease's TTL anyway.
      held.lease.revoke().catch((err: unknown) => this.opts.log("warning", `${this.description}: revoking the lease failed: ${this.explain(err)}`));
      if (wasHeld) this.opts.log("info", `${this.description}: released`);
    }
  }

  close(): void {
    this.release();
    this.closed = true;
    const client = this.client;
    this.client = null;
    // Let the revoke above go out before the channels close.
    if (client !== null) setTimeout(() => client.close(), 200).unref();
  }

  private async connect(): Promise<Etcd3> {
    if (this.client !== null) return this.client;
    const { Etcd3 } = await import("etcd3");
    const timeout = this.requestTimeoutMs;
    this.client ??= new Etcd3({
      hosts: this.setting.endpoints,
      dialTimeout: timeout,
      // Each request has a deadline, so an etcd without quorum answers
      // "error" rather than leaving a take hanging; streams have none.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
    return this.client;
  }

  private async tryTake(attempt: number): Promise<LockEvent> {
    const client = await this.connect();
    const held = await this.ensureLease(client);
    if (attempt !== this.attempt) return { kind: "contended" };
    const { key } = this.setting;
    const result = await client
      .if(key, "Create", "==", 0)
      .then(client.put(key).value(this.opts.holder).lease(held.id))
      .else(client.get(key))
      .commit();
    if (result.succeeded) return { kind: "held" };
    const kv = result.responses[0]?.response_range?.kvs[0];
    if (kv !== undefined && kv.lease === held.id) return { kind: "held" };
    this.opts.log("info", `${this.description}: held by ${kv === undefined ? "another node" : kv.value.toString()}`);
    return { kind: "contended" };
  }

  /** The lease of the current attempt: the one kept from before, or a new grant. */
  private async ensureLease(client: Etcd3): Promise<Held> {
    if (this.lease !== null) return this.lease;
    const requestedAt = Date.now();
    const lease = client.lease(this.setting.ttlSec);
    const held: Held = { lease, id: "", clock: null };
    lease.on("lost", (err) => this.leaseEnded(held, `etcd says the lease is gone (${err.message})`));
    lease.on("keepaliveFired", () => {
      if (held.clock !== null) held.clock = keepaliveSent(held.clock, Date.now());
    });
    lease.on("keepaliveFailed", () => {
      if (held.clock !== null) held.clock = keepaliveStreamLost(held.clock);
    });
    lease.on("keepaliveSucceeded", (res) => {
      if (held.clock === null) return;
      const next = keepaliveAnswered(held.clock, Number(res.TTL));
      if (next === null) return this.leaseEnded(held, "etcd answered a keep-alive with TTL 0");
      held.clock = next;
      if (this.lease === held && this.phase === "held") this.scheduleStepDown(held);
    });
    this.lease = held;
    try {
      held.id = await lease.grant();
    } catch (err) {
      if (this.lease === held) this.lease = null;
      lease.release();
      throw err;
    }
    held.clock = leaseGranted(requestedAt, this.setting.ttlSec);
    return held;
  }

  private finishTake(attempt: number, e: LockEvent): void {
    if (attempt !== this.attempt) return;
    if (e.kind !== "error") this.lastError = null;
    if (e.kind === "held") {
      const held = this.lease;
      if (held === null) return this.finishTake(attempt, { kind: "error", reason: "the lease ended while taking the lock" });
      this.phase = "held";
      this.opts.log("notice", `${this.description}: taken`);
      this.scheduleStepDown(held);
    } else {
      this.phase = "idle";
      if (e.kind === "error") {
        this.opts.log(e.reason === this.lastError ? "debug" : "error", `${this.description}: ${e.reason}`);
        this.lastError = e.reason;
      }
    }
    this.onEvent(e);
  }

  private scheduleStepDown(held: Held): void {
    this.clearStepDown();
    if (held.clock === null) return;
    const delay = Math.max(0, stepDownAtMs(held.clock) - Date.now());
    this.stepDownTimer = setTimeout(() => {
      this.stepDownTimer = null;
      const seconds = held.clock === null ? this.setting.ttlSec : Math.round((Date.now() - (held.clock.aliveUntilMs - held.clock.ttlMs)) / 100) / 10;
      this.leaseEnded(held, `no keep-alive answered by etcd for ${seconds} s; the ${this.setting.ttlSec} s lease may expire`);
    }, delay);
  }

  private clearStepDown(): void {
    if (this.stepDownTimer !== null) clearTimeout(this.stepDownTimer);
    this.stepDownTimer = null;
  }

  /** The lease can no longer be trusted: forget it, and if it held the lock, report the loss. */
  private leaseEnded(held: Held, reason: string): void {
    if (this.lease !== held) return;
    const wasHeld = this.phase === "held";
    this.lease = null;
    this.clearStepDown();
    held.lease.release();
    held.lease.revoke().catch(() => {});
    if (!wasHeld) {
      this.opts.log("info", `${this.description}: idle lease dropped: ${reason}`);
      return;
    }
    this.phase = "idle";
    this.attempt++;
    this.opts.log("error", `${this.description}: cluster lock lost - ${reason}`);
    this.onEvent({ kind: "lost", reason });
  }

  private explain(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    return `etcd at ${this.setting.endpoints.join(",")} did not answer: ${message}`;
  }

  private emitLater(e: LockEvent): void {
    const attempt = this.attempt;
    queueMicrotask(() => {
      if (e.kind === "held" && (attempt !== this.attempt || this.phase !== "held")) return;
      this.onEvent(e);
    });
  }
}
