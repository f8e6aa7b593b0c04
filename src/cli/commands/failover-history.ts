/**
 * `tandem failover history [--json]` (Tandem only, beside `failover plan`): the leader's last
 * takeover runs — what triggered each and when, when each node acknowledged
 * startipreallocate, when each address was released and taken, and when each
 * node announced its addresses (gratuitous ARPs and tickle ACKs).
 */
import { CtdbClient } from "../../client/client.ts";
import { resolvePaths } from "../../config/paths.ts";
import type { RunRecord } from "../../failover/coordinator.ts";
import { CONTROL_TANDEM_FAILOVER_HISTORY, CURRENT_NODE, UNKNOWN_PNN } from "../../protocol/constants.ts";
import { decodeString } from "../../protocol/types.ts";
import type { Session } from "../session.ts";

const USAGE = "Usage: tandem failover history [--json]\n";

function ms(t: number, base: number): string {
  return `+${Math.round(t - base)}ms`;
}

/** One run as text; times relative to when its trigger was seen. */
export function formatRun(r: RunRecord): string {
  const base = r.triggeredMs;
  const lines = [
    `Run ${r.run} on leader ${r.leader}: ${r.result}${r.error === undefined ? "" : ` (${r.error})`}`,
    `  triggered: ${r.reasons.join("; ")}`,
    `  started ${ms(r.startedMs, base)}, finished ${r.finishedMs === undefined ? "-" : ms(r.finishedMs, base)}${r.grace ? "" : ", no address moved (no grace)"}`,
  ];
  for (const a of r.startAcks) lines.push(`  node ${a.pnn} acknowledged startipreallocate ${ms(a.ms, base)}`);
  for (const a of r.released) lines.push(`  node ${a.pnn} released ${a.address} ${ms(a.ms, base)}`);
  for (const a of r.taken) lines.push(`  node ${a.pnn} took ${a.address} ${ms(a.ms, base)}`);
  for (const a of r.announced) lines.push(`  node ${a.pnn} announced its addresses ${ms(a.ms, base)}`);
  return `${lines.join("\n")}\n`;
}

/** `args` follow the word "history"; the family takes its arguments verbatim. */
export async function failoverHistory(s: Session, args: string[]): Promise<number> {
  const ctx = s.ctx;
  if (args.some((a) => a !== "--json")) {
    ctx.stderr(USAGE);
    return 1;
  }
  const json = ctx.json || args.includes("--json");
  const socket = resolvePaths(ctx.env).ctdbdSocket;
  let client: CtdbClient;
  try {
    client = await CtdbClient.connect(socket, { timeoutMs: ctx.timeoutSec * 1000 });
  } catch {
    ctx.stderr(`Failed to connect to CTDB daemon (${socket})\n`);
    return 1;
  }
  try {
    const leader = await client.waitForLeader(ctx.timeoutSec * 1000).catch(() => UNKNOWN_PNN);
    const dest = leader === UNKNOWN_PNN ? CURRENT_NODE : leader;
    const r = await client.control(dest, CONTROL_TANDEM_FAILOVER_HISTORY, Buffer.alloc(0), { timeoutMs: ctx.timeoutSec * 1000 });
    if (r.status !== 0) {
      ctx.stderr(`Failed to get the failover history: ${r.errmsg}\n`);
      return 1;
    }
    const runs = JSON.parse(decodeString(r.data)) as RunRecord[];
    if (json) ctx.stdout(`${JSON.stringify(runs, null, 2)}\n`);
    else ctx.stdout(runs.length === 0 ? "No takeover runs yet\n" : runs.map(formatRun).join(""));
    return 0;
  } catch (e) {
    ctx.stderr(`Failed to get the failover history: ${(e as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}
