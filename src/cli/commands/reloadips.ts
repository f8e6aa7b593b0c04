/**
 * `reloadips [all|PNN-LIST]`: with takeover runs held off on every
 * connected node, make the chosen active nodes re-read public_addresses,
 * then lift the hold and ask for a takeover run.
 */
import { NODE_FLAGS, NODE_FLAGS_INACTIVE } from "../format/common.ts";
import { attempt, type Session } from "../session.ts";
import { ipreallocate } from "./nodectl.ts";

const ETIME = 62;

async function disableTakeoverRuns(s: Session, pnns: number[], timeoutSec: number): Promise<number> {
  const r = await attempt(() => s.daemon.disableTakeoverRuns(pnns, timeoutSec, s.timeoutMs));
  if (!r.ok) return r.ret;
  if (r.value === "timeout") {
    s.err("Timed out waiting to disable takeover runs\n");
    return ETIME;
  }
  return r.value >= 0 ? 0 : 1;
}

export async function reloadips(s: Session, args: string[]): Promise<number> {
  if (args.length > 1) return s.usage("reloadips");
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  const chosen = await s.parseNodestring(args[0]);
  if (chosen === null) return 1;
  const connected = nodemap.filter((n) => (n.flags & NODE_FLAGS.DISCONNECTED) === 0).map((n) => n.pnn);
  const targets = chosen.filter((n) => (n.flags & NODE_FLAGS_INACTIVE) === 0).map((n) => n.pnn);
  if (connected.length === 0 || targets.length === 0) {
    s.err("Memory allocation error\n");
    return 1;
  }
  const off = await disableTakeoverRuns(s, connected, 2 * s.ctx.timeoutSec);
  if (off !== 0) {
    s.err("Failed to disable takeover runs\n");
    return off;
  }
  const results = await Promise.all(targets.map((p) => attempt(() => s.daemon.reloadPublicIps(p))));
  if (results.some((r) => !r.ok)) s.err("Failed to reload IPs on some nodes.\n");
  const on = await disableTakeoverRuns(s, connected, 0);
  if (on !== 0) {
    s.err("Failed to enable takeover runs\n");
    return on;
  }
  return ipreallocate(s);
}
