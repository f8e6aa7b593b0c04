/**
 * Record commands: `readkey`, `writekey`, `deletekey` (through fetch-lock,
 * which migrates the record to this node), `tstore` (straight into a TDB
 * file) and `dbstatistics`.
 */
import { fetchLock, type LockedRecord, type RecordAccess } from "../../client/db.ts";
import { encodeRecord } from "../../database/local.ts";
import { StoreMode, Tdb } from "../../database/tdb.ts";
import type { DbStatisticsWire } from "../../protocol/database.ts";
import { cStrtol, smbStrtoul } from "../args.ts";
import { DB_FLAGS } from "../format/db.ts";
import { jsonText } from "../format/nodemap.ts";
import { attempt, type Session } from "../session.ts";
import { attachDb } from "./attach.ts";
import { findDb } from "./db.ts";

const EINVAL = 22;

/** ctdb's str_to_data: "0x..." is hex bytes, anything else the text itself. */
export function parseData(s: Session, text: string): Buffer | null {
  if (!text.startsWith("0x")) return Buffer.from(text, "utf8");
  const hex = text.slice(2);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    s.err(`Invalid hex: ${hex}\n`);
    return null;
  }
  return Buffer.from(hex, "hex");
}

/** Attach a volatile database by name or id and open it for fetch-lock; null after ctdb's message. */
async function openVolatile(s: Session, arg: string): Promise<{ access: RecordAccess; close: () => void } | number> {
  const db = await findDb(s, arg);
  if (db === null) return 1;
  if ((db.flags & (DB_FLAGS.PERSISTENT | DB_FLAGS.REPLICATED)) !== 0) {
    s.err(`DB ${db.name} is not a volatile database\n`);
    return 1;
  }
  const attached = await attachDb(s, db.name, db.flags);
  if (attached.ret !== 0) {
    s.err(`Failed to attach to DB ${db.name}\n`);
    return attached.ret;
  }
  const path = await attempt(() => s.daemon.getDbPath(s.pnn, attached.dbId));
  if (!path.ok) return path.ret;
  const flags = await attempt(() => s.daemon.dbOpenFlags(s.pnn, attached.dbId));
  if (!flags.ok) return flags.ret;
  let tdb: Tdb;
  try {
    tdb = Tdb.open(path.value, { tdbFlags: flags.value, create: false });
  } catch (e) {
    s.err(`${(e as Error).message}\n`);
    return 1;
  }
  const access: RecordAccess = { dbId: attached.dbId, name: db.name, tdb, pnn: s.pnn, call: (req) => s.daemon.recordCall(req) };
  return { access, close: () => tdb.close() };
}

async function withRecord(
  s: Session,
  dbArg: string,
  keyArg: string,
  failure: string,
  use: (rec: LockedRecord, access: RecordAccess) => Promise<number> | number,
): Promise<number> {
  const opened = await openVolatile(s, dbArg);
  if (typeof opened === "number") return opened;
  try {
    const key = parseData(s, keyArg);
    if (key === null) {
      s.err(`Failed to parse key ${keyArg}\n`);
      return EINVAL;
    }
    let rec: LockedRecord;
    try {
      rec = await fetchLock(opened.access, key);
    } catch {
      s.err(`Failed to fetch record for key ${keyArg}\n`);
      return 1;
    }
    try {
      return await use(rec, opened.access);
    } catch {
      s.err(`${failure} ${keyArg}\n`);
      return 1;
    } finally {
      rec.unlock();
    }
  } finally {
    opened.close();
  }
}

export async function readkey(s: Session, args: string[]): Promise<number> {
  if (args.length < 2 || args.length > 3 || (args.length === 3 && args[2] !== "readonly")) return s.usage("readkey");
  return withRecord(s, args[0]!, args[1]!, "Failed to read record for key", (rec) => {
    // ctdb prints the value with %.*s, which stops at a NUL byte.
    const nul = rec.value.indexOf(0);
    const shown = nul < 0 ? rec.value : rec.value.subarray(0, nul);
    s.out(`Data: size:${rec.value.length} ptr:[${shown.toString("latin1")}]\n`);
    return 0;
  });
}

export async function writekey(s: Session, args: string[]): Promise<number> {
  if (args.length !== 3) return s.usage("writekey");
  const value = parseData(s, args[2]!);
  if (value === null) {
    s.err(`Failed to parse value ${args[2]}\n`);
    return EINVAL;
  }
  return withRecord(s, args[0]!, args[1]!, "Failed to store record for key", (rec) => {
    rec.store(value);
    return 0;
  });
}

export async function deletekey(s: Session, args: string[]): Promise<number> {
  if (args.length !== 2) return s.usage("deletekey");
  return withRecord(s, args[0]!, args[1]!, "Failed to delete record for key", async (rec, access) => {
    // A deleted volatile record is its header alone; the vacuumer is told so it can purge it cluster-wide.
    rec.store(Buffer.alloc(0));
    const r = await attempt(() => s.daemon.scheduleForDeletion(s.pnn, access.dbId, rec.header, rec.key));
    if (!r.ok) throw new Error("SCHEDULE_FOR_DELETION failed");
    return 0;
  });
}

export async function tstore(s: Session, args: string[]): Promise<number> {
  if (args.length !== 3 && args.length !== 6) return s.usage("tstore");
  let tdb: Tdb;
  try {
    tdb = Tdb.open(args[0]!, { tdbFlags: 0, create: false });
  } catch {
    s.err(`Failed to open TDB file ${args[0]}\n`);
    return 1;
  }
  try {
    const key = parseData(s, args[1]!);
    if (key === null) {
      s.err(`Failed to parse key ${args[1]}\n`);
      return EINVAL;
    }
    const value = parseData(s, args[2]!);
    if (value === null) {
      s.err(`Failed to parse data ${args[2]}\n`);
      return EINVAL;
    }
    let rsn = 0n;
    let dmaster = s.pnn;
    let flags = 0;
    if (args.length === 6) {
      rsn = BigInt.asUintN(64, cStrtol(args[3]!).value);
      const d = smbStrtoul(args[4]!);
      const f = smbStrtoul(args[5]!);
      if (!d.ok || !f.ok) return s.usage("tstore");
      dmaster = Number(BigInt.asUintN(32, d.value));
      flags = Number(BigInt.asUintN(32, f.value));
    }
    try {
      tdb.store(key, encodeRecord({ rsn, dmaster, reserved1: 0, flags }, value), StoreMode.REPLACE);
    } catch {
      s.err(`Failed to write record ${args[1]} to file ${args[0]}\n`);
      return 1;
    }
    return 0;
  } finally {
    tdb.close();
  }
}

export function formatDbStatistics(name: string, st: DbStatisticsWire): string {
  const row = (label: string, v: number, nested: boolean) =>
    ` ${nested ? "    " : ""}${label.padEnd(22)}${nested ? "" : "    "}${String(v >>> 0).padStart(10)}\n`;
  let out = `DB Statistics ${name}\n`;
  out += row("db_ro_delegations", st.roDelegations, false);
  out += row("db_ro_revokes", st.roRevokes, false);
  out += " locks\n";
  out += row("num_calls", st.locks.numCalls, true);
  out += row("num_current", st.locks.numCurrent, true);
  out += row("num_pending", st.locks.numPending, true);
  out += row("num_failed", st.locks.numFailed, true);
  out += ` hop_count_buckets:${st.hopCountBuckets.map((b) => ` ${b >>> 0}`).join("")}\n`;
  out += ` lock_buckets:${st.lockBuckets.map((b) => ` ${b >>> 0}`).join("")}\n`;
  const lat = (label: string, l: DbStatisticsWire["locksLatency"]) =>
    ` ${label.padEnd(30)}     ${l.min.toFixed(6)}/${(l.num !== 0 ? l.total / l.num : 0).toFixed(6)}/${l.max.toFixed(6)} sec out of ${l.num}\n`;
  out += lat("locks_latency      MIN/AVG/MAX", st.locksLatency);
  out += lat("vacuum_latency     MIN/AVG/MAX", st.vacuumLatency);
  out += ` Num Hot Keys:     ${st.hotKeys.length}\n`;
  for (const k of st.hotKeys) out += `     Count:${k.count} Key:${k.key.toString("hex")}\n`;
  return out;
}

export async function dbstatistics(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("dbstatistics");
  const db = await findDb(s, args[0]!);
  if (db === null) return 1;
  const st = await attempt(() => s.daemon.getDbStatistics(s.cmdPnn, db.dbId));
  if (!st.ok) return st.ret;
  if (s.ctx.json) {
    s.out(
      jsonText({
        name: db.name,
        roDelegations: st.value.roDelegations,
        roRevokes: st.value.roRevokes,
        locks: st.value.locks,
        hopCountBuckets: st.value.hopCountBuckets,
        lockBuckets: st.value.lockBuckets,
        hotKeys: st.value.hotKeys.filter((k) => k.key.length > 0).map((k) => ({ count: k.count, key: k.key.toString("hex") })),
      }),
    );
    return 0;
  }
  s.out(formatDbStatistics(db.name, st.value));
  return 0;
}
