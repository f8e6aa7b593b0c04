// $CTDB_BASE/home_nodes (CTDB 4.20+, deterministic allocation only): lines
// `IP PNN`, fields separated by spaces or tabs; a line with fewer than two
// fields is skipped, further fields are ignored. CTDB drops the whole file
// when a line is malformed (and allocates as if it were absent); we report
// every such line instead.

import { readFileSync } from "node:fs";
import { parseIpLiteral } from "../net/ip.ts";
import { configError, type ConfigError, fail, formatConfigError, ok, type Result } from "./result.ts";

export interface HomeNode {
  address: string;
  pnn: number;
}

export function parseHomeNodes(text: string, file: string): Result<HomeNode[]> {
  const out: HomeNode[] = [];
  const errors: ConfigError[] = [];
  text.split("\n").forEach((line, idx) => {
    const [addr, node] = line.split(/[ \t]+/).filter((f) => f !== "");
    if (addr === undefined || node === undefined) return;
    const ip = parseIpLiteral(addr);
    if (ip === undefined) {
      errors.push(configError(file, idx + 1, `bad address "${addr}"`));
      return;
    }
    if (!/^[0-9]+$/.test(node) || Number(node) > 0xffffffff) {
      errors.push(configError(file, idx + 1, `bad node number "${node}"`));
      return;
    }
    out.push({ address: ip.text, pnn: Number(node) });
  });
  return errors.length > 0 ? fail(errors) : ok(out);
}

/**
 * Read `<etcdir>/home_nodes`: undefined when there is none, else its
 * entries, or the problems as one message.
 */
export function readHomeNodesFile(etcdir: string): { ok: true; value: HomeNode[] | undefined } | { ok: false; message: string } {
  const file = `${etcdir}/home_nodes`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, value: undefined };
    return { ok: false, message: `${file}: ${(e as Error).message}` };
  }
  const parsed = parseHomeNodes(text, file);
  return parsed.ok ? parsed : { ok: false, message: parsed.errors.map(formatConfigError).join("\n") };
}
