/**
 * When the daemon cannot be reached, ctdb says whether this machine is in
 * the cluster at all: it reads the nodes file and looks for one of the
 * node addresses among the local interface addresses.
 */
import { networkInterfaces } from "node:os";
import { readNodesFile } from "./commands/listnodes.ts";
import type { CliContext } from "./context.ts";
import { formatIp, parseCtdbAddress } from "./ipaddr.ts";

/** The local addresses in ctdb's canonical text form. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const text = a.address.replace(/%.*$/, "");
      const parsed = parseCtdbAddress(text);
      if (parsed !== null) out.add(formatIp(parsed));
    }
  }
  return out;
}

/** This node's PNN from the nodes file, or null after printing ctdb's messages. */
export function findOwnPnn(ctx: CliContext, local: Set<string> = localAddresses()): number | null {
  const nodes = readNodesFile(ctx);
  if (nodes === null) return null;
  for (const n of nodes) {
    if (!n.deleted && local.has(n.address)) return n.pnn;
  }
  ctx.stderr("Failed to detect PNN of the current node.\n");
  return null;
}
