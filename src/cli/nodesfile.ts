/**
 * The nodes file as the ctdb tool reads it (for `listnodes` and for finding
 * this node's PNN when the daemon is unreachable). It differs slightly from
 * the daemon's reader, so it lives here: lines end at '\n', a '\r' or NUL
 * ends a line early, trailing blank lines are dropped, spaces and tabs are
 * trimmed, blank lines are skipped without using a PNN, and a line starting
 * with '#' is a deleted node that keeps its PNN. Pure.
 */
import { formatIp, parseCtdbAddress } from "./ipaddr.ts";

export interface ToolNode {
  pnn: number;
  /** Address as inet_ntop prints it; "0.0.0.0" for deleted nodes. */
  address: string;
  deleted: boolean;
}

export type ToolNodesResult = { ok: true; nodes: ToolNode[] } | { ok: false; error: string };

export function parseToolNodesFile(text: string): ToolNodesResult {
  const lines = text.split("\n").map((l) => {
    const cut = l.search(/[\r\0]/);
    return cut === -1 ? l : l.slice(0, cut);
  });
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const nodes: ToolNode[] = [];
  for (const raw of lines) {
    let line = raw.replace(/^[ \t]+/, "");
    while (line.length > 1 && (line.endsWith(" ") || line.endsWith("\t"))) line = line.slice(0, -1);
    if (line.length === 0) continue;
    if (line.startsWith("#")) {
      nodes.push({ pnn: nodes.length, address: "0.0.0.0", deleted: true });
      continue;
    }
    const addr = parseCtdbAddress(line);
    if (addr === null) return { ok: false, error: `Invalid IP address ${line}\n` };
    nodes.push({ pnn: nodes.length, address: formatIp(addr), deleted: false });
  }
  return { ok: true, nodes };
}
