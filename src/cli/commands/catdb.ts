/** `catdb DB`: dump every record of a database cluster-wide. */
import { formatRecord, splitHeader } from "../format/records.ts";
import type { Session } from "../session.ts";
import { attachDb } from "./attach.ts";
import { findDb } from "./db.ts";

export async function catdb(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("catdb");
  const db = await findDb(s, args[0]!);
  if (db === null) return 1;
  const attached = await attachDb(s, db.name, db.flags);
  if (attached.ret !== 0) {
    s.err(`Failed to attach to DB ${db.name}\n`);
    return attached.ret;
  }
  let count = 0;
  const ret = await s.daemon.traverse(s.cmdPnn, attached.dbId, (key, data) => {
    const rec = splitHeader(data);
    // Records too short for a header, and deleted (header-only) records, are not shown.
    if (rec === null || rec.value.length === 0) return;
    count++;
    s.out(formatRecord(key, rec.header, rec.value));
  });
  s.out(`Dumped ${count} records\n`);
  return ret;
}
