// The services a node runs beside the cluster: the event scripts, their socket
// and the monitor loop. Wired in once the event component lands.

import type { NodeConfig } from "../config/load.ts";
import type { Log } from "./logger.ts";
import type { Node, NodeHooks } from "./node.ts";

export async function startServices(_node: Node, _config: NodeConfig, _log: Log): Promise<NodeHooks> {
  return { runEvent: async () => 0, running: () => {}, stopping: async () => {} };
}
