/**
 * `reloadnodes`: check that every connected node has the same nodes file
 * as this one, say what changes (NEW / DELETED / UNDELETED nodes, refusing
 * address changes and deletion of connected nodes), then reload it on all
 * connected nodes with recoveries held off meanwhile.
 */
import { NODE_FLAGS } from "../format/common.ts";
import type { NodeEntry } from "../format/nodemap.ts";
import type { ToolNode } from "../nodesfile.ts";
import { attempt, type Session } from "../session.ts";
import { readNodesFile } from "./listnodes.ts";

const ETIME = 62;

export interface NodesFileCheck {
  ok: boolean;
  reload: boolean;
  /** Messages in ctdb's order, each for stdout or stderr. */
  messages: { stream: "out" | "err"; text: string }[];
}

function sameNodemap(a: readonly ToolNode[], b: readonly NodeEntry[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((n, i) => {
    const m = b[i]!;
    return n.pnn === m.pnn && (n.deleted ? NODE_FLAGS.DELETED : 0) === m.flags && n.address === m.address;
  });
}

/** Compare the running node map with the file's: what would a reload change, and is it allowed? Pure. */
export function checkNodesFileChanges(current: readonly NodeEntry[], file: readonly ToolNode[]): NodesFileCheck {
  const messages: NodesFileCheck["messages"] = [];
  const out = (text: string) => messages.push({ stream: "out", text });
  const err = (text: string) => messages.push({ stream: "err", text });
  let failed = false;
  let reload = false;
  for (let i = 0; i < current.length; i++) {
    const n = current[i]!;
    const f = file[i];
    if (f === undefined) {
      err(`Node ${n.pnn >>> 0} (${n.address}) missing from nodes file\n`);
      failed = true;
      continue;
    }
    const wasDeleted = (n.flags & NODE_FLAGS.DELETED) !== 0;
    if (wasDeleted && f.deleted) continue;
    if (!wasDeleted && !f.deleted) {
      if (n.address !== f.address) {
        err(`Node ${n.pnn >>> 0} has changed IP address (was ${n.address}, now ${f.address})\n`);
        failed = true;
      } else if ((n.flags & NODE_FLAGS.DISCONNECTED) !== 0) {
        err(`WARNING: Node ${n.pnn >>> 0} is disconnected. You MUST fix this node manually!\n`);
      }
      continue;
    }
    if (f.deleted) {
      out(`Node ${n.pnn >>> 0} is DELETED\n`);
      reload = true;
      if ((n.flags & NODE_FLAGS.DISCONNECTED) === 0) {
        err(`ERROR: Node ${n.pnn >>> 0} is still connected\n`);
        failed = true;
      }
      continue;
    }
    out(`Node ${n.pnn >>> 0} is UNDELETED\n`);
    reload = true;
  }
  if (failed) {
    err("ERROR: Nodes will not be reloaded due to previous error\n");
    return { ok: false, reload, messages };
  }
  for (let i = current.length; i < file.length; i++) {
    out(`Node ${file[i]!.pnn} is NEW\n`);
    reload = true;
  }
  return { ok: true, reload, messages };
}

export async function reloadnodes(s: Session, _args: string[]): Promise<number> {
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  const file = readNodesFile(s.ctx);
  if (file === null) return 1;
  for (const n of nodemap) {
    if ((n.flags & NODE_FLAGS.DISCONNECTED) !== 0) continue;
    const remote = await attempt(() => s.daemon.getNodesFile(n.pnn));
    if (!remote.ok) {
      s.err(`ERROR: Failed to get nodes file from node ${n.pnn >>> 0}\n`);
      return remote.ret;
    }
    if (!sameNodemap(file, remote.value)) {
      s.err(`ERROR: Nodes file on node ${n.pnn >>> 0} differs from current node (${s.pnn >>> 0})\n`);
      return 1;
    }
  }
  const check = checkNodesFileChanges(nodemap, file);
  for (const m of check.messages) {
    if (m.stream === "out") s.out(m.text);
    else s.err(m.text);
  }
  if (!check.ok) return 1;
  if (!check.reload) {
    s.err("No change in nodes file, skipping unnecessary reload\n");
    return 0;
  }
  const connected = nodemap.filter((n) => (n.flags & NODE_FLAGS.DISCONNECTED) === 0).map((n) => n.pnn);
  if (connected.length === 0) {
    s.err("Memory allocation error\n");
    return 1;
  }
  const disabled = await disableRecoveries(s, connected, 2 * s.ctx.timeoutSec);
  if (disabled !== 0) {
    s.err("Failed to disable recoveries\n");
    return disabled;
  }
  const results = await Promise.all(connected.map((p) => attempt(() => s.daemon.reloadNodesFile(p))));
  let anyFailed = false;
  results.forEach((r, i) => {
    if (!r.ok) {
      s.err(`Node ${connected[i]! >>> 0} failed to reload nodes\n`);
      anyFailed = true;
    }
  });
  if (anyFailed) s.err("You MUST fix failed nodes manually!\n");
  const enabled = await disableRecoveries(s, connected, 0);
  if (enabled !== 0) {
    s.err("Failed to enable recoveries\n");
    return enabled;
  }
  return 0;
}

async function disableRecoveries(s: Session, pnns: number[], timeoutSec: number): Promise<number> {
  const r = await attempt(() => s.daemon.disableRecoveries(pnns, timeoutSec, s.timeoutMs));
  if (!r.ok) return r.ret;
  if (r.value === "timeout") {
    s.err("Timed out waiting to disable recoveries\n");
    return ETIME;
  }
  return r.value >= 0 ? 0 : 1;
}
