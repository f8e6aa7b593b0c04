/**
 * `tandem ipalloc NODESTATES [multi]`: offline what-if of the public IP
 * allocation, with the inputs and output of CTDB's allocator test program
 * (see failover/alloc/whatif.ts). Reads $CTDB_BASE/home_nodes for the
 * deterministic algorithm, as newer CTDB does.
 */
import { readHomeNodesFile } from "../../config/home-nodes.ts";
import { resolvePaths } from "../../config/paths.ts";
import { AllocInputError, allocate, type HomeNode } from "../../failover/alloc/index.ts";
import { formatAllocation, parseWhatIf } from "../../failover/alloc/whatif.ts";
import type { CliContext } from "../context.ts";

const USAGE = "Usage: tandem ipalloc NODESTATES [multi] < IP-LINES\n";

export async function ipalloc(ctx: CliContext, args: string[], readStdin: () => Promise<string>): Promise<number> {
  const [nodestates, mode, ...extra] = args;
  if (nodestates === undefined || extra.length > 0 || (mode !== undefined && mode !== "multi")) {
    ctx.stderr(USAGE);
    return 1;
  }
  let home: HomeNode[] | undefined;
  if (ctx.env.CTDB_IP_ALGORITHM === "det") {
    const h = readHomeNodesFile(resolvePaths(ctx.env).etcdir);
    if (!h.ok) {
      ctx.stderr(`tandem ipalloc: ${h.message}\n`);
      return 1;
    }
    home = h.value;
  }
  const w = parseWhatIf(nodestates, mode === "multi", ctx.env, await readStdin(), home);
  if (!w.ok) {
    ctx.stderr(`tandem ipalloc: ${w.message}\n`);
    return 1;
  }
  try {
    ctx.stdout(formatAllocation(allocate(w.value.nodes, w.value.addresses, w.value.options)));
  } catch (e) {
    if (!(e instanceof AllocInputError)) throw e;
    ctx.stderr(`tandem ipalloc: ${e.message}\n`);
    return 1;
  }
  return 0;
}
