/** `recover`, `dumpmemory`, `rddumpmemory`. */
import type { Sleep } from "./nodectl.ts";
import { attempt, type Session } from "../session.ts";

const INVALID_GENERATION = 1;
const RECOVERY_ACTIVE = 1;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cluster's generation as the leader sees it, once the leader is out
 * of recovery and has a valid generation; polls once a second until then.
 */
export async function getGeneration(s: Session, sleep: Sleep): Promise<{ ok: true; value: number } | { ok: false; ret: number }> {
  for (;;) {
    const leader = await s.getLeader();
    const recmode = await attempt(() => s.daemon.getRecmode(leader));
    if (!recmode.ok) {
      s.err(`Failed to get recovery mode from node ${leader >>> 0}\n`);
      return recmode;
    }
    if (recmode.value === RECOVERY_ACTIVE) {
      await sleep(1000);
      continue;
    }
    const vnnmap = await attempt(() => s.daemon.getVnnmap(leader));
    if (!vnnmap.ok) {
      s.err(`Failed to get generation from node ${leader >>> 0}\n`);
      return vnnmap;
    }
    if (vnnmap.value.generation >>> 0 === INVALID_GENERATION) {
      await sleep(1000);
      continue;
    }
    return { ok: true, value: vnnmap.value.generation >>> 0 };
  }
}

/** Put the node into recovery and wait until the leader reports a new generation. */
export async function recover(s: Session, args: string[], sleep: Sleep = realSleep): Promise<number> {
  if (args.length !== 0) return s.usage("recover");
  const before = await getGeneration(s, sleep);
  if (!before.ok) return before.ret;
  const set = await attempt(() => s.daemon.setRecmode(s.cmdPnn, RECOVERY_ACTIVE));
  if (!set.ok) {
    s.err("Failed to set recovery mode active\n");
    return set.ret;
  }
  for (;;) {
    const next = await getGeneration(s, sleep);
    if (!next.ok) {
      s.err("Failed to confirm end of recovery\n");
      return next.ret;
    }
    if (next.value !== before.value) return 0;
    await sleep(1000);
  }
}

export async function dumpmemory(s: Session, _args: string[]): Promise<number> {
  const r = await attempt(() => s.daemon.dumpMemory(s.cmdPnn));
  if (!r.ok) return r.ret;
  s.out(r.value);
  return 0;
}

export async function rddumpmemory(s: Session, _args: string[]): Promise<number> {
  const dump = s.daemon.recoverdMemoryDump;
  if (dump === undefined) return 1;
  const data = await dump.call(s.daemon, s.cmdPnn);
  // The report is text up to its first NUL.
  const nul = data.indexOf(0);
  s.out(data.toString("utf8", 0, nul === -1 ? data.length : nul));
  return 0;
}
