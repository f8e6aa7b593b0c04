/**
 * `status` and `nodestatus` output: the node list (plain, -X/-Y/-x, JSON),
 * the vnnmap / recovery mode / leader tail of `status`, and the nodestatus
 * exit code. Pure: the command shell gathers the data.
 */
import {
  INVALID_GENERATION,
  NODE_FLAGS,
  NODE_FLAGS_INACTIVE,
  RUNSTATE_FIRST_RECOVERY,
  flagNames,
  pnnText,
  prettyFlags,
} from "./common.ts";

export interface NodeEntry {
  pnn: number;
  address: string;
  flags: number;
}

/** A node as displayed: flags after the UNKNOWN rule, and whether some (not all) of its interfaces are down. */
export interface ShownNode extends NodeEntry {
  partiallyOnline: boolean;
}

/**
 * Until the queried node has passed FIRST_RECOVERY its view of other
 * connected nodes may be stale, so ctdb shows those as UNKNOWN (and only
 * that flag). Deleted and disconnected nodes, and the queried node itself,
 * keep their flags.
 */
export function applyUnknown(nodes: readonly NodeEntry[], runstate: number, cmdPnn: number): NodeEntry[] {
  return nodes.map((n) => {
    if ((n.flags & NODE_FLAGS.DELETED) !== 0) return { ...n };
    if (runstate <= RUNSTATE_FIRST_RECOVERY && (n.flags & NODE_FLAGS.DISCONNECTED) === 0 && n.pnn !== cmdPnn) {
      return { ...n, flags: NODE_FLAGS.UNKNOWN };
    }
    return { ...n };
  });
}

/** ctdb asks for interfaces only of nodes whose flags are all clear. */
export function needsIfaceCheck(n: NodeEntry): boolean {
  return n.flags === 0;
}

/** Some interface has its link down (only meaningful for nodes with no flags). */
export function partiallyOnline(n: NodeEntry, linkStates: readonly number[] | null): boolean {
  if (n.flags !== 0 || linkStates === null) return false;
  return linkStates.some((s) => s === 0);
}

export function formatNodemapMachine(nodes: readonly ShownNode[], cmdPnn: number, sep: string): string {
  const header = ["Node", "IP", "Disconnected", "Unknown", "Banned", "Disabled", "Unhealthy", "Stopped", "Inactive", "PartiallyOnline", "ThisNode"];
  let out = sep + header.join(sep) + sep + "\n";
  const bit = (flags: number, mask: number) => ((flags & mask) !== 0 ? "1" : "0");
  for (const n of nodes) {
    if ((n.flags & NODE_FLAGS.DELETED) !== 0) continue;
    const f = n.flags;
    const cols = [
      String(n.pnn >>> 0),
      n.address,
      bit(f, NODE_FLAGS.DISCONNECTED),
      bit(f, NODE_FLAGS.UNKNOWN),
      bit(f, NODE_FLAGS.BANNED),
      bit(f, NODE_FLAGS.PERMANENTLY_DISABLED),
      bit(f, NODE_FLAGS.UNHEALTHY),
      bit(f, NODE_FLAGS.STOPPED),
      bit(f, NODE_FLAGS_INACTIVE),
      n.partiallyOnline ? "1" : "0",
      n.pnn === cmdPnn ? "Y" : "N",
    ];
    out += sep + cols.join(sep) + sep + "\n";
  }
  return out;
}

export function formatNodemap(nodes: readonly ShownNode[], cmdPnn: number, printHeader: boolean): string {
  let out = "";
  if (printHeader) {
    const deleted = nodes.filter((n) => (n.flags & NODE_FLAGS.DELETED) !== 0).length;
    out +=
      deleted === 0
        ? `Number of nodes:${nodes.length}\n`
        : `Number of nodes:${nodes.length} (including ${deleted} deleted nodes)\n`;
  }
  for (const n of nodes) {
    if ((n.flags & NODE_FLAGS.DELETED) !== 0) continue;
    const state = n.partiallyOnline ? "PARTIALLYONLINE" : prettyFlags(n.flags);
    out += `pnn:${n.pnn >>> 0} ${n.address.padEnd(16)} ${state}${n.pnn === cmdPnn ? " (THIS NODE)" : ""}\n`;
  }
  return out;
}

export interface StatusTail {
  generation: number;
  vnnmap: readonly number[];
  recmode: number;
  leader: number;
}

export function formatStatus(nodes: readonly ShownNode[], cmdPnn: number, tail: StatusTail): string {
  let out = formatNodemap(nodes, cmdPnn, true);
  out += tail.generation >>> 0 === INVALID_GENERATION ? "Generation:INVALID\n" : `Generation:${tail.generation >>> 0}\n`;
  out += `Size:${tail.vnnmap.length}\n`;
  tail.vnnmap.forEach((lmaster, hash) => {
    out += `hash:${hash} lmaster:${lmaster | 0}\n`;
  });
  out += `Recovery mode:${tail.recmode === 0 ? "NORMAL" : "RECOVERY"} (${tail.recmode})\n`;
  out += `Leader:${pnnText(tail.leader)}\n`;
  return out;
}

/** nodestatus exits with the OR of the shown (non-deleted) nodes' flags. */
export function nodestatusExitCode(nodes: readonly NodeEntry[]): number {
  let rc = 0;
  for (const n of nodes) if ((n.flags & NODE_FLAGS.DELETED) === 0) rc |= n.flags;
  return rc;
}

function nodeJson(n: ShownNode, cmdPnn: number) {
  return {
    pnn: n.pnn >>> 0,
    address: n.address,
    flags: n.flags,
    state: n.partiallyOnline ? "PARTIALLYONLINE" : prettyFlags(n.flags),
    flagNames: flagNames(n.flags),
    partiallyOnline: n.partiallyOnline,
    thisNode: n.pnn === cmdPnn,
  };
}

export function nodemapJson(nodes: readonly ShownNode[], cmdPnn: number): object {
  return {
    nodes: nodes.filter((n) => (n.flags & NODE_FLAGS.DELETED) === 0).map((n) => nodeJson(n, cmdPnn)),
    deletedNodes: nodes.filter((n) => (n.flags & NODE_FLAGS.DELETED) !== 0).length,
  };
}

export function statusJson(nodes: readonly ShownNode[], cmdPnn: number, tail: StatusTail): object {
  return {
    ...nodemapJson(nodes, cmdPnn),
    generation: tail.generation >>> 0 === INVALID_GENERATION ? null : tail.generation >>> 0,
    vnnmap: tail.vnnmap.map((lmaster, hash) => ({ hash, lmaster })),
    recoveryMode: tail.recmode === 0 ? "NORMAL" : "RECOVERY",
    recoveryModeValue: tail.recmode,
    leader: tail.leader >>> 0 === 0xffffffff ? null : tail.leader >>> 0,
  };
}

/** One JSON document per command, on one line. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value) + "\n";
}
