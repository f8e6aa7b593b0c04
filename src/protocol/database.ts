// Wire formats of CTDB's database payloads (protocol_types.c, LP64): records
// (ctdb_rec_data), traverse requests, per-database statistics.
import { Reader, Writer } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { decodeLtdbHeader, encodeLtdbHeader, LTDB_HEADER_SIZE, type LtdbHeader } from "./types.ts";

/** ctdb_rec_data: u32 length (of the whole), u32 reqid, u32 keylen, u32 datalen, key, data. */
export interface RecData {
  reqid: number;
  key: Buffer;
  /** For database records this includes the 24-byte record header. */
  data: Buffer;
}
export const REC_DATA_HEADER_SIZE = 16;

export function encodeRecData(r: RecData): Buffer {
  const length = REC_DATA_HEADER_SIZE + r.key.length + r.data.length;
  return new Writer(length).u32(length).u32(r.reqid).u32(r.key.length).u32(r.data.length).bytes(r.key).bytes(r.data).finish();
}

/** One record at `reader`'s position; checks the lengths against each other and the bytes present. */
export function readRecData(r: Reader, field = "rec_data"): RecData {
  const start = r.offset;
  const length = r.u32(`${field}.length`);
  const reqid = r.u32(`${field}.reqid`);
  const keylen = r.u32(`${field}.keylen`);
  const datalen = r.u32(`${field}.datalen`);
  const key = r.bytes(keylen, `${field}.key`);
  const data = r.bytes(datalen, `${field}.data`);
  if (length < r.offset - start) {
    throw new ProtocolError(`${r.what}: ${field}.length ${length} is shorter than its ${r.offset - start} bytes of key and data`);
  }
  // A longer length (padding) is skipped.
  r.skip(Math.min(length - (r.offset - start), r.remaining), `${field} padding`);
  return { reqid, key, data };
}

export function decodeRecData(buf: Buffer): RecData {
  return readRecData(new Reader(buf, "rec_data"));
}

/** The end of a traverse: a record with neither key nor data. */
export function isTraverseEnd(r: RecData): boolean {
  return r.key.length === 0 && r.data.length === 0;
}

/** ctdb_key_data (SCHEDULE_FOR_DELETION): u32 db_id, 4 padding, the record header, then the key as u32 length and bytes. */
export interface KeyData {
  dbId: number;
  header: LtdbHeader;
  key: Buffer;
}

export function encodeKeyData(k: KeyData): Buffer {
  return new Writer(8 + LTDB_HEADER_SIZE + 4 + k.key.length)
    .u32(k.dbId)
    .zeros(4)
    .bytes(encodeLtdbHeader(k.header))
    .u32(k.key.length)
    .bytes(k.key)
    .finish();
}

export function decodeKeyData(buf: Buffer): KeyData {
  const r = new Reader(buf, "key_data");
  const dbId = r.u32("db_id");
  r.skip(4, "padding");
  const header = decodeLtdbHeader(r.bytes(LTDB_HEADER_SIZE, "header"));
  const key = r.bytes(r.u32("keylen"), "key");
  return { dbId, header, key };
}

/** ctdb_traverse_all(_ext): sent by the node a traverse started on to every node. */
export interface TraverseAll {
  dbId: number;
  reqid: number;
  pnn: number;
  clientReqid: number;
  srvid: bigint;
  withEmptyRecords: boolean;
}

export function encodeTraverseAllExt(t: TraverseAll): Buffer {
  return new Writer(32)
    .u32(t.dbId)
    .u32(t.reqid)
    .u32(t.pnn)
    .u32(t.clientReqid)
    .u64(t.srvid)
    .u8(t.withEmptyRecords ? 1 : 0)
    .zeros(7)
    .finish();
}

export function decodeTraverseAll(buf: Buffer, ext: boolean): TraverseAll {
  const r = new Reader(buf, ext ? "traverse_all_ext" : "traverse_all");
  const t = {
    dbId: r.u32("db_id"),
    reqid: r.u32("reqid"),
    pnn: r.u32("pnn"),
    clientReqid: r.u32("client_reqid"),
    srvid: r.u64("srvid"),
    withEmptyRecords: false,
  };
  if (ext) {
    t.withEmptyRecords = r.bool("withemptyrecords");
    r.skip(7, "padding");
  }
  return t;
}

export interface LatencyCounter {
  num: number;
  min: number;
  max: number;
  total: number;
}
const LATENCY_SIZE = 32;
function writeLatency(w: Writer, l: LatencyCounter): void {
  w.i32(l.num).zeros(4).f64(l.min).f64(l.max).f64(l.total);
}
function readLatency(r: Reader, field: string): LatencyCounter {
  const num = r.i32(`${field}.num`);
  r.skip(4, `${field} padding`);
  return { num, min: r.f64(`${field}.min`), max: r.f64(`${field}.max`), total: r.f64(`${field}.total`) };
}

export const COUNT_BUCKETS = 16;
export const MAX_HOT_KEYS = 10;

/** ctdb_db_statistics (GET_DB_STATISTICS). */
export interface DbStatisticsWire {
  locks: { numCalls: number; numCurrent: number; numPending: number; numFailed: number };
  locksLatency: LatencyCounter;
  lockBuckets: number[];
  vacuumLatency: LatencyCounter;
  roDelegations: number;
  roRevokes: number;
  hopCountBuckets: number[];
  hotKeys: { count: number; key: Buffer }[];
}

const ZERO_LATENCY: LatencyCounter = { num: 0, min: 0, max: 0, total: 0 };
export function emptyDbStatistics(): DbStatisticsWire {
  return {
    locks: { numCalls: 0, numCurrent: 0, numPending: 0, numFailed: 0 },
    locksLatency: { ...ZERO_LATENCY },
    lockBuckets: new Array<number>(COUNT_BUCKETS).fill(0),
    vacuumLatency: { ...ZERO_LATENCY },
    roDelegations: 0,
    roRevokes: 0,
    hopCountBuckets: new Array<number>(COUNT_BUCKETS).fill(0),
    hotKeys: [],
  };
}

// Each of the MAX_HOT_KEYS slots: u32 count, 4 padding, then a TDB_DATA as
// memory (pointer, size_t size), the keys' bytes following all slots.
const HOT_KEY_SLOT = 24;
const FIXED_SIZE = 16 + LATENCY_SIZE + COUNT_BUCKETS * 4 + LATENCY_SIZE + 8 + COUNT_BUCKETS * 4 + 8;

export function encodeDbStatistics(s: DbStatisticsWire): Buffer {
  const keys = s.hotKeys.slice(0, MAX_HOT_KEYS);
  const keyBytes = keys.reduce((n, k) => n + k.key.length, 0);
  const w = new Writer(FIXED_SIZE + MAX_HOT_KEYS * HOT_KEY_SLOT + keyBytes);
  w.u32(s.locks.numCalls).u32(s.locks.numCurrent).u32(s.locks.numPending).u32(s.locks.numFailed);
  writeLatency(w, s.locksLatency);
  for (let i = 0; i < COUNT_BUCKETS; i++) w.u32(s.lockBuckets[i] ?? 0);
  writeLatency(w, s.vacuumLatency);
  w.u32(s.roDelegations).u32(s.roRevokes);
  for (let i = 0; i < COUNT_BUCKETS; i++) w.u32(s.hopCountBuckets[i] ?? 0);
  // CTDB always sends every slot and says so in num_hot_keys; empty slots have size 0.
  w.u32(MAX_HOT_KEYS).zeros(4);
  for (let i = 0; i < MAX_HOT_KEYS; i++) {
    const k = keys[i];
    w.u32(k?.count ?? 0).zeros(4).u64(0n).u64(BigInt(k?.key.length ?? 0));
  }
  for (const k of keys) w.bytes(k.key);
  return w.finish();
}

export function decodeDbStatistics(buf: Buffer): DbStatisticsWire {
  const r = new Reader(buf, "db_statistics");
  const locks = { numCalls: r.u32("locks.num_calls"), numCurrent: r.u32("locks.num_current"), numPending: r.u32("locks.num_pending"), numFailed: r.u32("locks.num_failed") };
  const locksLatency = readLatency(r, "locks.latency");
  const lockBuckets = Array.from({ length: COUNT_BUCKETS }, (_, i) => r.u32(`locks.buckets[${i}]`));
  const vacuumLatency = readLatency(r, "vacuum.latency");
  const roDelegations = r.u32("db_ro_delegations");
  const roRevokes = r.u32("db_ro_revokes");
  const hopCountBuckets = Array.from({ length: COUNT_BUCKETS }, (_, i) => r.u32(`hop_count_bucket[${i}]`));
  r.u32("num_hot_keys");
  r.skip(4, "padding");
  const slots: { count: number; size: number }[] = [];
  for (let i = 0; i < MAX_HOT_KEYS; i++) {
    const count = r.u32(`hot_keys[${i}].count`);
    r.skip(4, "padding");
    r.skip(8, `hot_keys[${i}].key.dptr`);
    const size = Number(r.u64(`hot_keys[${i}].key.dsize`));
    slots.push({ count, size });
  }
  const hotKeys = slots.map((s, i) => ({ count: s.count, key: r.bytes(s.size, `hot_keys[${i}].key`) }));
  return { locks, locksLatency, lockBuckets, vacuumLatency, roDelegations, roRevokes, hopCountBuckets, hotKeys };
}

/** ctdb_rec_buffer: u32 db_id, u32 count, then count rec_data (TRANS3_COMMIT, DB_PULL/DB_PUSH batches, backups). */
export interface RecBuffer {
  dbId: number;
  records: RecData[];
}

export function encodeRecBuffer(b: RecBuffer): Buffer {
  return Buffer.concat([new Writer(8).u32(b.dbId).u32(b.records.length).finish(), ...b.records.map(encodeRecData)]);
}

export function readRecBuffer(r: Reader, field = "rec_buffer"): RecBuffer {
  const dbId = r.u32(`${field}.db_id`);
  const count = r.u32(`${field}.count`);
  r.needArray(count, REC_DATA_HEADER_SIZE, `${field} records`);
  const records: RecData[] = [];
  for (let i = 0; i < count; i++) records.push(readRecData(r, `${field}.record[${i}]`));
  return { dbId, records };
}

export function decodeRecBuffer(buf: Buffer): RecBuffer {
  const r = new Reader(buf, "rec_buffer");
  const b = readRecBuffer(r);
  if (r.remaining !== 0) throw new ProtocolError(`rec_buffer: ${r.remaining} bytes left over after ${b.records.length} records`);
  return b;
}
