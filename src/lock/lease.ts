// How long an etcd lease is certainly still ours. Pure, so it is table-tested.
//
// etcd expires a lease TTL after the last keep-alive it processed. We cannot
// know when the server processed one, only when we sent it, and the server
// processed it no earlier than that. So after each answered keep-alive the
// lease lives at least until (time that keep-alive was sent) + TTL, and a
// holder must stop acting as leader before then, by a margin that covers
// clock rate differences and the time the step-down itself takes.

export interface LeaseClock {
  ttlMs: number;
  marginMs: number;
  /** Send times of keep-alives not answered yet, oldest first (one stream answers in order). */
  unanswered: number[];
  /** The lease is certainly alive on the server until this time. */
  aliveUntilMs: number;
}

/** The margin before expiry at which a holder steps down: a fifth of the TTL, between 250 ms and 2 s. */
export function stepDownMargin(ttlMs: number): number {
  return Math.min(2000, Math.max(250, Math.floor(ttlMs / 5)));
}

/** A grant that was requested at `requestedAtMs` and answered with `grantedTtlSec`. */
export function leaseGranted(requestedAtMs: number, grantedTtlSec: number): LeaseClock {
  const ttlMs = grantedTtlSec * 1000;
  return { ttlMs, marginMs: stepDownMargin(ttlMs), unanswered: [], aliveUntilMs: requestedAtMs + ttlMs };
}

export function keepaliveSent(clock: LeaseClock, atMs: number): LeaseClock {
  return { ...clock, unanswered: [...clock.unanswered, atMs] };
}

/**
 * The server answered the oldest unanswered keep-alive with `ttlSec` left.
 * A TTL of 0 (or less) means the lease is gone: the result is null.
 */
export function keepaliveAnswered(clock: LeaseClock, ttlSec: number): LeaseClock | null {
  if (!(ttlSec > 0)) return null;
  const [sentAt, ...rest] = clock.unanswered;
  // An answer with nothing outstanding (cannot happen on one stream) proves nothing new.
  if (sentAt === undefined) return clock;
  const until = sentAt + ttlSec * 1000;
  return { ...clock, unanswered: rest, aliveUntilMs: Math.max(clock.aliveUntilMs, until) };
}

/** The keep-alive stream broke: what it had in flight will never be answered. */
export function keepaliveStreamLost(clock: LeaseClock): LeaseClock {
  return { ...clock, unanswered: [] };
}

/** When a holder must have stepped down if no further answer comes. */
export function stepDownAtMs(clock: LeaseClock): number {
  return clock.aliveUntilMs - clock.marginMs;
}
