// Waiting for a cluster to be usable: every node connected with no flags set,
// a leader known, and (optionally) that leader a particular node or not one.

import { CtdbClient } from "../client/client.ts";
import { getNodemap } from "../client/controls.ts";
import { CURRENT_NODE, UNKNOWN_PNN } from "../protocol/constants.ts";
import { sleep } from "./cluster.ts";

export interface ClusterView {
  flags: number[];
  leader: number;
}

/** One look at the cluster through one node's socket; undefined if it does not answer. */
export async function observe(socket: string, timeoutMs = 1000): Promise<ClusterView | undefined> {
  let client: CtdbClient | undefined;
  try {
    client = await CtdbClient.connect(socket, { timeoutMs });
    const map = await getNodemap(client, CURRENT_NODE, timeoutMs);
    const leader = await client.waitForLeader(timeoutMs);
    return { flags: map.nodes.map((n) => n.flags), leader };
  } catch {
    return undefined;
  } finally {
    client?.close();
  }
}

export async function waitUntil(
  socket: string,
  accept: (view: ClusterView) => boolean,
  timeoutMs: number,
  pollMs = 50,
): Promise<ClusterView | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await observe(socket, Math.min(1000, Math.max(100, deadline - Date.now())));
    if (view !== undefined && accept(view)) return view;
    if (Date.now() >= deadline) return undefined;
    await sleep(pollMs);
  }
}

export const allHealthy = (view: ClusterView) => view.leader !== UNKNOWN_PNN && view.flags.every((f) => f === 0);
