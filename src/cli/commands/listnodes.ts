/** `listnodes`: the nodes file of CTDB_BASE, no daemon needed. */
import { readFileSync } from "node:fs";
import { commandUsageText } from "../commands-table.ts";
import type { CliContext } from "../context.ts";
import { jsonText } from "../format/nodemap.ts";
import { formatListnodes, listnodesJson } from "../format/simple.ts";
import { parseToolNodesFile, type ToolNode } from "../nodesfile.ts";

/** Read and parse the nodes file; on failure print ctdb's messages and return null. */
export function readNodesFile(ctx: CliContext): ToolNode[] | null {
  // As ctdb: CTDB_BASE as given (even empty), else the configuration directory.
  const file = `${ctx.env["CTDB_BASE"] ?? "/etc/ctdb"}/nodes`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    ctx.stderr(`Failed to read nodes file "${file}"\n`);
    return null;
  }
  const parsed = parseToolNodesFile(text);
  if (!parsed.ok) {
    ctx.stderr(parsed.error);
    ctx.stderr(`Failed to read nodes file "${file}"\n`);
    return null;
  }
  return parsed.nodes;
}

export function listnodes(ctx: CliContext, args: string[]): number {
  if (args.length !== 0) {
    ctx.stdout(commandUsageText("listnodes"));
    return 1;
  }
  const nodes = readNodesFile(ctx);
  if (nodes === null) return 1;
  const mr = ctx.machineReadable;
  ctx.stdout(ctx.json ? jsonText(listnodesJson(nodes)) : formatListnodes(nodes, mr === null ? null : mr.separator));
  return 0;
}
