/**
 * `wipedb DB`: empty a database on every active node inside a
 * transaction (freeze, start, wipe, mark healthy, commit, thaw); if any
 * step fails, put this node into recovery so the cluster repairs itself.
 */
import { NODE_FLAGS_INACTIVE } from "../format/common.ts";
import { DaemonFailure } from "../daemon.ts";
import type { Session } from "../session.ts";
import { findAndAttach } from "./attach.ts";
import { getGeneration, realSleep } from "./recover.ts";

const ENOMEM = 12;
const RECOVERY_ACTIVE = 1;

export async function wipedb(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("wipedb");
  const db = await findAndAttach(s, args[0]!);
  if (!db.ok) return db.ret;
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) {
    s.err("Failed to get nodemap\n");
    return ENOMEM;
  }
  const generation = await getGeneration(s, realSleep);
  if (!generation.ok) {
    s.err("Failed to get current generation\n");
    return generation.ret;
  }
  const active = nodemap.filter((n) => (n.flags & NODE_FLAGS_INACTIVE) === 0).map((n) => n.pnn);
  if (active.length === 0) return ENOMEM;
  const tid = generation.value;
  const everywhere = async (f: (pnn: number) => Promise<void>): Promise<number> => {
    const results = await Promise.all(
      active.map(async (p) => {
        try {
          await f(p);
          return 0;
        } catch (e) {
          if (e instanceof DaemonFailure) return e.ret;
          throw e;
        }
      }),
    );
    return results.find((r) => r !== 0) ?? 0;
  };
  const steps: ((pnn: number) => Promise<void>)[] = [
    (p) => s.daemon.dbControl(p, "freeze", db.dbId),
    (p) => s.daemon.dbTransaction(p, "start", db.dbId, tid),
    (p) => s.daemon.dbTransaction(p, "wipe", db.dbId, tid),
    (p) => s.daemon.dbControl(p, "set-healthy", db.dbId),
    (p) => s.daemon.dbTransaction(p, "commit", db.dbId, tid),
    (p) => s.daemon.dbControl(p, "thaw", db.dbId),
  ];
  for (const step of steps) {
    const ret = await everywhere(step);
    if (ret !== 0) {
      try {
        await s.daemon.setRecmode(s.pnn, RECOVERY_ACTIVE);
      } catch (e) {
        if (!(e instanceof DaemonFailure)) throw e;
      }
      return ret;
    }
  }
  s.out(`Database ${db.name} wiped\n`);
  return 0;
}
