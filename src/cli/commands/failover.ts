/**
 * `tandem failover plan [--down N] [--disable N] [--unhealthy N] [--json]`
 * (each option repeatable): which public addresses would go where if those
 * nodes went down, were disabled or turned unhealthy, computed from the
 * live nodes' reports by the allocation core (failover/alloc/plan.ts).
 * Reads tunables from this node, and home_nodes from this node's CTDB_BASE
 * for the deterministic algorithm, as the leader would from its own.
 */
import { readHomeNodesFile } from "../../config/home-nodes.ts";
import { resolvePaths } from "../../config/paths.ts";
import { AllocInputError, type AllocOptions, IpAllocAlgorithm, type ReportedIp } from "../../failover/alloc/index.ts";
import { type Plan, planFailover, type WhatIfChange } from "../../failover/alloc/plan.ts";
import { Control, NodeFlag } from "../../protocol/constants.ts";
import { DaemonFailure } from "../daemon.ts";
import type { Session } from "../session.ts";

const USAGE = "Usage: tandem failover plan [--down PNN] [--disable PNN] [--unhealthy PNN] [--json]\n       tandem failover history [--json]\n";

const ALGORITHM_NAMES: Record<number, string> = {
  [IpAllocAlgorithm.DETERMINISTIC]: "deterministic",
  [IpAllocAlgorithm.NONDETERMINISTIC]: "non-deterministic",
  [IpAllocAlgorithm.LCP2]: "LCP2",
};

type Parsed = { ok: true; change: WhatIfChange; json: boolean } | { ok: false; message: string };

export function parsePlanArgs(args: readonly string[]): Parsed {
  const change = { down: [] as number[], disable: [] as number[], unhealthy: [] as number[] };
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--json") {
      json = true;
      continue;
    }
    const m = /^--(down|disable|unhealthy)(?:=(.*))?$/.exec(a);
    if (m === null) return { ok: false, message: `unknown option "${a}"` };
    const key = m[1] as "down" | "disable" | "unhealthy";
    const value = m[2] ?? args[++i];
    if (value === undefined || !/^[0-9]+$/.test(value)) return { ok: false, message: `--${key} needs a node number, not "${value ?? ""}"` };
    change[key].push(Number(value));
  }
  return { ok: true, change, json };
}

/** One control to one node; on failure, say which one and why the plan needs it. */
async function ask<T>(s: Session, what: string, pnn: number, from: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof DaemonFailure)) throw e;
    s.err(`failover plan: ${what} failed on node ${pnn} (ret=${e.ret}); the plan needs it from ${from}\n`);
    return undefined;
  }
}

function describeChange(change: WhatIfChange): string {
  const parts: string[] = [];
  const list = (pnns: readonly number[]) => (pnns.length === 1 ? `node ${pnns[0]}` : `nodes ${pnns.join(", ")}`);
  if (change.down.length > 0) parts.push(`${list(change.down)} down`);
  if (change.disable.length > 0) parts.push(`${list(change.disable)} disabled`);
  if (change.unhealthy.length > 0) parts.push(`${list(change.unhealthy)} unhealthy`);
  return parts.length === 0 ? "no change (the next takeover run)" : parts.join(", ");
}

export function formatPlan(plan: Plan, change: WhatIfChange, options: AllocOptions): string {
  let out = `What if: ${describeChange(change)}; algorithm ${ALGORITHM_NAMES[options.algorithm] ?? "LCP2"}\n`;
  if (plan.rows.length === 0) return `${out}No public addresses are configured on the nodes asked.\n`;
  if (!plan.canHost) out += "No node could host a public address: nothing would move.\n";
  const width = Math.max(9, ...plan.rows.map((r) => r.address.length));
  out += `${"Public IP".padEnd(width)}  Now  Planned\n`;
  let moves = 0;
  for (const r of plan.rows) {
    const note = r.now === r.planned ? "" : r.planned === -1 ? "  released" : r.now === -1 ? "  taken" : "  moves";
    if (note !== "") moves++;
    out += `${r.address.padEnd(width)}  ${String(r.now).padStart(3)}  ${String(r.planned).padStart(7)}${note}\n`;
  }
  return `${out}${moves} of ${plan.rows.length} addresses change hosts.\n`;
}

export async function failover(s: Session, args: string[]): Promise<number> {
  if (args[0] === "history") return (await import("./failover-history.ts")).failoverHistory(s, args.slice(1));
  if (args[0] !== "plan") {
    s.err(USAGE);
    return 1;
  }
  const parsed = parsePlanArgs(args.slice(1));
  if (!parsed.ok) {
    s.err(`failover plan: ${parsed.message}\n${USAGE}`);
    return 1;
  }
  const { change } = parsed;
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  for (const pnn of [...change.down, ...change.disable, ...change.unhealthy]) {
    if (!nodemap.some((n) => n.pnn === pnn)) {
      s.err(`failover plan: node ${pnn} does not exist\n`);
      return 1;
    }
  }

  const tunable = async (name: string) =>
    ask(s, `GET_TUNABLE ${name} (control ${Control.GET_TUNABLE})`, s.pnn, "this node", () => s.daemon.getTunable(s.pnn, name));
  const algorithm = await tunable("IPAllocAlgorithm");
  const noIpFailback = await tunable("NoIPFailback");
  const noIpTakeover = await tunable("NoIPTakeover");
  if (algorithm === undefined || noIpFailback === undefined || noIpTakeover === undefined) return 1;
  const options: AllocOptions = { algorithm, noIpFailback: noIpFailback !== 0, noIpTakeover: noIpTakeover !== 0 };
  if (algorithm === IpAllocAlgorithm.DETERMINISTIC) {
    const home = readHomeNodesFile(resolvePaths(s.ctx.env).etcdir);
    if (!home.ok) {
      s.err(`failover plan: ${home.message}\n`);
      return 1;
    }
    if (home.value !== undefined) options.homeNodes = home.value;
  }

  // As CTDB's takeover helper: known addresses from every connected node,
  // available ones from every active node that knows some.
  const known: (ReportedIp[] | undefined)[] = [];
  const available: (ReportedIp[] | undefined)[] = [];
  for (const n of nodemap) {
    if ((n.flags & NodeFlag.DISCONNECTED) !== 0) continue;
    const r = await ask(s, `GET_PUBLIC_IPS (control ${Control.GET_PUBLIC_IPS})`, n.pnn, "every connected node", () => s.daemon.getPublicIps(n.pnn));
    if (r === undefined) return 1;
    known[n.pnn] = r;
  }
  for (const n of nodemap) {
    if ((n.flags & NodeFlag.INACTIVE) !== 0 || (known[n.pnn]?.length ?? 0) === 0) continue;
    const what = `GET_PUBLIC_IPS available-only (control ${Control.GET_PUBLIC_IPS})`;
    const r = await ask(s, what, n.pnn, "every active node that lists addresses", () => s.daemon.getPublicIps(n.pnn, true));
    if (r === undefined) return 1;
    available[n.pnn] = r;
  }

  let plan: Plan;
  try {
    plan = planFailover({ nodes: nodemap.map((n) => ({ pnn: n.pnn, flags: n.flags })), known, available, options }, change);
  } catch (e) {
    if (!(e instanceof AllocInputError)) throw e;
    s.err(`failover plan: ${e.message}\n`);
    return 1;
  }
  if (parsed.json || s.ctx.json) {
    const doc = { whatIf: change, algorithm: ALGORITHM_NAMES[algorithm] ?? "LCP2", canHost: plan.canHost, addresses: plan.rows };
    s.out(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    s.out(formatPlan(plan, change, options));
  }
  return 0;
}
