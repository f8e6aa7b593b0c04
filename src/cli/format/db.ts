/** `getdbmap`, `getdbstatus`, `getdbseqnum`, `process-exists` texts. Pure. */

export const DB_FLAGS = {
  PERSISTENT: 0x01,
  READONLY: 0x02,
  STICKY: 0x04,
  REPLICATED: 0x08,
} as const;

export interface DbEntry {
  dbId: number;
  name: string;
  path: string;
  flags: number;
  health: string | null;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

export function formatDbmap(dbs: readonly DbEntry[], sep: string | null): string {
  let out =
    sep === null
      ? `Number of databases:${dbs.length}\n`
      : `${sep}ID${sep}Name${sep}Path${sep}Persistent${sep}Sticky${sep}Unhealthy${sep}Readonly${sep}Replicated${sep}\n`;
  for (const db of dbs) {
    const f = (bit: number) => (db.flags & bit) !== 0;
    if (sep !== null) {
      const b = (v: boolean) => (v ? "1" : "0");
      out +=
        `${sep}0x${hex8(db.dbId).toUpperCase()}${sep}${db.name}${sep}${db.path}${sep}${b(f(DB_FLAGS.PERSISTENT))}${sep}` +
        `${b(f(DB_FLAGS.STICKY))}${sep}${b(db.health !== null)}${sep}${b(f(DB_FLAGS.READONLY))}${sep}${b(f(DB_FLAGS.REPLICATED))}${sep}\n`;
    } else {
      out +=
        `dbid:0x${hex8(db.dbId)} name:${db.name} path:${db.path}` +
        `${f(DB_FLAGS.PERSISTENT) ? " PERSISTENT" : ""}${f(DB_FLAGS.STICKY) ? " STICKY" : ""}` +
        `${f(DB_FLAGS.READONLY) ? " READONLY" : ""}${f(DB_FLAGS.REPLICATED) ? " REPLICATED" : ""}` +
        `${db.health !== null ? " UNHEALTHY" : ""}\n`;
    }
  }
  return out;
}

export function dbJson(db: DbEntry): object {
  return {
    dbId: `0x${hex8(db.dbId)}`,
    name: db.name,
    path: db.path,
    persistent: (db.flags & DB_FLAGS.PERSISTENT) !== 0,
    replicated: (db.flags & DB_FLAGS.REPLICATED) !== 0,
    sticky: (db.flags & DB_FLAGS.STICKY) !== 0,
    readonly: (db.flags & DB_FLAGS.READONLY) !== 0,
    health: db.health ?? "OK",
  };
}

export function formatDbStatus(db: DbEntry): string {
  const yn = (bit: number) => ((db.flags & bit) !== 0 ? "yes" : "no");
  return (
    `dbid: 0x${hex8(db.dbId)}\nname: ${db.name}\npath: ${db.path}\n` +
    `PERSISTENT: ${yn(DB_FLAGS.PERSISTENT)}\nREPLICATED: ${yn(DB_FLAGS.REPLICATED)}\n` +
    `STICKY: ${yn(DB_FLAGS.STICKY)}\nREADONLY: ${yn(DB_FLAGS.READONLY)}\n` +
    `HEALTH: ${db.health ?? "OK"}\n`
  );
}

export function formatSeqnum(seqnum: bigint): string {
  return `0x${BigInt.asUintN(64, seqnum).toString(16)}\n`;
}

export function formatProcessExists(pid: number, srvid: bigint, status: number): string {
  const what = status === 0 ? "exists" : "does not exist";
  return srvid === 0n ? `PID ${pid | 0} ${what}\n` : `PID ${pid | 0} with SRVID 0x${srvid.toString(16)} ${what}\n`;
}
