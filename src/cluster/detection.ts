// How fast a silent peer is declared gone. CTDB declares a node DISCONNECTED
// after KeepaliveInterval × KeepaliveLimit seconds of silence (5 × 5 = 25 s by
// default), which leaves a hung (SIGSTOPped) or cut-off node's addresses dead
// for half a minute. Tandem's default is `[cluster] peer timeout ms` in
// tandem.conf (1.5 s), with a keepalive sent every fifth of it, so a hung node
// is gone within about 2 s. Whoever sets CTDB's keepalive tunables explicitly
// (in ctdb.tunables, or later with setvar) gets CTDB's behaviour exactly.

export interface KeepaliveSettings {
  keepaliveIntervalMs: number;
  keepaliveLimit: number;
  /** Which setting is in force, for the log. */
  source: "tandem.conf" | "tunables";
}

/** Keepalives per peer timeout with Tandem's setting: CTDB's default ratio. */
const KEEPALIVES_PER_TIMEOUT = 5;

export function keepaliveSettings(opts: {
  peerTimeoutMs: number;
  tunables: Readonly<Record<string, number>>;
  /** Tunables the administrator set explicitly. */
  explicit: ReadonlySet<string>;
}): KeepaliveSettings {
  const { tunables, explicit } = opts;
  if (explicit.has("KeepaliveInterval") || explicit.has("KeepaliveLimit")) {
    return {
      keepaliveIntervalMs: (tunables["KeepaliveInterval"] ?? 5) * 1000,
      keepaliveLimit: tunables["KeepaliveLimit"] ?? 5,
      source: "tunables",
    };
  }
  return {
    keepaliveIntervalMs: Math.max(1, Math.round(opts.peerTimeoutMs / KEEPALIVES_PER_TIMEOUT)),
    keepaliveLimit: KEEPALIVES_PER_TIMEOUT,
    source: "tandem.conf",
  };
}

export interface FailoverGraces {
  /** A node that follows no leader this long drops its addresses (its part may be cut off). */
  leaderlessGraceMs: number;
  /** After last hearing a node, how long it may still host addresses: no one else takes them before. */
  holderGraceMs: number;
  /**
   * The same for a node whose connection closed. It saw the close too, so it
   * needs no silence limit: it is dead (its watchdog removes its addresses) or
   * it drops them after its leaderless grace.
   */
  closedGraceMs: number;
  /**
   * The address watchdog's lease, renewed every few hundred milliseconds by
   * a running daemon: a stopped one loses its addresses this long after its
   * last renewal, well before the others take them (holderGraceMs after it
   * was last heard).
   */
  watchdogLeaseMs: number;
}

/** Timer lateness and delivery the lease allows for. */
const LEASE_SLACK_MS = 200;

/**
 * The lease that keeps an address off two nodes across a cut, from the
 * keepalives in force. A cut-off node learns it at its own silence limit,
 * which can come up to one keepalive interval after the rest of the cluster
 * learnt it; then it drops its addresses at once if its part lost the
 * majority (the cluster core's `lost-majority`), or after `leaderlessGraceMs`
 * without a leader otherwise. The others hand its addresses out only once
 * all of that has passed since they last heard it. At Tandem's defaults:
 * 1.5 s silence + 0.3 s + 0.6 s + 0.2 s = 2.6 s after the node was last
 * heard, so its addresses answer elsewhere within 3 s.
 */
export function failoverGraces(k: Pick<KeepaliveSettings, "keepaliveIntervalMs" | "keepaliveLimit">): FailoverGraces {
  const silence = k.keepaliveIntervalMs * k.keepaliveLimit;
  const leaderlessGraceMs = 2 * k.keepaliveIntervalMs;
  return {
    leaderlessGraceMs,
    holderGraceMs: silence + k.keepaliveIntervalMs + leaderlessGraceMs + LEASE_SLACK_MS,
    closedGraceMs: leaderlessGraceMs + LEASE_SLACK_MS,
    watchdogLeaseMs: silence,
  };
}
