/**
 * `statistics` / `stats`: CTDB's statistics record as it travels on the
 * wire (decoded here, since only the tool needs it) and ctdb's two ways of
 * printing it. Pure.
 */
import { ctime as cCtime, cInt, toCInt } from "./common.ts";

export interface Latency {
  num: number;
  min: number;
  max: number;
  total: number;
}

export interface Statistics {
  /** Counters by ctdb's field name, in ctdb's print order. */
  counters: Map<string, number>;
  reclockCtdbd: Latency;
  reclockRecd: Latency;
  locksLatency: Latency;
  lockBuckets: number[];
  hopCountBuckets: number[];
  callLatency: Latency;
  childwriteLatency: Latency;
  startTime: number;
  currentTime: number;
}

/** The counters ctdb prints, in its order. */
export const STATS_FIELDS = [
  "num_clients",
  "frozen",
  "recovering",
  "num_recoveries",
  "client_packets_sent",
  "client_packets_recv",
  "node_packets_sent",
  "node_packets_recv",
  "keepalive_packets_sent",
  "keepalive_packets_recv",
  "node.req_call",
  "node.reply_call",
  "node.req_dmaster",
  "node.reply_dmaster",
  "node.reply_error",
  "node.req_message",
  "node.req_control",
  "node.reply_control",
  "node.req_tunnel",
  "client.req_call",
  "client.req_message",
  "client.req_control",
  "client.req_tunnel",
  "timeouts.call",
  "timeouts.control",
  "timeouts.traverse",
  "locks.num_calls",
  "locks.num_current",
  "locks.num_pending",
  "locks.num_failed",
  "total_calls",
  "pending_calls",
  "childwrite_calls",
  "pending_childwrite_calls",
  "memory_used",
  "max_hop_count",
  "total_ro_delegations",
  "total_ro_revokes",
] as const;

// The record starts with the counters in display order, up to the timeouts,
// except num_recoveries, which it carries near its end.
const LEADING_WIRE_COUNTERS = STATS_FIELDS.slice(0, STATS_FIELDS.indexOf("timeouts.traverse") + 1).filter(
  (name) => name !== "num_recoveries",
);

const BUCKETS = 16;
export const STATISTICS_SIZE = 488;

/** Decode one wire record at offset; throws RangeError when the buffer is short. */
export function decodeStatistics(buf: Buffer, offset = 0): Statistics {
  if (buf.length - offset < STATISTICS_SIZE) throw new RangeError(`statistics record needs ${STATISTICS_SIZE} bytes`);
  let o = offset;
  const counters = new Map<string, number>();
  const u32 = () => {
    const v = buf.readUInt32LE(o);
    o += 4;
    return v;
  };
  const lat = (): Latency => {
    const num = buf.readInt32LE(o);
    const l = { num, min: buf.readDoubleLE(o + 8), max: buf.readDoubleLE(o + 16), total: buf.readDoubleLE(o + 24) };
    o += 32;
    return l;
  };
  for (const name of LEADING_WIRE_COUNTERS) {
    counters.set(name, u32());
  }
  o += 4;
  const reclockCtdbd = lat();
  const reclockRecd = lat();
  for (const name of ["locks.num_calls", "locks.num_current", "locks.num_pending", "locks.num_failed"]) counters.set(name, u32());
  const locksLatency = lat();
  const lockBuckets = Array.from({ length: BUCKETS }, u32);
  for (const name of ["total_calls", "pending_calls", "childwrite_calls", "pending_childwrite_calls", "memory_used", "__last_counter", "max_hop_count"]) {
    counters.set(name, u32());
  }
  const hopCountBuckets = Array.from({ length: BUCKETS }, u32);
  o += 4;
  const callLatency = lat();
  const childwriteLatency = lat();
  counters.set("num_recoveries", u32());
  o += 4;
  const startTime = Number(buf.readBigInt64LE(o));
  const currentTime = Number(buf.readBigInt64LE(o + 16));
  o += 32;
  counters.set("total_ro_delegations", u32());
  counters.set("total_ro_revokes", u32());
  return { counters, reclockCtdbd, reclockRecd, locksLatency, lockBuckets, hopCountBuckets, callLatency, childwriteLatency, startTime, currentTime };
}

/** The wire record decodeStatistics reads, for the daemon's STATISTICS answer (same layout, same order). */
export function encodeStatistics(s: Statistics): Buffer {
  const buf = Buffer.alloc(STATISTICS_SIZE);
  let o = 0;
  const u32 = (v: number) => {
    buf.writeUInt32LE(v >>> 0, o);
    o += 4;
  };
  const lat = (l: Latency) => {
    buf.writeInt32LE(l.num | 0, o);
    buf.writeDoubleLE(l.min, o + 8);
    buf.writeDoubleLE(l.max, o + 16);
    buf.writeDoubleLE(l.total, o + 24);
    o += 32;
  };
  const c = (name: string) => s.counters.get(name) ?? 0;
  for (const name of LEADING_WIRE_COUNTERS) u32(c(name));
  o += 4;
  lat(s.reclockCtdbd);
  lat(s.reclockRecd);
  for (const name of ["locks.num_calls", "locks.num_current", "locks.num_pending", "locks.num_failed"]) u32(c(name));
  lat(s.locksLatency);
  for (let i = 0; i < BUCKETS; i++) u32(s.lockBuckets[i] ?? 0);
  for (const name of ["total_calls", "pending_calls", "childwrite_calls", "pending_childwrite_calls", "memory_used", "__last_counter", "max_hop_count"]) {
    u32(c(name));
  }
  for (let i = 0; i < BUCKETS; i++) u32(s.hopCountBuckets[i] ?? 0);
  o += 4;
  lat(s.callLatency);
  lat(s.childwriteLatency);
  u32(c("num_recoveries"));
  o += 4;
  buf.writeBigInt64LE(BigInt(Math.trunc(s.startTime)), o);
  buf.writeBigInt64LE(BigInt(Math.trunc(s.currentTime)), o + 16);
  o += 32;
  u32(c("total_ro_delegations"));
  u32(c("total_ro_revokes"));
  return buf;
}

/** GET_STAT_HISTORY reply: i32 count, 4 bytes padding, then the records. */
export function decodeStatisticsList(buf: Buffer): Statistics[] {
  if (buf.length < 8) throw new RangeError("statistics list too short");
  const num = buf.readInt32LE(0);
  const out: Statistics[] = [];
  for (let i = 0; i < num; i++) out.push(decodeStatistics(buf, 8 + i * STATISTICS_SIZE));
  return out;
}

const avg = (l: Latency) => (l.num !== 0 ? l.total / l.num : 0);
const f6 = (x: number) => x.toFixed(6);
const u32 = (x: number) => String(x >>> 0);

export function formatStatistics(s: Statistics, ctimeFn: (sec: number) => string = cCtime): string {
  let tmp = toCInt(s.currentTime - s.startTime);
  const seconds = tmp % 60;
  tmp = Math.trunc(tmp / 60);
  const minutes = tmp % 60;
  tmp = Math.trunc(tmp / 60);
  const hours = tmp % 24;
  const days = Math.trunc(tmp / 24);
  let out = "CTDB version 1\n";
  out += `Current time of statistics  :                ${ctimeFn(s.currentTime)}`;
  out += `Statistics collected since  : (${cInt(days, 3, true)} ${cInt(hours, 2, true)}:${cInt(minutes, 2, true)}:${cInt(seconds, 2, true)}) ${ctimeFn(s.startTime)}`;
  let prefix: string | null = null;
  for (const name of STATS_FIELDS) {
    const dot = name.indexOf(".");
    const preflen = dot === -1 ? 0 : dot + 1;
    if (preflen !== 0 && (prefix === null || !prefix.startsWith(name.slice(0, preflen)))) {
      prefix = name;
      out += ` ${name.slice(0, preflen - 1)}\n`;
    }
    const value = u32(s.counters.get(name) ?? 0).padStart(10);
    out += ` ${preflen !== 0 ? "    " : ""}${name.slice(preflen).padEnd(22)}${preflen !== 0 ? "" : "    "}${value}\n`;
  }
  out += ` hop_count_buckets:${s.hopCountBuckets.map((b) => ` ${b | 0}`).join("")}\n`;
  out += ` lock_buckets:${s.lockBuckets.map((b) => ` ${b | 0}`).join("")}\n`;
  const line = (label: string, l: Latency) => ` ${label.padEnd(30)}     ${f6(l.min)}/${f6(avg(l))}/${f6(l.max)} sec out of ${l.num}\n`;
  out += line("locks_latency      MIN/AVG/MAX", s.locksLatency);
  out += line("reclock_ctdbd      MIN/AVG/MAX", s.reclockCtdbd);
  out += line("reclock_recd       MIN/AVG/MAX", s.reclockRecd);
  out += line("call_latency       MIN/AVG/MAX", s.callLatency);
  out += line("childwrite_latency MIN/AVG/MAX", s.childwriteLatency);
  return out;
}

const LATENCY_NAMES = ["reclock_ctdbd", "reclock_recd", "call", "lockwait", "childwrite"];

export function formatStatisticsMachine(s: Statistics, sep: string, header: boolean): string {
  let out = "";
  if (header) {
    out += `CTDB version${sep}Current time of statistics${sep}Statistics collected since${sep}`;
    for (const name of STATS_FIELDS) out += name + sep;
    for (const n of LATENCY_NAMES) out += `num_${n}_latency${sep}min_${n}_latency${sep}avg_${n}_latency${sep}max_${n}_latency${sep}`;
    out += "\n";
  }
  out += `1${sep}${u32(s.currentTime)}${sep}${u32(s.startTime)}${sep}`;
  for (const name of STATS_FIELDS) out += u32(s.counters.get(name) ?? 0) + sep;
  const lat = (l: Latency, signed: boolean) => `${signed ? String(l.num) : u32(l.num)}${sep}${f6(l.min)}${sep}${f6(avg(l))}${sep}${f6(l.max)}${sep}`;
  out += lat(s.reclockCtdbd, false) + lat(s.reclockRecd, false) + lat(s.callLatency, true) + lat(s.locksLatency, false) + lat(s.childwriteLatency, true);
  return out + "\n";
}

export function statisticsJson(s: Statistics): object {
  const counters: Record<string, number> = {};
  for (const name of STATS_FIELDS) counters[name] = s.counters.get(name) ?? 0;
  const l = (x: Latency) => ({ num: x.num, min: x.min, avg: avg(x), max: x.max });
  return {
    currentTime: s.currentTime,
    startTime: s.startTime,
    counters,
    hopCountBuckets: s.hopCountBuckets,
    lockBuckets: s.lockBuckets,
    latency: {
      locks: l(s.locksLatency),
      reclockCtdbd: l(s.reclockCtdbd),
      reclockRecd: l(s.reclockRecd),
      call: l(s.callLatency),
      childwrite: l(s.childwriteLatency),
    },
  };
}
