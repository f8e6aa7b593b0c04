// `tandem doctor`'s judgements: each check is a pure function from facts
// gathered about the cluster (gather.ts does the looking) to findings in plain
// words, each naming the file or node it is about.

export type Severity = "error" | "warning" | "note";

export interface Finding {
  check: string;
  severity: Severity;
  /** The file or node the finding is about. */
  subject: string;
  message: string;
}

export interface NodesEntryFact {
  pnn: number;
  address: string;
  deleted: boolean;
}

export interface NodeFacts {
  pnn: number;
  address: string;
  /** Why this node could not be asked; its other facts are then absent. */
  unreachable?: string;
  nodesFile?: NodesEntryFact[];
  tunables?: Record<string, number>;
  /** That node's clock minus ours, and the round trip the question took. */
  clock?: { offsetMs: number; rttMs: number };
  /** Tandem's own facts (absent from a daemon that is not Tandem). */
  info?: { sharedKey: boolean; transport: string };
}

export type ProbeOutcome = "held" | "contended" | "timeout" | "error";

export interface LockFacts {
  /** `[cluster] cluster lock`, undefined when none is set. */
  setting: string | undefined;
  requireMajority: boolean;
  /** Two processes of this host racing for the lock, one after the other, the first still holding. */
  probe?: { first: ProbeOutcome; second?: ProbeOutcome; reason?: string };
  /** The leader the cluster reports (undefined: none). */
  leader: number | undefined;
  /** How often the lock holder checks it still holds the lock, in seconds (undefined: not known). */
  recheckSec: number | undefined;
  leaderTimeoutSec: number;
}

export interface PublicAddressFact {
  address: string;
  prefix: number;
  family: 4 | 6;
  interfaces: string[];
}

export interface ScriptFact {
  file: string;
  executable: boolean;
  /** The #! line's program, undefined when the script has none. */
  interpreter?: string;
  /** Whether that program exists and may be executed. */
  interpreterOk?: boolean;
}

export interface Facts {
  nodesFilePath: string;
  localNodes: NodesEntryFact[];
  /** Problems reading this host's configuration, already worded. */
  configErrors: { file: string; message: string }[];
  lock: LockFacts;
  nodes: NodeFacts[];
  publicAddressesFile: string;
  publicAddresses: PublicAddressFact[];
  /** Network interfaces of this host. */
  hostInterfaces: string[];
  scriptDir: string;
  scripts: ScriptFact[];
  /** This host's Tandem settings. */
  localSharedKey: boolean;
  tandemConfFile: string;
}

const nodeName = (n: { pnn: number; address: string }) => `node ${n.pnn} (${n.address})`;
const list = (pnns: number[]) => (pnns.length === 1 ? `node ${pnns[0]}` : `nodes ${pnns.join(", ")}`);

export function checkConfig(f: Facts): Finding[] {
  return f.configErrors.map((e) => ({ check: "config", severity: "error", subject: e.file, message: e.message }));
}

export function checkReachable(f: Facts): Finding[] {
  return f.nodes
    .filter((n) => n.unreachable !== undefined)
    .map((n) => ({
      check: "reachable",
      severity: "warning",
      subject: nodeName(n),
      message: `could not be asked (${n.unreachable}), so its nodes file, tunables, clock and key were not checked${
        f.localSharedKey ? `; this node has a shared key in ${f.tandemConfFile}: a node without it, or with another, is kept out` : ""
      }`,
    }));
}

export function checkLockExcludes(lock: LockFacts): Finding[] {
  const subject = lock.setting === undefined ? "ctdb.conf" : `cluster lock ${lock.setting}`;
  if (lock.setting === undefined) {
    if (lock.requireMajority) return [];
    return [
      {
        check: "lock",
        severity: "error",
        subject,
        message:
          "no cluster lock is set and tandem.conf does not require a majority: a network partition will elect a leader on each side (split brain)",
      },
    ];
  }
  const p = lock.probe;
  if (p === undefined) return [];
  if (p.first === "error" || p.first === "timeout") {
    return [{ check: "lock", severity: "error", subject, message: `could not be taken from this host: ${p.reason ?? p.first}` }];
  }
  if (p.first === "held" && p.second === "held") {
    return [
      {
        check: "lock",
        severity: "error",
        subject,
        message:
          "does not exclude: two processes on this host both held it at once (a file on a filesystem without working fcntl locks, or a helper that never refuses)",
      },
    ];
  }
  if (p.first === "held" && lock.leader !== undefined) {
    return [
      {
        check: "lock",
        severity: "error",
        subject,
        message: `this host could take it although node ${lock.leader} leads and holds it: the lock is not shared between the nodes (is the file on the same cluster filesystem everywhere?)`,
      },
    ];
  }
  return [];
}

/**
 * A holder notices a lost lock only at its next recheck; by then another
 * node may have been elected. Re-election can come after the leader timeout
 * or after keepalives declare the holder dead, whichever is shorter.
 */
export function checkLockTiming(lock: LockFacts, tunables: Record<string, number> | undefined): Finding[] {
  if (lock.setting === undefined || lock.recheckSec === undefined) return [];
  const keepalive = (tunables?.["KeepaliveInterval"] ?? 5) * (tunables?.["KeepaliveLimit"] ?? 5);
  const limit = Math.min(lock.leaderTimeoutSec, keepalive);
  if (lock.recheckSec <= limit) return [];
  const which = limit === lock.leaderTimeoutSec ? `the leader timeout (${lock.leaderTimeoutSec} s)` : `KeepaliveInterval × KeepaliveLimit (${keepalive} s)`;
  return [
    {
      check: "lock-timing",
      severity: "error",
      subject: `cluster lock ${lock.setting}`,
      message: `is rechecked every ${lock.recheckSec} s, longer than ${which}: a leader that lost the lock can go on leading after another node was elected; make the recheck interval at most ${limit} s`,
    },
  ];
}

function nodesText(entries: NodesEntryFact[]): string[] {
  return entries.map((e) => (e.deleted ? "(deleted)" : e.address));
}

export function checkNodesFiles(f: Facts): Finding[] {
  const here = nodesText(f.localNodes);
  const out: Finding[] = [];
  for (const n of f.nodes) {
    if (n.nodesFile === undefined) continue;
    const there = nodesText(n.nodesFile);
    const length = Math.max(here.length, there.length);
    for (let i = 0; i < length; i++) {
      if (here[i] === there[i]) continue;
      out.push({
        check: "nodes-file",
        severity: "error",
        subject: nodeName(n),
        message: `its nodes file differs from ${f.nodesFilePath} on this host: node ${i} is ${there[i] ?? "missing"} there and ${here[i] ?? "missing"} here`,
      });
      break;
    }
  }
  return out;
}

export function checkTunables(f: Facts): Finding[] {
  const asked = f.nodes.filter((n) => n.tunables !== undefined);
  const names = new Set(asked.flatMap((n) => Object.keys(n.tunables!)));
  const out: Finding[] = [];
  for (const name of [...names].sort()) {
    const byValue = new Map<string, number[]>();
    for (const n of asked) {
      const v = n.tunables![name];
      const key = v === undefined ? "unknown" : String(v);
      byValue.set(key, [...(byValue.get(key) ?? []), n.pnn]);
    }
    if (byValue.size <= 1) continue;
    // The value most nodes have is taken as intended; the others are named.
    const groups = [...byValue.entries()].sort((a, b) => b[1].length - a[1].length || a[1][0]! - b[1][0]!);
    const [usual, usualNodes] = groups[0]!;
    for (const [value, pnns] of groups.slice(1)) {
      for (const pnn of pnns) {
        const n = asked.find((x) => x.pnn === pnn)!;
        out.push({
          check: "tunables",
          severity: "error",
          subject: nodeName(n),
          message: `tunable ${name} is ${value} there but ${usual} on ${list(usualNodes)}; set it everywhere with: tandem setvar --all-nodes ${name} VALUE (and the same line in every ctdb.tunables)`,
        });
      }
    }
  }
  return out;
}

export function checkPublicAddresses(f: Facts): Finding[] {
  const out: Finding[] = [];
  const nodeAddresses = new Set(f.localNodes.filter((n) => !n.deleted).map((n) => n.address));
  const seen = new Set<string>();
  for (const a of f.publicAddresses) {
    const subject = `${f.publicAddressesFile}: ${a.address}/${a.prefix}`;
    if (seen.has(a.address)) out.push({ check: "public-addresses", severity: "error", subject, message: "is listed more than once" });
    seen.add(a.address);
    if (nodeAddresses.has(a.address)) {
      out.push({ check: "public-addresses", severity: "error", subject, message: "is also a node address in the nodes file; public addresses move between nodes, node addresses must not" });
    }
    if (a.interfaces.length === 0) {
      out.push({ check: "public-addresses", severity: "error", subject, message: "names no interface to host it on" });
    }
    for (const iface of a.interfaces) {
      if (!f.hostInterfaces.includes(iface)) {
        out.push({ check: "public-addresses", severity: "error", subject, message: `names interface ${iface}, which this host does not have` });
      }
    }
    const max = a.family === 4 ? 32 : 128;
    if (a.prefix === max) {
      out.push({ check: "public-addresses", severity: "warning", subject, message: `has prefix /${max}: no network route comes with it, so clients off this link cannot reach it` });
    }
  }
  return out;
}

export function checkEventScripts(f: Facts): Finding[] {
  const out: Finding[] = [];
  for (const s of f.scripts) {
    const subject = `${f.scriptDir}/${s.file}`;
    if (!s.executable) {
      out.push({ check: "event-scripts", severity: "note", subject, message: "is not executable, so it is disabled (enable it with: ctdb event script enable legacy NAME)" });
      continue;
    }
    if (s.interpreter === undefined) {
      out.push({ check: "event-scripts", severity: "error", subject, message: "has no #! line naming its interpreter, so it cannot be run" });
    } else if (s.interpreterOk === false) {
      out.push({ check: "event-scripts", severity: "error", subject, message: `names interpreter ${s.interpreter}, which is missing or not executable on this host` });
    }
  }
  return out;
}

export const CLOCK_TOLERANCE_MS = 1000;

export function checkClocks(f: Facts): Finding[] {
  const out: Finding[] = [];
  for (const n of f.nodes) {
    if (n.clock === undefined) continue;
    // What the round trip cannot tell apart is given to the node's favour.
    const skew = Math.abs(n.clock.offsetMs) - n.clock.rttMs / 2;
    if (skew <= CLOCK_TOLERANCE_MS) continue;
    out.push({
      check: "clocks",
      severity: "error",
      subject: nodeName(n),
      message: `its clock is ${(n.clock.offsetMs / 1000).toFixed(1)} s ${n.clock.offsetMs > 0 ? "ahead of" : "behind"} this host's (more than 1 s): run NTP (chrony, systemd-timesyncd) on every node`,
    });
  }
  return out;
}

export function checkSharedKey(f: Facts): Finding[] {
  const told = f.nodes.filter((n) => n.info !== undefined);
  const withKey = told.filter((n) => n.info!.sharedKey).map((n) => n.pnn);
  const without = told.filter((n) => !n.info!.sharedKey).map((n) => n.pnn);
  if (withKey.length === 0 || without.length === 0) return [];
  return [
    {
      check: "shared-key",
      severity: "error",
      subject: list(without),
      message: `${without.length === 1 ? "has" : "have"} no shared key in tandem.conf while ${list(withKey)} ${withKey.length === 1 ? "has" : "have"} one: nodes with and without a key refuse each other; set the same key on every node or on none`,
    },
  ];
}

export function checkTransportVersions(f: Facts): Finding[] {
  const told = f.nodes.filter((n) => n.info !== undefined);
  const majors = new Map<string, number[]>();
  for (const n of told) {
    const major = n.info!.transport.split(".")[0]!;
    majors.set(major, [...(majors.get(major) ?? []), n.pnn]);
  }
  if (majors.size <= 1) return [];
  const described = [...majors.entries()].map(([m, pnns]) => `${list(pnns)} speak${pnns.length === 1 ? "s" : ""} ${m}.x`).join(", ");
  return [{ check: "versions", severity: "error", subject: "cluster", message: `incompatible Tandem transport versions: ${described}; nodes of different major versions do not join each other` }];
}

export interface Check {
  name: string;
  run: (f: Facts) => Finding[];
}

/** This host's tunables, as the lock-timing check uses them. */
function ownTunables(f: Facts): Record<string, number> | undefined {
  return f.nodes.find((n) => n.tunables !== undefined)?.tunables;
}

export const CHECKS: readonly Check[] = [
  { name: "config", run: checkConfig },
  { name: "reachable", run: checkReachable },
  { name: "lock", run: (f) => checkLockExcludes(f.lock) },
  { name: "lock-timing", run: (f) => checkLockTiming(f.lock, ownTunables(f)) },
  { name: "nodes-file", run: checkNodesFiles },
  { name: "tunables", run: checkTunables },
  { name: "public-addresses", run: checkPublicAddresses },
  { name: "event-scripts", run: checkEventScripts },
  { name: "clocks", run: checkClocks },
  { name: "shared-key", run: checkSharedKey },
  { name: "versions", run: checkTransportVersions },
];

export function diagnose(f: Facts): { ok: boolean; findings: Finding[] } {
  const findings = CHECKS.flatMap((c) => c.run(f));
  return { ok: findings.every((x) => x.severity === "note"), findings };
}

export function formatFindings(result: { ok: boolean; findings: Finding[] }): string {
  const lines = result.findings.map((x) => `${x.severity.toUpperCase().padEnd(7)} ${x.check}: ${x.subject} ${x.message}\n`);
  const problems = result.findings.filter((x) => x.severity !== "note").length;
  lines.push(result.ok ? `All is well (${CHECKS.length} checks).\n` : `${problems} problem${problems === 1 ? "" : "s"} found.\n`);
  return lines.join("");
}
