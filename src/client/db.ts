// Clustered databases from a client, as CTDB's client library does them
// (client/client_db.c): attach asks the daemon for the database and opens its
// TDB file directly; fetch-lock takes the record's TDB chain lock and, while
// this node is not the record's dmaster, lets go and asks the daemon to
// migrate the record here (REQ_CALL, IMMEDIATE_MIGRATION, NULL_FUNC); store
// writes the record under the lock, keeping its header.

import { type DbKind, decodeRecord, encodeRecord, type LtdbHeader } from "../database/local.ts";
import { Tdb } from "../database/tdb.ts";
import { CallFlag, Control, FETCH_FUNC, NULL_FUNC } from "../protocol/constants.ts";
import { decodeRecData, isTraverseEnd } from "../protocol/database.ts";
import { decodeI32, decodeString, decodeU32, encodeString, encodeTraverseStart, encodeU32 } from "../protocol/types.ts";
import type { CallRequest, CtdbClient } from "./client.ts";
import { ControlError } from "./errors.ts";

/** What fetch-lock needs: the open file, this node's PNN and a way to send REQ_CALLs to its daemon. */
export interface RecordAccess {
  dbId: number;
  name: string;
  tdb: Tdb;
  pnn: number;
  call(req: CallRequest): Promise<{ status: number; data: Buffer }>;
}

export interface ClientDb extends RecordAccess {
  client: CtdbClient;
  kind: DbKind;
  path: string;
}

const ATTACH: Record<DbKind, Control> = {
  volatile: Control.DB_ATTACH,
  persistent: Control.DB_ATTACH_PERSISTENT,
  replicated: Control.DB_ATTACH_REPLICATED,
};

async function ok(client: CtdbClient, opcode: Control, data: Buffer, srvid?: bigint): Promise<Buffer> {
  const r = await client.control(client.pnn, opcode, data, srvid === undefined ? undefined : { srvid });
  if (r.status !== 0) throw new ControlError(opcode, r.status, r.errmsg);
  return r.data;
}

/** Attaches a database on the local node and opens its file with the flags the daemon names. */
export async function attachDb(client: CtdbClient, name: string, kind: DbKind = "volatile"): Promise<ClientDb> {
  const dbId = decodeU32(await ok(client, ATTACH[kind], encodeString(name)));
  const path = decodeString(await ok(client, Control.GETDBPATH, encodeU32(dbId)));
  const tdbFlags = decodeI32(await ok(client, Control.DB_OPEN_FLAGS, encodeU32(dbId)));
  const tdb = Tdb.open(path, { tdbFlags, create: false });
  return { client, dbId, name, kind, path, tdb, pnn: client.pnn, call: (req) => client.call(req) };
}

export function closeDb(db: ClientDb): void {
  db.tdb.close();
}

/** A record held under its chain lock: read `value`, then store() and/or unlock(). */
export interface LockedRecord {
  key: Buffer;
  header: LtdbHeader;
  value: Buffer;
  /** How many migrations it took to get the record here. */
  migrations: number;
  store(value: Buffer): void;
  unlock(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the chain lock without blocking this process's event loop. */
async function lockChain(tdb: Tdb, key: Buffer): Promise<void> {
  for (let wait = 0; !tdb.tryChainLock(key); wait = Math.min(wait + 1, 10)) await sleep(wait);
}

/** Fetches a volatile record for change: migrates it to this node first if need be. */
export async function fetchLock(db: RecordAccess, key: Buffer, opts?: { maxMigrations?: number }): Promise<LockedRecord> {
  const max = opts?.maxMigrations ?? 100;
  for (let migrations = 0; ; migrations++) {
    await lockChain(db.tdb, key);
    let rec: ReturnType<typeof decodeRecord>;
    try {
      const stored = db.tdb.fetch(key);
      rec = stored === null ? null : decodeRecord(stored);
    } catch (err) {
      db.tdb.chainUnlock(key);
      throw err;
    }
    if (rec !== null && rec.header.dmaster === db.pnn) {
      const header = rec.header;
      let locked = true;
      return {
        key,
        header,
        value: rec.value,
        migrations,
        store(value: Buffer) {
          if (!locked) throw new Error("record is no longer locked");
          db.tdb.store(key, encodeRecord(header, value));
        },
        unlock() {
          if (!locked) return;
          locked = false;
          db.tdb.chainUnlock(key);
        },
      };
    }
    db.tdb.chainUnlock(key);
    if (migrations >= max) throw new Error(`record of ${db.name} did not reach this node after ${max} migrations`);
    const r = await db.call({ dbId: db.dbId, key, flags: CallFlag.IMMEDIATE_MIGRATION, callid: NULL_FUNC });
    if (r.status !== 0) throw new Error(`migrating a record of ${db.name} failed with status ${r.status}`);
  }
}

/** Stores a value: fetch-lock, store, unlock. */
export async function storeRecord(db: RecordAccess, key: Buffer, value: Buffer): Promise<void> {
  const rec = await fetchLock(db, key);
  try {
    rec.store(value);
  } finally {
    rec.unlock();
  }
}

/** Reads a record where it is, without migrating it (CTDB_FETCH_FUNC). */
export async function fetchRecord(db: RecordAccess, key: Buffer): Promise<Buffer> {
  const r = await db.call({ dbId: db.dbId, key, flags: 0, callid: FETCH_FUNC });
  if (r.status !== 0) throw new Error(`fetching a record of ${db.name} failed with status ${r.status}`);
  return r.data;
}

/**
 * Every record cluster-wide (TRAVERSE_START_EXT): the records arrive as
 * messages to a server id of ours, the end as an empty record.
 */
export async function traverseDb(
  client: CtdbClient,
  dbId: number,
  visit: (key: Buffer, header: LtdbHeader, value: Buffer) => void,
  opts?: { withEmptyRecords?: boolean; srvid?: bigint },
): Promise<number> {
  const srvid = opts?.srvid ?? (0xbe00000000000000n | (BigInt(process.pid) << 16n) | BigInt(Math.floor(Math.random() * 0xffff)));
  let count = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await client.registerSrvid(srvid, (data) => {
    const rec = decodeRecData(data);
    if (isTraverseEnd(rec)) return finish();
    const r = decodeRecord(rec.data);
    if (r === null) return;
    count++;
    visit(rec.key, r.header, r.value);
  });
  try {
    await ok(client, Control.TRAVERSE_START_EXT, encodeTraverseStart({ dbId, reqid: 0, srvid, withEmptyRecords: opts?.withEmptyRecords ?? false }));
    await done;
    return count;
  } finally {
    await client.deregisterSrvid(srvid).catch(() => undefined);
  }
}
