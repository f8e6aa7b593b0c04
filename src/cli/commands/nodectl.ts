/**
 * `disable`, `enable`, `stop`, `continue` and `shutdown`. The first four
 * do nothing (with a note on stderr) when the node is already in the wanted
 * state; otherwise they send the control, poll the node map once a second
 * until the flag has changed, and then ask for a takeover run, as ctdb does.
 */
import { NODE_FLAGS } from "../format/common.ts";
import type { Daemon } from "../daemon.ts";
import { attempt, type Session } from "../session.ts";

import { smbStrtoul } from "../args.ts";

interface FlagChange {
  command: string;
  /** Word in "Node N is already X" / "Node N is not X". */
  desc: string;
  flag: number;
  set: boolean;
  control: (d: Daemon, dest: number, args: string[]) => Promise<void>;
  failure: string;
  /** Arguments the command takes. */
  argc: number;
  /** Checked after the no-op test; a number is the exit code. */
  check?: (s: Session, args: string[]) => number | undefined;
}

const CHANGES: Record<string, FlagChange> = {
  disable: {
    command: "disable",
    desc: "disabled",
    flag: NODE_FLAGS.PERMANENTLY_DISABLED,
    set: true,
    control: (d, n) => d.disableNode(n),
    failure: "Failed to disable node",
    argc: 0,
  },
  enable: {
    command: "enable",
    desc: "disabled",
    flag: NODE_FLAGS.PERMANENTLY_DISABLED,
    set: false,
    control: (d, n) => d.enableNode(n),
    failure: "Failed to enable node",
    argc: 0,
  },
  stop: {
    command: "stop",
    desc: "stopped",
    flag: NODE_FLAGS.STOPPED,
    set: true,
    control: (d, n) => d.stopNode(n),
    failure: "Failed to stop node",
    argc: 0,
  },
  continue: {
    command: "continue",
    desc: "stopped",
    flag: NODE_FLAGS.STOPPED,
    set: false,
    control: (d, n) => d.continueNode(n),
    failure: "Failed to continue stopped node",
    argc: 0,
  },
  ban: {
    command: "ban",
    desc: "banned",
    flag: NODE_FLAGS.BANNED,
    set: true,
    control: (d, n, args) => d.setBanState(n, n, banSeconds(args)),
    failure: "Failed to ban node",
    argc: 1,
    check: (s, args) => {
      const r = smbStrtoul(args[0]!);
      // ctdb exits with the conversion's errno, silently.
      if (!r.ok) return r.errno;
      if (BigInt.asUintN(32, r.value) === 0n) {
        s.err("Ban time cannot be zero\n");
        return 22;
      }
      return undefined;
    },
  },
  unban: {
    command: "unban",
    desc: "banned",
    flag: NODE_FLAGS.BANNED,
    set: false,
    control: (d, n) => d.setBanState(n, n, 0),
    failure: "Failed to unban node",
    argc: 0,
  },
};

function banSeconds(args: string[]): number {
  const r = smbStrtoul(args[0] ?? "");
  return r.ok ? Number(BigInt.asUintN(32, r.value)) : 0;
}

export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function flagOf(nodemap: readonly { pnn: number; flags: number }[], pnn: number): number {
  return nodemap.find((n) => n.pnn === pnn)?.flags ?? 0;
}

export async function changeFlag(s: Session, which: string, args: string[], sleep: Sleep = realSleep): Promise<number> {
  const c = CHANGES[which]!;
  if (args.length !== c.argc) return s.usage(c.command);
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  const isSet = (flagOf(nodemap, s.cmdPnn) & c.flag) !== 0;
  if (isSet === c.set) {
    s.err(c.set ? `Node ${s.cmdPnn >>> 0} is already ${c.desc}\n` : `Node ${s.cmdPnn >>> 0} is not ${c.desc}\n`);
    return 0;
  }
  const bad = c.check?.(s, args);
  if (bad !== undefined) return bad;
  const r = await attempt(() => c.control(s.daemon, s.cmdPnn, args));
  if (!r.ok) {
    s.err(`${c.failure} ${s.cmdPnn >>> 0}\n`);
    return r.ret;
  }
  for (;;) {
    const m = await s.getNodemap(true);
    if (m === null) {
      s.err("Failed to get nodemap, trying again\n");
      await sleep(1000);
      continue;
    }
    if (((flagOf(m, s.cmdPnn) & c.flag) !== 0) === c.set) break;
    await sleep(1000);
  }
  return ipreallocate(s);
}

/** Ask for a takeover run and wait for its result, asking again after each -t timeout. */
export async function ipreallocate(s: Session): Promise<number> {
  const run = s.daemon.takeoverRun;
  if (run === undefined) return 0;
  for (;;) {
    const r = await attempt(() => run.call(s.daemon, s.timeoutMs));
    if (!r.ok) return r.ret;
    if (r.value === "timeout") continue;
    return Math.min(r.value, 0);
  }
}

export async function shutdown(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("shutdown");
  const local = s.pnn === s.cmdPnn;
  const gone = local && s.daemon.disconnected !== undefined ? s.daemon.disconnected() : null;
  const r = await attempt(() => s.daemon.shutdown(s.cmdPnn));
  if (!r.ok) {
    s.err(`Unable to shutdown node ${s.cmdPnn >>> 0}\n`);
    return r.ret;
  }
  if (gone !== null) await gone;
  return 0;
}
