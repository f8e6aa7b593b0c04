/**
 * Formatters for the one-value commands (version, pnn, leader, ping, getpid,
 * runstate, tunables, capabilities, reclock, listnodes, ifaces), plain,
 * machine-readable where ctdb has such a form, and JSON. Pure.
 */
import { pnnText, runstateFromString, runstateToString, UNKNOWN_PNN } from "./common.ts";

/**
 * What `version` prints. ctdb prints Samba's version string, e.g.
 * "4.17.12-Debian"; scripts that look at it compare the leading
 * MAJOR.MINOR(.PATCH) and ignore a "-VENDOR" suffix, so we claim the CTDB
 * release whose behaviour we reproduce and name ourselves in the suffix,
 * in the same shape as the distribution builds.
 */
export const TANDEM_VERSION_STRING = "4.17.12-Tandem";

export function formatVersion(): string {
  return TANDEM_VERSION_STRING + "\n";
}

export function formatPnn(pnn: number): string {
  return `${pnn >>> 0}\n`;
}

export function formatLeader(leader: number): string {
  return pnnText(leader) + "\n";
}

export function leaderJson(leader: number): object {
  return { leader: leader >>> 0 === UNKNOWN_PNN ? null : leader >>> 0 };
}

/** printf("%.6f") of a non-negative elapsed time. */
export function formatPing(pnn: number, elapsedSec: number, clients: number): string {
  return `response from ${pnn >>> 0} time=${elapsedSec.toFixed(6)} sec  (${clients | 0} clients)\n`;
}

export function formatGetpid(pid: number): string {
  return `${pid >>> 0}\n`;
}

export type RunstateCheck = { ok: true; text: string } | { ok: false; text: string };

/**
 * `runstate [STATE...]`: with no arguments print the state; otherwise the
 * state must be one of the arguments. Arguments are checked in order and an
 * unknown name fails as soon as it is reached (so "RUNNING foo" passes on a
 * running node). Both failures go to stdout, as ctdb does, with exit 1.
 */
export function checkRunstate(runstate: number, wanted: readonly string[]): RunstateCheck {
  let found = true;
  for (const w of wanted) {
    found = false;
    const t = runstateFromString(w);
    if (t === 0) return { ok: false, text: `Invalid run state (${w})\n` };
    if (t === runstate) {
      found = true;
      break;
    }
  }
  if (!found) return { ok: false, text: `CTDB not in required run state (got ${runstateToString(runstate)})\n` };
  return { ok: true, text: runstateToString(runstate) + "\n" };
}

/** `getvar` / `listvars` line: the name as given, padded to 26, "= value" unsigned. */
export function formatTunable(name: string, value: number): string {
  return `${name.padEnd(26)} = ${value >>> 0}\n`;
}

export function findTunable(list: readonly string[], name: string): boolean {
  const lower = name.toLowerCase();
  return list.some((v) => v.toLowerCase() === lower);
}

export function formatNoSuchTunable(name: string): string {
  return `No such tunable ${name}\n`;
}

export const CAP_LEADER = 0x1;
export const CAP_LMASTER = 0x2;

export function formatCapabilities(caps: number, sep: string | null): string {
  const leader = (caps & CAP_LEADER) !== 0;
  const lmaster = (caps & CAP_LMASTER) !== 0;
  if (sep !== null) {
    return `${sep}LEADER${sep}LMASTER${sep}\n${sep}${leader ? 1 : 0}${sep}${lmaster ? 1 : 0}${sep}\n`;
  }
  return `LEADER: ${leader ? "YES" : "NO"}\nLMASTER: ${lmaster ? "YES" : "NO"}\n`;
}

export function capabilitiesJson(caps: number): object {
  return { capabilities: caps >>> 0, leader: (caps & CAP_LEADER) !== 0, lmaster: (caps & CAP_LMASTER) !== 0 };
}

/** Nothing at all when no cluster lock is configured. */
export function formatReclock(reclock: string | null): string {
  return reclock === null ? "" : reclock + "\n";
}

export interface ListedNode {
  pnn: number;
  address: string;
  deleted: boolean;
}

export function formatListnodes(nodes: readonly ListedNode[], sep: string | null): string {
  let out = "";
  for (const n of nodes) {
    if (n.deleted) continue;
    out += sep === null ? `${n.address}\n` : `${sep}${n.pnn}${sep}${n.address}${sep}\n`;
  }
  return out;
}

export function listnodesJson(nodes: readonly ListedNode[]): object {
  return { nodes: nodes.filter((n) => !n.deleted).map((n) => ({ pnn: n.pnn, address: n.address })) };
}

export interface Iface {
  name: string;
  linkState: number;
  references: number;
}

export function formatIfaces(pnn: number, ifaces: readonly Iface[], sep: string | null): string {
  if (ifaces.length === 0) return `No interfaces configured on node ${pnn >>> 0}\n`;
  let out = sep === null ? `Interfaces on node ${pnn >>> 0}\n` : `${sep}Name${sep}LinkStatus${sep}References${sep}\n`;
  for (const i of ifaces) {
    out +=
      sep === null
        ? `name:${i.name} link:${i.linkState !== 0 ? "up" : "down"} references:${i.references >>> 0}\n`
        : `${sep}${i.name}${sep}${i.linkState >>> 0}${sep}${i.references >>> 0}${sep}\n`;
  }
  return out;
}
