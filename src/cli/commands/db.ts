/**
 * Database metadata commands: getdbmap, getdbstatus, getdbseqnum,
 * setdbreadonly, setdbsticky; and the small per-node ones: process-exists,
 * setlmasterrole, setleaderrole.
 */
import { cStrtol, smbStrtoul } from "../args.ts";
import { atoi } from "./checktcpport.ts";
import { DB_FLAGS, type DbEntry, dbJson, formatDbmap, formatDbStatus, formatProcessExists, formatSeqnum } from "../format/db.ts";
import { jsonText } from "../format/nodemap.ts";
import { attempt, type Session } from "../session.ts";

export async function getdbmap(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("getdbmap");
  const map = await attempt(() => s.daemon.getDbmap(s.cmdPnn));
  if (!map.ok) return map.ret;
  const dbs: DbEntry[] = [];
  for (const { dbId, flags } of map.value) {
    const name = await attempt(() => s.daemon.getDbName(s.cmdPnn, dbId));
    if (!name.ok) return name.ret;
    const path = await attempt(() => s.daemon.getDbPath(s.cmdPnn, dbId));
    if (!path.ok) return path.ret;
    const health = await attempt(() => s.daemon.getDbHealth(s.cmdPnn, dbId));
    if (!health.ok) return health.ret;
    dbs.push({ dbId, name: name.value, path: path.value, flags, health: health.value });
  }
  const mr = s.ctx.machineReadable;
  s.out(s.ctx.json ? jsonText({ databases: dbs.map(dbJson) }) : formatDbmap(dbs, mr === null ? null : mr.separator));
  return 0;
}

/**
 * A database named by "0x..." id or by name, looked up on the local node;
 * null (after ctdb's message, if any) when there is none.
 */
export async function findDb(s: Session, arg: string): Promise<{ dbId: number; name: string; flags: number } | null> {
  const map = await attempt(() => s.daemon.getDbmap(s.pnn));
  if (!map.ok) return null;
  let found: { dbId: number; flags: number } | undefined;
  let name: string | undefined;
  if (arg.startsWith("0x")) {
    const r = smbStrtoul(arg);
    if (!r.ok) return null;
    const id = Number(BigInt.asUintN(32, r.value));
    found = map.value.find((d) => d.dbId >>> 0 === id);
  } else {
    for (const d of map.value) {
      const n = await attempt(() => s.daemon.getDbName(s.pnn, d.dbId));
      if (!n.ok) return null;
      if (n.value === arg) {
        found = d;
        name = n.value;
        break;
      }
    }
  }
  if (found === undefined) {
    s.err(`No database matching '${arg}' found\n`);
    return null;
  }
  if (name === undefined) {
    const db = found;
    const n = await attempt(() => s.daemon.getDbName(s.pnn, db.dbId));
    if (!n.ok) return null;
    name = n.value;
  }
  return { dbId: found.dbId, name, flags: found.flags };
}

export async function getdbstatus(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("getdbstatus");
  const db = await findDb(s, args[0]!);
  if (db === null) return 1;
  const path = await attempt(() => s.daemon.getDbPath(s.cmdPnn, db.dbId));
  if (!path.ok) return path.ret;
  const health = await attempt(() => s.daemon.getDbHealth(s.cmdPnn, db.dbId));
  if (!health.ok) return health.ret;
  const entry: DbEntry = { ...db, path: path.value, health: health.value };
  s.out(s.ctx.json ? jsonText(dbJson(entry)) : formatDbStatus(entry));
  return 0;
}

export async function getdbseqnum(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("getdbseqnum");
  const db = await findDb(s, args[0]!);
  if (db === null) return 1;
  const r = await attempt(() => s.daemon.getDbSeqnum(s.cmdPnn, db.dbId));
  if (!r.ok) {
    s.err(`Failed to get sequence number for DB ${db.name}\n`);
    return r.ret;
  }
  s.out(s.ctx.json ? jsonText({ name: db.name, seqnum: r.value.toString() }) : formatSeqnum(r.value));
  return 0;
}

async function setDbFlag(s: Session, args: string[], command: string, what: string, set: (dbId: number) => Promise<void>): Promise<number> {
  if (args.length !== 1) return s.usage(command);
  const db = await findDb(s, args[0]!);
  if (db === null) return 1;
  if ((db.flags & (DB_FLAGS.PERSISTENT | DB_FLAGS.REPLICATED)) !== 0) {
    s.err(`${what} can be set only on volatile DB\n`);
    return 1;
  }
  const r = await attempt(() => set(db.dbId));
  return r.ok ? 0 : r.ret;
}

export function setdbreadonly(s: Session, args: string[]): Promise<number> {
  return setDbFlag(s, args, "setdbreadonly", "READONLY", (id) => s.daemon.setDbReadonly(s.cmdPnn, id));
}

export function setdbsticky(s: Session, args: string[]): Promise<number> {
  return setDbFlag(s, args, "setdbsticky", "STICKY", (id) => s.daemon.setDbSticky(s.cmdPnn, id));
}

/** smb_strtoull: like smbStrtoul but the full 64 bits. */
function strtoull(text: string): { ok: true; value: bigint } | { ok: false; errno: number } {
  const r = smbStrtoul(text);
  if (!r.ok) return r;
  return { ok: true, value: BigInt.asUintN(64, cStrtol(text).value) };
}

export async function processExists(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1 && args.length !== 2) return s.usage("process-exists");
  const pid = atoi(args[0]!);
  let srvid = 0n;
  if (args.length === 2) {
    const r = strtoull(args[1]!);
    if (!r.ok) return r.errno;
    srvid = r.value;
  }
  const r = await attempt(() => (srvid === 0n ? s.daemon.processExists(s.cmdPnn, pid) : s.daemon.checkPidSrvid(s.cmdPnn, pid, srvid)));
  if (!r.ok) return r.ret;
  s.out(s.ctx.json ? jsonText({ pid, srvid: `0x${srvid.toString(16)}`, exists: r.value === 0 }) : formatProcessExists(pid, srvid, r.value));
  return r.value;
}

async function setRole(s: Session, args: string[], command: string, set: (on: boolean) => Promise<void>): Promise<number> {
  if (args.length !== 1) return s.usage(command);
  if (args[0] !== "on" && args[0] !== "off") return s.usage(command);
  const r = await attempt(() => set(args[0] === "on"));
  return r.ok ? 0 : r.ret;
}

export function setlmasterrole(s: Session, args: string[]): Promise<number> {
  return setRole(s, args, "setlmasterrole", (on) => s.daemon.setLmasterRole(s.cmdPnn, on));
}

export function setleaderrole(s: Session, args: string[]): Promise<number> {
  return setRole(s, args, "setleaderrole", (on) => s.daemon.setLeaderRole(s.cmdPnn, on));
}
