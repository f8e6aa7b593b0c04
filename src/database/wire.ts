// Node-to-node database messages (Tandem's own format, carried on the
// transport's DATABASE channel): the leader's recovery requests and their
// answers, a persistent commit's records going to every node and their
// acknowledgements, and the leader telling followers a generation's
// databases are recovered. Binary, because a recovery moves whole databases;
// every field is bounds-checked and anything malformed is refused by name.

import { Reader, Writer } from "../protocol/codec.ts";
import type { DbInfo, RecordCopy, RecoveryRequest, RecoveryResult } from "./recovery.ts";

export type DbMessage =
  | { t: "rec-req"; run: number; reqId: number; req: RecoveryRequest }
  | { t: "rec-ok"; run: number; reqId: number; result: RecoveryResult }
  | { t: "rec-fail"; run: number; reqId: number; error: string }
  | { t: "store"; commitId: number; dbId: number; records: readonly RecordCopy[] }
  | { t: "stored"; commitId: number; ok: boolean; error: string }
  | { t: "recovered"; generation: number };

const T = { "rec-req": 1, "rec-ok": 2, "rec-fail": 3, store: 4, stored: 5, recovered: 6 } as const;
const OP = { dbmap: 1, attach: 2, freeze: 3, pull: 4, push: 5, thaw: 6 } as const;
type Op = keyof typeof OP;
const OP_NAMES = new Map<number, Op>(Object.entries(OP).map(([k, v]) => [v, k as Op]));

export class DbWireError extends Error {}

const ERRORS = {
  truncated: (m: string) => new DbWireError(m),
  invalid: (m: string) => new DbWireError(m),
};

function recordsSize(records: readonly RecordCopy[]): number {
  let n = 4;
  for (const r of records) n += 4 + r.key.length + 8 + 4 + 4 + 4 + r.data.length;
  return n;
}

function writeRecords(w: Writer, records: readonly RecordCopy[]): void {
  w.u32(records.length);
  for (const r of records) {
    w.u32(r.key.length).bytes(r.key).u64(r.rsn).u32(r.dmaster).u32(r.flags).u32(r.data.length).bytes(r.data);
  }
}

function readRecords(r: Reader): RecordCopy[] {
  const count = r.u32("record count");
  // Each record takes at least 24 bytes: a count can not promise more than the bytes left.
  r.needArray(count, 24, "records");
  const out: RecordCopy[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(r.bytes(r.u32("key length"), "key"));
    const rsn = r.u64("rsn");
    const dmaster = r.u32("dmaster");
    const flags = r.u32("flags");
    const data = Buffer.from(r.bytes(r.u32("data length"), "data"));
    out[i] = { key, rsn, dmaster, flags, data };
  }
  return out;
}

function strSize(s: string): number {
  return 4 + Buffer.byteLength(s);
}

function writeStr(w: Writer, s: string): void {
  const b = Buffer.from(s);
  w.u32(b.length).bytes(b);
}

function readStr(r: Reader, field: string): string {
  return r.bytes(r.u32(`${field} length`), field).toString();
}

function dbInfoSize(d: DbInfo): number {
  return 8 + strSize(d.name);
}

function writeDbInfo(w: Writer, d: DbInfo): void {
  w.u32(d.dbId).u32(d.flags);
  writeStr(w, d.name);
}

function readDbInfo(r: Reader): DbInfo {
  const dbId = r.u32("db_id");
  const flags = r.u32("db flags");
  return { dbId, flags, name: readStr(r, "db name") };
}

function requestSize(q: RecoveryRequest): number {
  switch (q.op) {
    case "dbmap":
      return 0;
    case "attach":
      return dbInfoSize(q.db);
    case "pull":
      return 4;
    case "freeze":
    case "thaw":
      return 8;
    case "push":
      return 8 + recordsSize(q.records);
  }
}

function resultSize(s: RecoveryResult): number {
  switch (s.op) {
    case "dbmap":
      return 4 + s.dbs.reduce((n, d) => n + dbInfoSize(d), 0);
    case "attach":
    case "thaw":
      return 0;
    case "freeze":
      return 8;
    case "pull":
      return recordsSize(s.records);
    case "push":
      return 4;
  }
}

export function encodeDbMessage(m: DbMessage): Buffer {
  switch (m.t) {
    case "rec-req": {
      const q = m.req;
      const w = new Writer(1 + 8 + 1 + requestSize(q));
      w.u8(T[m.t]).u32(m.run).u32(m.reqId).u8(OP[q.op]);
      if (q.op === "attach") writeDbInfo(w, q.db);
      else if (q.op === "pull") w.u32(q.dbId);
      else if (q.op === "freeze" || q.op === "thaw") w.u32(q.dbId).u32(q.generation);
      else if (q.op === "push") {
        w.u32(q.dbId).u32(q.generation);
        writeRecords(w, q.records);
      }
      return w.finish();
    }
    case "rec-ok": {
      const s = m.result;
      const w = new Writer(1 + 8 + 1 + resultSize(s));
      w.u8(T[m.t]).u32(m.run).u32(m.reqId).u8(OP[s.op]);
      if (s.op === "dbmap") {
        w.u32(s.dbs.length);
        for (const d of s.dbs) writeDbInfo(w, d);
      } else if (s.op === "freeze") w.u64(s.seqnum);
      else if (s.op === "pull") writeRecords(w, s.records);
      else if (s.op === "push") w.u32(s.count);
      return w.finish();
    }
    case "rec-fail": {
      const w = new Writer(1 + 8 + strSize(m.error));
      w.u8(T[m.t]).u32(m.run).u32(m.reqId);
      writeStr(w, m.error);
      return w.finish();
    }
    case "store": {
      const w = new Writer(1 + 8 + recordsSize(m.records));
      w.u8(T[m.t]).u32(m.commitId).u32(m.dbId);
      writeRecords(w, m.records);
      return w.finish();
    }
    case "stored": {
      const w = new Writer(1 + 5 + strSize(m.error));
      w.u8(T[m.t]).u32(m.commitId).u8(m.ok ? 1 : 0);
      writeStr(w, m.error);
      return w.finish();
    }
    case "recovered":
      return new Writer(5).u8(T[m.t]).u32(m.generation).finish();
  }
}

function readOp(r: Reader): Op {
  const code = r.u8("operation");
  const op = OP_NAMES.get(code);
  if (op === undefined) throw new DbWireError(`database message: unknown recovery operation ${code}`);
  return op;
}

export function decodeDbMessage(buf: Buffer): DbMessage {
  const r = new Reader(buf, "database message", 0, buf.length, ERRORS);
  const t = r.u8("type");
  let m: DbMessage;
  switch (t) {
    case T["rec-req"]: {
      const run = r.u32("run");
      const reqId = r.u32("reqid");
      const op = readOp(r);
      let req: RecoveryRequest;
      switch (op) {
        case "dbmap":
          req = { op };
          break;
        case "attach":
          req = { op, db: readDbInfo(r) };
          break;
        case "pull":
          req = { op, dbId: r.u32("db_id") };
          break;
        case "freeze":
        case "thaw":
          req = { op, dbId: r.u32("db_id"), generation: r.u32("generation") };
          break;
        case "push":
          req = { op, dbId: r.u32("db_id"), generation: r.u32("generation"), records: readRecords(r) };
          break;
      }
      m = { t: "rec-req", run, reqId, req };
      break;
    }
    case T["rec-ok"]: {
      const run = r.u32("run");
      const reqId = r.u32("reqid");
      const op = readOp(r);
      let result: RecoveryResult;
      switch (op) {
        case "dbmap": {
          const n = r.u32("db count");
          r.needArray(n, 12, "dbmap");
          const dbs: DbInfo[] = [];
          for (let i = 0; i < n; i++) dbs.push(readDbInfo(r));
          result = { op, dbs };
          break;
        }
        case "attach":
        case "thaw":
          result = { op };
          break;
        case "freeze":
          result = { op, seqnum: r.u64("seqnum") };
          break;
        case "pull":
          result = { op, records: readRecords(r) };
          break;
        case "push":
          result = { op, count: r.u32("count") };
          break;
      }
      m = { t: "rec-ok", run, reqId, result };
      break;
    }
    case T["rec-fail"]:
      m = { t: "rec-fail", run: r.u32("run"), reqId: r.u32("reqid"), error: readStr(r, "error") };
      break;
    case T.store:
      m = { t: "store", commitId: r.u32("commit id"), dbId: r.u32("db_id"), records: readRecords(r) };
      break;
    case T.stored:
      m = { t: "stored", commitId: r.u32("commit id"), ok: r.u8("ok") !== 0, error: readStr(r, "error") };
      break;
    case T.recovered:
      m = { t: "recovered", generation: r.u32("generation") };
      break;
    default:
      throw new DbWireError(`database message: unknown type ${t}`);
  }
  if (r.remaining !== 0) throw new DbWireError(`database message: ${r.remaining} bytes left over after ${m.t}`);
  return m;
}
