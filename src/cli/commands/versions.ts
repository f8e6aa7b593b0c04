/**
 * `tandem versions [--json]` (Tandem only): the transport version each node
 * speaks, as this node has heard it in their hellos. `status` stays exactly
 * ctdb's, so versions get their own command.
 */
import { CtdbClient } from "../../client/client.ts";
import { getNodemap, getTandemInfo } from "../../client/controls.ts";
import { resolvePaths } from "../../config/paths.ts";
import { CURRENT_NODE, NodeFlag } from "../../protocol/constants.ts";
import type { CliContext } from "../context.ts";

export async function versions(ctx: CliContext, args: string[]): Promise<number> {
  if (args.length !== 0) {
    ctx.stderr("Usage: tandem versions [--json]\n");
    return 1;
  }
  const socket = resolvePaths(ctx.env).ctdbdSocket;
  let client: CtdbClient;
  try {
    client = await CtdbClient.connect(socket, { timeoutMs: ctx.timeoutSec * 1000 });
  } catch {
    ctx.stderr(`Failed to connect to CTDB daemon (${socket})\n`);
    return 1;
  }
  try {
    const timeoutMs = ctx.timeoutSec * 1000;
    const map = await getNodemap(client, CURRENT_NODE, timeoutMs);
    const info = await getTandemInfo(client, CURRENT_NODE, timeoutMs);
    const rows = map.nodes
      .filter((n) => (n.flags & NodeFlag.DELETED) === 0)
      .map((n) => {
        if (n.pnn === client.pnn) return { pnn: n.pnn, address: n.addr, transport: info.transport, state: "this node" };
        const peer = info.peers.find((p) => p.pnn === n.pnn);
        if (peer === undefined) return { pnn: n.pnn, address: n.addr, transport: null, state: "not heard from" };
        return { pnn: n.pnn, address: n.addr, transport: peer.transport, state: peer.joined ? "joined" : "incompatible, not joined" };
      });
    if (ctx.json) ctx.stdout(`${JSON.stringify({ nodes: rows })}\n`);
    else for (const r of rows) ctx.stdout(`pnn:${r.pnn} ${r.address.padEnd(16)} transport ${r.transport ?? "-"} (${r.state})\n`);
    return 0;
  } catch (err) {
    ctx.stderr(`Failed to get versions: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}
