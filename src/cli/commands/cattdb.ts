/** `cattdb DB`: dump this node's own copy of a database, read straight from its TDB file. */
import { Tdb } from "../../database/tdb.ts";
import { decodeRecord } from "../../database/local.ts";
import { formatRecord } from "../format/records.ts";
import { attempt, type Session } from "../session.ts";
import { findAndAttach } from "./attach.ts";

export async function cattdb(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("cattdb");
  const db = await findAndAttach(s, args[0]!);
  if (!db.ok) return db.ret;
  const file = await attempt(() => s.daemon.getDbPath(s.pnn, db.attachedId));
  if (!file.ok) return file.ret;
  const flags = await attempt(() => s.daemon.dbOpenFlags(s.pnn, db.attachedId));
  if (!flags.ok) return flags.ret;
  let tdb: Tdb;
  try {
    tdb = Tdb.open(file.value, { tdbFlags: flags.value, create: false });
  } catch (e) {
    s.err(`${(e as Error).message}\n`);
    return 1;
  }
  let count = 0;
  try {
    // Every record, empty (header-only) ones included: this is the node's raw copy.
    tdb.traverseRead((key, stored) => {
      const rec = decodeRecord(stored);
      if (rec === null) return;
      count++;
      s.out(formatRecord(key, rec.header, rec.value));
    });
  } finally {
    tdb.close();
  }
  s.out(`Dumped ${count} record(s)\n`);
  return 0;
}
