// Killing TCP connections from outside them, as CTDB's ctdb_killtcp does:
// for a connection (src, dst) send dst a tickle ACK as if from src; dst
// answers with an ACK carrying its real sequence numbers, seen on a capture
// of the interface; answer that with a RST whose sequence number is the
// acknowledgement dst just sent, so dst accepts it and drops the connection.
// Tickles are repeated every retry interval until every connection is reset
// or the attempts run out.
//
// The decisions are a small pure core (killtcpStart / killtcpTick /
// killtcpSeen); killTcp is the shell that runs it on real sockets.

import { type Endpoint, parseTcpFrame, TICKLE_WINDOW, type TcpPacket, tcpSegment } from "./packets.ts";
import { Capture, sendIpPackets } from "./socket.ts";

export interface Connection {
  src: Endpoint;
  dst: Endpoint;
}

/** One segment to send: to `dst` as if from `src`. */
export interface Segment {
  dst: Endpoint;
  src: Endpoint;
  seq: number;
  ack: number;
  rst: boolean;
}

export interface KilltcpState {
  /** Connections not reset yet, by the key of the reply expected from dst. */
  pending: Map<string, Connection>;
  attempts: number;
  maxAttempts: number;
}

export const KILLTCP_MAX_ATTEMPTS = 50;
export const KILLTCP_RETRY_MS = 100;

const key = (from: Endpoint, to: Endpoint) => `${from.address}|${from.port}|${to.address}|${to.port}`;

export function killtcpStart(conns: readonly Connection[], maxAttempts = KILLTCP_MAX_ATTEMPTS): KilltcpState {
  const pending = new Map<string, Connection>();
  for (const c of conns) {
    if (c.src.address.includes(":") !== c.dst.address.includes(":")) throw new Error(`different address families: ${c.src.address} and ${c.dst.address}`);
    pending.set(key(c.dst, c.src), c);
  }
  return { pending, attempts: 0, maxAttempts };
}

/** The retry timer fired: the tickles to send now, or done (nothing left, or out of attempts). */
export function killtcpTick(state: KilltcpState): { send: Segment[]; done: boolean } {
  if (state.pending.size === 0 || state.attempts >= state.maxAttempts) return { send: [], done: true };
  state.attempts++;
  const send = [...state.pending.values()].map((c) => ({ dst: c.dst, src: c.src, seq: 0, ack: 0, rst: false }));
  return { send, done: false };
}

/** A TCP segment was seen: the RST to send when it is a tickled peer's answer. */
export function killtcpSeen(state: KilltcpState, p: TcpPacket): Segment | undefined {
  // Our own tickles and resets carry our window; a peer's answer does not look like them.
  if (p.window === TICKLE_WINDOW && (p.rst || p.seq === 0)) return undefined;
  if (p.rst || !p.ackFlag) return undefined;
  const k = key(p.src, p.dst);
  const c = state.pending.get(k);
  if (c === undefined) return undefined;
  state.pending.delete(k);
  return { dst: c.dst, src: c.src, seq: p.ack, ack: p.seq, rst: true };
}

export interface KilltcpResult {
  /** Connections never answered within the attempts. */
  remaining: Connection[];
}

function send(segments: readonly Segment[]): void {
  if (segments.length > 0) sendIpPackets(segments.map((s) => tcpSegment(s.dst, s.src, s.seq, s.ack, s.rst)));
}

/** Resets each connection's dst end, capturing answers on `iface`. */
export async function killTcp(
  iface: string,
  conns: readonly Connection[],
  opts: { maxAttempts?: number; retryMs?: number } = {},
): Promise<KilltcpResult> {
  const state = killtcpStart(conns, opts.maxAttempts);
  if (state.pending.size === 0) return { remaining: [] };
  const retryMs = opts.retryMs ?? KILLTCP_RETRY_MS;
  const capture = new Capture(iface);
  try {
    for (;;) {
      const tick = killtcpTick(state);
      if (tick.done) break;
      send(tick.send);
      const until = Date.now() + retryMs;
      while (state.pending.size > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 1));
        const resets: Segment[] = [];
        for (const frame of capture.drain()) {
          const p = parseTcpFrame(frame);
          const rst = p === undefined ? undefined : killtcpSeen(state, p);
          if (rst !== undefined) resets.push(rst);
        }
        send(resets);
      }
    }
  } finally {
    capture.close();
  }
  return { remaining: [...state.pending.values()] };
}

/** A tickle ACK to `dst` as if from `src` (seq 0, ack 0): dst answers with its real numbers. */
export function sendTickle(dst: Endpoint, src: Endpoint): void {
  send([{ dst, src, seq: 0, ack: 0, rst: false }]);
}
