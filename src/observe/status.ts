// What the status page and `/status.json` show, built from a snapshot of the
// node's own state; and the timeline of changes between two snapshots. Pure:
// the HTTP shell gathers the input and serves the result.

import { flagNames, prettyFlags, runstateToString, UNKNOWN_PNN } from "../cli/format/common.ts";
import type { EventStatus } from "../event/api.ts";

export interface StatusInput {
  pnn: number;
  nowMs: number;
  startedMs: number;
  nodes: readonly { pnn: number; address: string; flags: number }[];
  leader: number;
  generation: number;
  recoveryMode: number;
  runstate: number;
  lock: { description: string; held: boolean } | null;
  /** Last completed run of each event (CTDB's "legacy" component). */
  events: ReadonlyMap<string, EventStatus>;
  /** Public addresses and the node hosting each (-1: none). */
  addresses: readonly { address: string; pnn: number }[];
  /** Takeover runs this node coordinated (the leader keeps them), oldest first. */
  takeovers?: readonly TakeoverRecord[];
}

/** A takeover run as the failover coordinator records it; times on the monotonic clock. */
export interface TakeoverRecord {
  run: number;
  leader: number;
  reasons: readonly string[];
  startedMs: number;
  finishedMs: number | undefined;
  result: "running" | "ok" | "failed" | "aborted";
  error: string | undefined;
  released: readonly { address: string; pnn: number; ms: number }[];
  taken: readonly { address: string; pnn: number; ms: number }[];
}

export interface TakeoverDoc {
  run: number;
  result: string;
  reasons: string[];
  startedMs: number;
  durationMs: number | null;
  error: string | null;
  /** What moved, in order, each step at its offset from the run's start. */
  steps: { afterMs: number; text: string }[];
}

export interface NodeDoc {
  pnn: number;
  address: string;
  /** As `ctdb status` prints it: OK, or flags joined by "|". */
  state: string;
  flags: string[];
  leader: boolean;
  thisNode: boolean;
}

export interface ScriptDoc {
  name: string;
  result: number;
  status: string;
  durationMs: number;
  output: string;
}

export interface EventDoc {
  event: string;
  status: string;
  summary: number;
  finishedMs: number;
  durationMs: number;
  scripts: ScriptDoc[];
}

export interface TimelineEntry {
  atMs: number;
  text: string;
}

export interface StatusDoc {
  pnn: number;
  nowMs: number;
  uptimeSec: number;
  leader: number | null;
  generation: number;
  recoveryMode: "NORMAL" | "RECOVERY";
  runstate: string;
  lock: { description: string; held: boolean } | null;
  nodes: NodeDoc[];
  addresses: { address: string; pnn: number | null }[];
  events: EventDoc[];
  takeovers: TakeoverDoc[];
  timeline: TimelineEntry[];
}

const ETIMEDOUT = 110;
const ECANCELED = 125;
const ENOEXEC = 8;

/** A script's or event's result code as a word, after CTDB's scriptstatus. */
export function resultName(result: number): "OK" | "ERROR" | "TIMEDOUT" | "CANCELLED" | "DISABLED" {
  if (result === 0) return "OK";
  if (result === -ETIMEDOUT) return "TIMEDOUT";
  if (result === -ECANCELED) return "CANCELLED";
  if (result === -ENOEXEC) return "DISABLED";
  return "ERROR";
}

/** The events in the order a node meets them; others after, by name. */
const EVENT_ORDER = ["init", "setup", "startup", "monitor", "startrecovery", "recovered", "takeip", "releaseip", "updateip", "ipreallocated", "shutdown"];

function eventRank(name: string): number {
  const i = EVENT_ORDER.indexOf(name);
  return i === -1 ? EVENT_ORDER.length : i;
}

/**
 * The last `keep` runs, newest first, with wall-clock start times:
 * `wallOffsetMs` turns the monotonic clock into epoch milliseconds.
 */
export function takeoverDocs(records: readonly TakeoverRecord[], wallOffsetMs: number, keep = 5): TakeoverDoc[] {
  return records
    .slice(-keep)
    .reverse()
    .map((r) => {
      const steps = [
        ...r.released.map((x) => ({ afterMs: x.ms - r.startedMs, text: `${x.address} released by node ${x.pnn}` })),
        ...r.taken.map((x) => ({ afterMs: x.ms - r.startedMs, text: `${x.address} taken by node ${x.pnn}` })),
      ].sort((a, b) => a.afterMs - b.afterMs);
      return {
        run: r.run,
        result: r.result.toUpperCase(),
        reasons: [...r.reasons],
        startedMs: r.startedMs + wallOffsetMs,
        durationMs: r.finishedMs === undefined ? null : r.finishedMs - r.startedMs,
        error: r.error ?? null,
        steps: steps.map((x) => ({ afterMs: Math.max(0, Math.round(x.afterMs * 10) / 10), text: x.text })),
      };
    });
}

/** Runs finished after run `lastSeen` (run numbers grow), for counting each once. */
export function finishedSince(records: readonly TakeoverRecord[], lastSeen: number): TakeoverRecord[] {
  return records.filter((r) => r.run > lastSeen && r.result !== "running" && r.finishedMs !== undefined);
}

export function statusDoc(input: StatusInput, timeline: readonly TimelineEntry[] = [], wallOffsetMs = 0): StatusDoc {
  const leader = input.leader === UNKNOWN_PNN ? null : input.leader;
  const events = [...input.events.entries()]
    .sort(([a], [b]) => eventRank(a) - eventRank(b) || a.localeCompare(b))
    .map(([event, s]): EventDoc => {
      const begin = Math.min(...s.scripts.map((x) => x.beginMs));
      const end = Math.max(...s.scripts.map((x) => x.endMs));
      return {
        event,
        status: resultName(s.summary),
        summary: s.summary,
        finishedMs: s.scripts.length === 0 ? 0 : end,
        durationMs: s.scripts.length === 0 ? 0 : Math.max(0, end - begin),
        scripts: s.scripts.map((x) => ({
          name: x.name,
          result: x.result,
          status: resultName(x.result),
          durationMs: Math.max(0, x.endMs - x.beginMs),
          output: x.output,
        })),
      };
    });
  return {
    pnn: input.pnn,
    nowMs: input.nowMs,
    uptimeSec: Math.max(0, Math.floor((input.nowMs - input.startedMs) / 1000)),
    leader,
    generation: input.generation,
    recoveryMode: input.recoveryMode === 0 ? "NORMAL" : "RECOVERY",
    runstate: runstateToString(input.runstate),
    lock: input.lock,
    nodes: input.nodes.map((n) => ({
      pnn: n.pnn,
      address: n.address,
      state: prettyFlags(n.flags),
      flags: flagNames(n.flags),
      leader: n.pnn === leader,
      thisNode: n.pnn === input.pnn,
    })),
    addresses: input.addresses.map((a) => ({ address: a.address, pnn: a.pnn < 0 ? null : a.pnn })),
    events,
    takeovers: takeoverDocs(input.takeovers ?? [], wallOffsetMs),
    timeline: [...timeline],
  };
}

const who = (pnn: number | null) => (pnn === null ? "none" : `node ${pnn}`);

/** What changed from `prev` to `next`, in words, stamped with next's time. */
export function changes(prev: StatusDoc | undefined, next: StatusDoc): TimelineEntry[] {
  if (prev === undefined) return [];
  const at = next.nowMs;
  const out: TimelineEntry[] = [];
  if (prev.leader !== next.leader) out.push({ atMs: at, text: `Leader: ${who(prev.leader)} → ${who(next.leader)}` });
  for (const n of next.nodes) {
    const before = prev.nodes.find((p) => p.pnn === n.pnn);
    if (before !== undefined && before.state !== n.state) out.push({ atMs: at, text: `Node ${n.pnn}: ${before.state} → ${n.state}` });
  }
  if (prev.generation !== next.generation) out.push({ atMs: at, text: `Recovery: generation ${next.generation}` });
  if (prev.runstate !== next.runstate) out.push({ atMs: at, text: `This node: ${prev.runstate} → ${next.runstate}` });
  for (const a of next.addresses) {
    const before = prev.addresses.find((p) => p.address === a.address);
    if (before !== undefined && before.pnn !== a.pnn) out.push({ atMs: at, text: `${a.address}: ${who(before.pnn)} → ${who(a.pnn)}` });
  }
  return out;
}

/** The timeline keeps the newest entries, newest last. */
export function appendTimeline(timeline: readonly TimelineEntry[], added: readonly TimelineEntry[], keep = 50): TimelineEntry[] {
  const all = [...timeline, ...added];
  return all.length > keep ? all.slice(all.length - keep) : all;
}
