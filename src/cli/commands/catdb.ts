/** `catdb DB`: dump every record of a database cluster-wide. */
import { formatRecord, splitHeader } from "../format/records.ts";
import type { Session } from "../session.ts";
import { findAndAttach } from "./attach.ts";

export async function catdb(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("catdb");
  const db = await findAndAttach(s, args[0]!);
  if (!db.ok) return db.ret;
  let count = 0;
  const ret = await s.daemon.traverse(s.cmdPnn, db.attachedId, (key, data) => {
    const rec = splitHeader(data);
    // Records too short for a header, and deleted (header-only) records, are not shown.
    if (rec === null || rec.value.length === 0) return;
    count++;
    s.out(formatRecord(key, rec.header, rec.value));
  });
  s.out(`Dumped ${count} records\n`);
  return ret;
}
