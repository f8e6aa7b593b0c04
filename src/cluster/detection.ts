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
