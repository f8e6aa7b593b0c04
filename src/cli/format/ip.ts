/**
 * `ip`, `ipinfo`, `getdebug`/`setdebug` texts, and the merge of every
 * node's public address list that `ip all` shows. Pure.
 */
import type { Iface } from "./simple.ts";
import { parseCtdbAddress } from "../ipaddr.ts";

export interface PublicIp {
  address: string;
  pnn: number;
}

export interface PublicIpInfo {
  address: string;
  pnn: number;
  activeIdx: number;
  ifaces: Iface[];
}

function addrKey(address: string): [number, number[]] {
  const a = parseCtdbAddress(address);
  if (a === null) return [99, []];
  return [a.family, [...a.bytes]];
}

/** ctdb's address order: IPv4 before IPv6, then by address bytes. */
export function compareAddresses(a: string, b: string): number {
  const [fa, ba] = addrKey(a);
  const [fb, bb] = addrKey(b);
  if (fa !== fb) return fa - fb;
  for (let i = 0; i < Math.min(ba.length, bb.length); i++) {
    if (ba[i] !== bb[i]) return ba[i]! - bb[i]!;
  }
  return ba.length - bb.length;
}

export function sortPublicIps(ips: readonly PublicIp[]): PublicIp[] {
  return [...ips].sort((x, y) => compareAddresses(x.address, y.address));
}

/**
 * `ip all`: each active node's list, where a node's claim to host an
 * address wins and other mentions only add the address as unassigned.
 */
export function mergePublicIps(perNode: readonly { pnn: number; ips: readonly PublicIp[] }[]): PublicIp[] {
  const merged = new Map<string, PublicIp>();
  for (const { pnn, ips } of perNode) {
    for (const ip of ips) {
      const key = addrKey(ip.address).join("/");
      if (ip.pnn === pnn) merged.set(key, { address: ip.address, pnn: ip.pnn });
      else if (!merged.has(key)) merged.set(key, { address: ip.address, pnn: 0xffffffff });
    }
  }
  return [...merged.values()];
}

export interface IpListOptions {
  allNodes: boolean;
  cmdPnn: number;
  separator: string | null;
  verbose: boolean;
}

function ifaceSummary(info: PublicIpInfo | null): { active: string; avail: string; conf: string } {
  if (info === null) return { active: "", avail: "", conf: "" };
  const conf = info.ifaces.map((i) => i.name).join(",");
  const avail = info.ifaces.filter((i) => i.linkState !== 0).map((i) => i.name).join(",");
  const active = info.ifaces[info.activeIdx]?.name ?? "";
  return { active, avail, conf };
}

/** ips must already be sorted; infos[i] belongs to ips[i] (null when unassigned). */
export function formatIpList(ips: readonly PublicIp[], infos: readonly (PublicIpInfo | null)[], o: IpListOptions): string {
  const sep = o.separator;
  let out: string;
  if (sep !== null) {
    out = `${sep}Public IP${sep}Node${sep}` + (o.verbose ? `ActiveInterfaces${sep}AvailableInterfaces${sep}ConfiguredInterfaces${sep}\n` : "\n");
  } else {
    out = o.allNodes ? "Public IPs on ALL nodes\n" : `Public IPs on node ${o.cmdPnn >>> 0}\n`;
  }
  ips.forEach((ip, i) => {
    const pnn = ip.pnn | 0;
    if (!o.verbose) {
      out += sep !== null ? `${sep}${ip.address}${sep}${pnn}${sep}\n` : `${ip.address} ${pnn}\n`;
      return;
    }
    const s = ifaceSummary(infos[i] ?? null);
    out +=
      sep !== null
        ? `${sep}${ip.address}${sep}${pnn}${sep}${s.active}${sep}${s.avail}${sep}${s.conf}${sep}\n`
        : `${ip.address} node[${pnn}] active[${s.active}] available[${s.avail}] configured[${s.conf}]\n`;
  });
  return out;
}

export function ipListJson(ips: readonly PublicIp[], infos: readonly (PublicIpInfo | null)[]): object {
  return {
    publicIps: ips.map((ip, i) => {
      const s = ifaceSummary(infos[i] ?? null);
      return {
        address: ip.address,
        pnn: ip.pnn >>> 0 === 0xffffffff ? null : ip.pnn >>> 0,
        activeInterface: s.active === "" ? null : s.active,
        availableInterfaces: s.avail === "" ? [] : s.avail.split(","),
        configuredInterfaces: s.conf === "" ? [] : s.conf.split(","),
      };
    }),
  };
}

export function formatIpInfo(cmdPnn: number, info: PublicIpInfo): string {
  let out = `Public IP[${info.address}] info on node ${cmdPnn >>> 0}\n`;
  out += `IP:${info.address}\nCurrentNode:${info.pnn >>> 0}\nNumInterfaces:${info.ifaces.length}\n`;
  info.ifaces.forEach((iface, i) => {
    out += `Interface[${i + 1}]: Name:${iface.name} Link:${iface.linkState === 0 ? "down" : "up"} References:${iface.references >>> 0}${i === info.activeIdx ? " (active)" : ""}\n`;
  });
  return out;
}

// Log levels by number, as CTDB names them (several numbers share a name).
const LEVELS: readonly [number, string][] = [
  [0, "ERROR"],
  [1, "WARNING"],
  [2, "WARNING"],
  [3, "NOTICE"],
  [4, "NOTICE"],
  [5, "INFO"],
  [6, "INFO"],
  [7, "INFO"],
  [8, "INFO"],
  [9, "INFO"],
  [10, "DEBUG"],
];

/** A number 0..10 (leading digit, read like atoi) or a case-insensitive prefix of a level name. */
export function parseDebugLevel(s: string): number | null {
  if (/^[0-9]/.test(s)) {
    const n = Number.parseInt(s, 10);
    return n >= 0 && n < LEVELS.length ? n : null;
  }
  const lower = s.toLowerCase();
  const hit = LEVELS.find(([, name]) => name.toLowerCase().startsWith(lower));
  return hit === undefined ? null : hit[0];
}

export function debugLevelName(level: number): string {
  return LEVELS.find(([n]) => n === level)?.[1] ?? "UNKNOWN";
}

export function invalidDebugLevel(s: string): string {
  return `Invalid debug level '${s}'. Valid levels are:\n\tERROR | WARNING | NOTICE | INFO | DEBUG\n`;
}
