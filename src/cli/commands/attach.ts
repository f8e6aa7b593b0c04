/**
 * `attach DB [persistent|replicated|readonly|sticky]` and `detach DB...`,
 * with the log lines of CTDB's client library for each failing step.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { NODE_FLAGS, NODE_FLAGS_INACTIVE } from "../format/common.ts";
import { DB_FLAGS } from "../format/db.ts";
import { DaemonFailure } from "../daemon.ts";
import type { Session } from "../session.ts";
import { findDb } from "./db.ts";

const EIO = 5;
const ENOMEM = 12;
const RECOVERY_ACTIVE = 1;

type Step<T> = { ok: true; value: T } | { ok: false; ret: number; answered: boolean };

async function step<T>(f: () => Promise<T>): Promise<Step<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    if (e instanceof DaemonFailure) return { ok: false, ret: e.ret, answered: e.answered };
    throw e;
  }
}

/** Can this process open the database's file read-write as a TDB, as the client library does? */
function canOpenTdb(path: string): boolean {
  try {
    const fd = openSync(path, "r+");
    try {
      const head = Buffer.alloc(32);
      const n = readSync(fd, head, 0, 32, 0);
      return head.toString("latin1", 0, n).startsWith("TDB file");
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

export async function attach(s: Session, args: string[]): Promise<number> {
  if (args.length < 1 || args.length > 2) return s.usage("attach");
  const name = args[0]!;
  let flags = 0;
  if (args.length === 2) {
    const which = args[1];
    if (which === "persistent") flags = DB_FLAGS.PERSISTENT;
    else if (which === "readonly") flags = DB_FLAGS.READONLY;
    else if (which === "sticky") flags = DB_FLAGS.STICKY;
    else if (which === "replicated") flags = DB_FLAGS.REPLICATED;
    else return s.usage("attach");
  }
  return (await attachDb(s, name, flags)).ret;
}

/** CTDB's client attach sequence on the local node; ret 0 with the database id, or the failure after its log line. */
export async function attachDb(s: Session, name: string, flags: number): Promise<{ ret: number; dbId: number }> {
  const r = await attachSteps(s, name, flags);
  return typeof r === "number" ? { ret: r, dbId: 0 } : { ret: 0, dbId: r.dbId };
}

async function attachSteps(s: Session, name: string, flags: number): Promise<number | { dbId: number }> {
  const kind = flags === DB_FLAGS.PERSISTENT ? "persistent" : flags === DB_FLAGS.REPLICATED ? "replicated" : "volatile";
  const opName = kind === "persistent" ? "DB_ATTACH_PERSISTENT" : kind === "replicated" ? "DB_ATTACH_REPLICATED" : "DB_ATTACH";
  const dest = s.pnn;

  const id = await step(() => s.daemon.dbAttach(dest, name, kind));
  if (!id.ok) {
    s.err(id.answered ? `attach: ${name} failed to get db_id, ret=${id.ret}\n` : `attach: ${name} ${opName} failed, ret=${id.ret}\n`);
    return id.ret;
  }
  const dbId = id.value;
  const path = await step(() => s.daemon.getDbPath(dest, dbId, true));
  if (!path.ok) {
    s.err(path.answered ? `attach: ${name} GETDBPATH parse failed, ret=${path.ret}\n` : `attach: ${name} GETDBPATH failed, ret=${path.ret}\n`);
    return path.ret;
  }
  const health = await step(() => s.daemon.getDbHealth(dest, dbId, true));
  if (!health.ok) {
    s.err(
      health.answered
        ? `attach: ${name} DB_GET_HEALTH parse failed, ret=${health.ret}\n`
        : `attach: ${name} DB_GET_HEALTH failed, ret=${health.ret}\n`,
    );
    return health.ret;
  }
  if (health.value !== null) {
    s.err(`attach: ${name} database unhealthy (${health.value})\n`);
    return EIO;
  }
  if ((flags & (DB_FLAGS.READONLY | DB_FLAGS.STICKY)) !== 0) {
    const r = await setFlagsEverywhere(s, dest, dbId, flags);
    if (r !== 0) {
      s.err(`attach: ${name} set db flags 0x${flags.toString(16).padStart(8, "0")} failed\n`);
      return r;
    }
  }
  const open = await step(() => s.daemon.dbOpenFlags(dest, dbId));
  if (!open.ok) {
    s.err(
      open.answered ? `attach: ${name} DB_OPEN_FLAGS parse failed, ret=${open.ret}\n` : `attach: ${name} DB_OPEN_FLAGS failed, ret=${open.ret}\n`,
    );
    return open.ret;
  }
  if (!canOpenTdb(path.value)) {
    s.err(`attach: ${name} tdb_wrap_open failed\n`);
    return ENOMEM;
  }
  return { dbId };
}

/** SET_DB_READONLY / SET_DB_STICKY on every connected node. */
async function setFlagsEverywhere(s: Session, dest: number, dbId: number, flags: number): Promise<number> {
  const hex = `0x${(dbId >>> 0).toString(16).padStart(8, "0")}`;
  const nodemap = await step(() => s.daemon.getNodemap(dest, true));
  if (!nodemap.ok) {
    s.err(
      nodemap.answered
        ? `set_db_flags: ${hex} GET_NODEMAP parse failed, ret=${nodemap.ret}\n`
        : `set_db_flags: ${hex} GET_NODEMAP failed, ret=${nodemap.ret}\n`,
    );
    return nodemap.ret;
  }
  const pnns = nodemap.value.filter((n) => (n.flags & NODE_FLAGS.DISCONNECTED) === 0).map((n) => n.pnn);
  if (pnns.length === 0) {
    s.err(`set_db_flags: ${hex} no connected nodes, count=0\n`);
    return ENOMEM;
  }
  const apply = async (what: string, f: (p: number) => Promise<void>): Promise<number> => {
    const results = await Promise.all(pnns.map((p) => step(() => f(p))));
    const bad = results.find((r) => !r.ok);
    if (bad === undefined || bad.ok) return 0;
    s.err(`set_db_flags: ${hex} ${what} failed, ret=${bad.ret}\n`);
    return bad.ret;
  };
  if ((flags & DB_FLAGS.READONLY) !== 0) {
    const r = await apply("SET_DB_READONLY", (p) => s.daemon.setDbReadonly(p, dbId, true));
    if (r !== 0) return r;
  }
  if ((flags & DB_FLAGS.STICKY) !== 0) {
    const r = await apply("SET_DB_STICKY", (p) => s.daemon.setDbSticky(p, dbId, true));
    if (r !== 0) return r;
  }
  return 0;
}

export async function detach(s: Session, args: string[]): Promise<number> {
  if (args.length < 1) return s.usage("detach");
  const recmode = await step(() => s.daemon.getRecmode(s.cmdPnn));
  if (!recmode.ok) return recmode.ret;
  if (recmode.value === RECOVERY_ACTIVE) {
    s.err("Database cannot be detached when recovery is active\n");
    return 1;
  }
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  for (const n of nodemap) {
    if ((n.flags & NODE_FLAGS.DISCONNECTED) !== 0 || (n.flags & NODE_FLAGS.DELETED) !== 0) continue;
    if ((n.flags & NODE_FLAGS_INACTIVE) !== 0) {
      s.err(`Database cannot be detached on inactive (stopped or banned) node ${n.pnn >>> 0}\n`);
      return 1;
    }
    const v = await step(() => s.daemon.getTunable(n.pnn, "AllowClientDBAttach"));
    if (!v.ok) {
      s.err(`Unable to get tunable AllowClientDBAttach from node ${n.pnn >>> 0}\n`);
      return v.ret;
    }
    if (v.value === 1) {
      s.err(`Database access is still active on node ${n.pnn >>> 0}. Set AllowclientDBAttach=0 on all nodes.\n`);
      return 1;
    }
  }
  let ret = 0;
  for (const arg of args) {
    const db = await findDb(s, arg);
    if (db === null) continue;
    if ((db.flags & (DB_FLAGS.PERSISTENT | DB_FLAGS.REPLICATED)) !== 0) {
      s.err("Only volatile databases can be detached\n");
      return 1;
    }
    const r = await detachOne(s, db.dbId);
    if (r !== 0) {
      s.err(`Database ${db.name} detach failed\n`);
      ret = r;
    }
  }
  return ret;
}

async function detachOne(s: Session, dbId: number): Promise<number> {
  const hex = `0x${(dbId >>> 0).toString(16)}`;
  const name = await step(() => s.daemon.getDbName(s.pnn, dbId, true));
  if (!name.ok) {
    s.err(`detach: ${hex} GET_DBNAME failed, ret=${name.ret}\n`);
    return name.ret;
  }
  const r = await step(() => s.daemon.dbDetach(s.pnn, dbId));
  if (!r.ok) {
    s.err(`detach: ${name.value} DB_DETACH failed, ret=${r.ret}\n`);
    return r.ret;
  }
  return 0;
}

/**
 * What catdb and wipedb do first: find the database by name or id, then
 * attach to it, complaining as ctdb does. The attached id, or the exit code.
 */
export async function findAndAttach(
  s: Session,
  arg: string,
): Promise<{ ok: true; name: string; dbId: number; attachedId: number } | { ok: false; ret: number }> {
  const db = await findDb(s, arg);
  if (db === null) return { ok: false, ret: 1 };
  const attached = await attachDb(s, db.name, db.flags);
  if (attached.ret !== 0) {
    s.err(`Failed to attach to DB ${db.name}\n`);
    return { ok: false, ret: attached.ret };
  }
  return { ok: true, name: db.name, dbId: db.dbId, attachedId: attached.dbId };
}
