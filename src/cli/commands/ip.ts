/** `ip`, `ipinfo`, `setifacelink`, `gratarp`, `getdebug`, `setdebug`. */
import { NODE_FLAGS_INACTIVE } from "../format/common.ts";
import {
  debugLevelName,
  formatIpInfo,
  formatIpList,
  invalidDebugLevel,
  ipListJson,
  mergePublicIps,
  type PublicIp,
  type PublicIpInfo,
  parseDebugLevel,
  sortPublicIps,
} from "../format/ip.ts";
import { jsonText } from "../format/nodemap.ts";
import { formatIp, parseCtdbAddress } from "../ipaddr.ts";
import { attempt, type Session } from "../session.ts";

const UNKNOWN = 0xffffffff;
/** CTDB_IFACE_SIZE: the longest interface name CTDB's iface struct carries. */
const IFACE_NAME_MAX = 16;

export async function ip(s: Session, args: string[]): Promise<number> {
  if (args.length > 1 || (args.length === 1 && args[0] !== "all")) return s.usage("ip");
  const all = args.length === 1;
  let ips: PublicIp[];
  if (all) {
    const nodemap = await s.getNodemap(false);
    if (nodemap === null) return 1;
    const active = nodemap.filter((n) => (n.flags & NODE_FLAGS_INACTIVE) === 0);
    if (active.length === 0) return 1;
    const perNode: { pnn: number; ips: PublicIp[] }[] = [];
    for (const n of active) {
      const r = await attempt(() => s.daemon.getPublicIps(n.pnn));
      if (!r.ok) return 1;
      perNode.push({ pnn: n.pnn, ips: r.value });
    }
    ips = mergePublicIps(perNode);
  } else {
    const r = await attempt(() => s.daemon.getPublicIps(s.cmdPnn));
    if (!r.ok) return r.ret;
    ips = r.value;
  }
  ips = sortPublicIps(ips);
  const infos: (PublicIpInfo | null)[] = [];
  for (const one of ips) {
    const pnn = all ? one.pnn >>> 0 : s.cmdPnn;
    if (pnn === UNKNOWN) {
      infos.push(null);
      continue;
    }
    const r = await attempt(() => s.daemon.getPublicIpInfo(pnn, one.address));
    if (!r.ok) return r.ret;
    infos.push(r.value);
  }
  const mr = s.ctx.machineReadable;
  if (s.ctx.json) s.out(jsonText(ipListJson(ips, infos)));
  else s.out(formatIpList(ips, infos, { allNodes: all, cmdPnn: s.cmdPnn, separator: mr === null ? null : mr.separator, verbose: s.verbose }));
  return 0;
}

export async function ipinfo(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("ipinfo");
  const parsed = parseCtdbAddress(args[0]!);
  if (parsed === null) {
    s.err(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const r = await attempt(() => s.daemon.getPublicIpInfo(s.cmdPnn, formatIp(parsed)));
  if (!r.ok) {
    if (r.ret === -1) s.out(`Node ${s.cmdPnn >>> 0} does not know about IP ${args[0]}\n`);
    return r.ret;
  }
  s.out(s.ctx.json ? jsonText({ node: s.cmdPnn >>> 0, ...r.value }) : formatIpInfo(s.cmdPnn, r.value));
  return 0;
}

export async function setifacelink(s: Session, args: string[]): Promise<number> {
  if (args.length !== 2) return s.usage("setifacelink");
  const [name, state] = args as [string, string];
  if (Buffer.byteLength(name) > IFACE_NAME_MAX) {
    s.err(`Interface name '${name}' too long\n`);
    return 1;
  }
  const list = await attempt(() => s.daemon.getIfaces(s.cmdPnn));
  if (!list.ok) {
    s.err(`Failed to get interface information from node ${s.cmdPnn >>> 0}\n`);
    return list.ret;
  }
  const iface = list.value.find((i) => i.name === name);
  if (iface === undefined) {
    s.out(`Interface ${name} not configured on node ${s.cmdPnn >>> 0}\n`);
    return 1;
  }
  let linkState: number;
  if (state === "up") linkState = 1;
  else if (state === "down") linkState = 0;
  else return s.usage("setifacelink");
  const r = await attempt(() => s.daemon.setIfaceLinkState(s.cmdPnn, { name, linkState, references: 0 }));
  return r.ok ? 0 : r.ret;
}

export async function gratarp(s: Session, args: string[]): Promise<number> {
  if (args.length !== 2) return s.usage("gratarp");
  const parsed = parseCtdbAddress(args[0]!);
  if (parsed === null) {
    s.err(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const r = await attempt(() => s.daemon.sendGratuitousArp(s.cmdPnn, formatIp(parsed), args[1]!));
  if (!r.ok) {
    s.err(`Unable to send gratuitous arp from node ${s.cmdPnn >>> 0}\n`);
    return r.ret;
  }
  return 0;
}

export async function getdebug(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("getdebug");
  const r = await attempt(() => s.daemon.getDebug(s.cmdPnn));
  if (!r.ok) return r.ret;
  s.out(s.ctx.json ? jsonText({ level: debugLevelName(r.value), value: r.value }) : `${debugLevelName(r.value)}\n`);
  return 0;
}

export async function setdebug(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("setdebug");
  const level = parseDebugLevel(args[0]!);
  if (level === null) {
    s.err(invalidDebugLevel(args[0]!));
    return 1;
  }
  const r = await attempt(() => s.daemon.setDebug(s.cmdPnn, level));
  return r.ok ? 0 : r.ret;
}
