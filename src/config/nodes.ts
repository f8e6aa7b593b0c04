// The nodes file, read as CTDB's common/ctdb_util.c ctdb_read_nodes_file
// reads it:
// - a line ends at '\n'; a '\r' ends the line's text early (Samba's
//   file_lines_load turns it into a string terminator);
// - leading and trailing spaces and tabs are stripped; an empty line is
//   skipped and does not use up a PNN;
// - a line starting with '#' is a DELETED node: it keeps its PNN, and its
//   address is 0.0.0.0 (there are no comments in this file);
// - otherwise the line is one IPv4 or IPv6 address literal ([brackets] and
//   IPv4-mapped IPv6 accepted as CTDB accepts them). Host names are refused.
// PNN is the index among the non-empty lines.
//
// CTDB does not notice the same address listed twice (a node would then
// take the first PNN as its own); we refuse it.

import { looksLikeHostname, parseIpLiteral } from "../net/ip.ts";
import { configError, type ConfigError, type Result } from "./result.ts";

export interface NodeEntry {
  pnn: number;
  /** Canonical address text as CTDB prints it; "0.0.0.0" for a deleted node. */
  address: string;
  deleted: boolean;
}

/** The line of each node, for messages of later checks (index = PNN). */
export interface NodesFileDetail {
  nodes: NodeEntry[];
  lines: number[];
}

export function parseNodesFileDetailed(text: string, file: string): Result<NodesFileDetail> {
  const nodes: NodeEntry[] = [];
  const lineOf: number[] = [];
  const errors: ConfigError[] = [];
  const seen = new Map<string, { pnn: number; line: number }>();
  const lines = text.split("\n");
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const cr = raw.indexOf("\r");
    const node = (cr === -1 ? raw : raw.slice(0, cr)).replace(/^[ \t]+/, "").replace(/[ \t]+$/, "");
    if (node === "") return;
    const pnn = nodes.length;
    if (node.startsWith("#")) {
      nodes.push({ pnn, address: "0.0.0.0", deleted: true });
      lineOf.push(lineNo);
      return;
    }
    const ip = parseIpLiteral(node);
    if (ip === undefined) {
      const why = looksLikeHostname(node) ? " (host names are not allowed, use an IP address)" : "";
      errors.push(configError(file, lineNo, `Invalid IP address ${node}${why}`));
      // Keep counting so that later PNNs in messages stay right.
      nodes.push({ pnn, address: node, deleted: false });
      lineOf.push(lineNo);
      return;
    }
    const prev = seen.get(ip.text);
    if (prev !== undefined) {
      errors.push(
        configError(file, lineNo, `duplicate node address ${ip.text} (already PNN ${prev.pnn} at line ${prev.line})`),
      );
    } else {
      seen.set(ip.text, { pnn, line: lineNo });
    }
    nodes.push({ pnn, address: ip.text, deleted: false });
    lineOf.push(lineNo);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { nodes, lines: lineOf } };
}

export function parseNodesFile(text: string, file: string): Result<NodeEntry[]> {
  const r = parseNodesFileDetailed(text, file);
  return r.ok ? { ok: true, value: r.value.nodes } : r;
}
