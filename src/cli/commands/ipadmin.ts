/** `addip IP/MASK IFACE`, `delip IP`, `moveip IP PNN`. */
import { smbStrtoul } from "../args.ts";
import { NODE_FLAGS_INACTIVE } from "../format/common.ts";
import { formatIp, parseCtdbAddress } from "../ipaddr.ts";
import { attempt, type Session } from "../session.ts";
import type { Sleep } from "./nodectl.ts";

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const RETRIES = 5;
const RETRY_MS = 3000;

/** "ADDRESS/BITS" as ctdb reads it; the mask must be all decimal digits. */
export function parseAddressMask(text: string): { address: string; mask: number } | null {
  if (text.length >= 64) return null;
  const slash = text.lastIndexOf("/");
  if (slash === -1) return null;
  const maskText = text.slice(slash + 1);
  if (!/^[ \t\n\v\f\r]*\+?[0-9]+$/.test(maskText)) return null;
  const addr = parseCtdbAddress(text.slice(0, slash));
  if (addr === null) return null;
  return { address: formatIp(addr), mask: Number(BigInt.asUintN(32, BigInt(maskText.trim().replace(/^\+/, "")))) };
}

export async function addip(s: Session, args: string[], sleep: Sleep = realSleep): Promise<number> {
  if (args.length !== 2) return s.usage("addip");
  const am = parseAddressMask(args[0]!);
  if (am === null) {
    s.err(`Invalid IP/Mask ${args[0]}\n`);
    return 1;
  }
  const list = await attempt(() => s.daemon.getPublicIps(s.cmdPnn));
  if (!list.ok) {
    s.err(`Failed to get Public IPs from node ${s.cmdPnn >>> 0}\n`);
    return 1;
  }
  if (list.value.some((ip) => ip.address === am.address)) {
    s.err(`Node already knows about IP ${am.address}\n`);
    return 0;
  }
  let r = await attempt(() => s.daemon.addPublicIp(s.cmdPnn, am.address, am.mask, args[1]!));
  for (let retries = 1; !r.ok && retries < RETRIES; retries++) {
    await sleep(RETRY_MS);
    r = await attempt(() => s.daemon.addPublicIp(s.cmdPnn, am.address, am.mask, args[1]!));
  }
  if (!r.ok) {
    await sleep(RETRY_MS);
    s.err(`Failed to add public IP to node ${s.cmdPnn >>> 0}. Giving up\n`);
    return r.ret;
  }
  const m = await attempt(() => s.daemon.broadcastU32("rebalance-node", s.cmdPnn));
  if (!m.ok) {
    s.err("Failed to ask leader to distribute IPs\n");
    return m.ret;
  }
  return 0;
}

export async function delip(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("delip");
  const addr = parseCtdbAddress(args[0]!);
  if (addr === null) {
    s.err(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const address = formatIp(addr);
  const list = await attempt(() => s.daemon.getPublicIps(s.cmdPnn));
  if (!list.ok) {
    s.err(`Failed to get Public IPs from node ${s.cmdPnn >>> 0}\n`);
    return 1;
  }
  if (!list.value.some((ip) => ip.address === address)) {
    s.err(`Node does not know about IP address ${address}\n`);
    return 0;
  }
  const r = await attempt(() => s.daemon.delPublicIp(s.cmdPnn, address));
  if (!r.ok) {
    s.err(`Failed to delete public IP from node ${s.cmdPnn >>> 0}\n`);
    return r.ret;
  }
  return 0;
}

async function moveOnce(s: Session, address: string, pnn: number): Promise<number> {
  const d = await attempt(() => s.daemon.broadcastU32("disable-ip-check", 2 * s.ctx.timeoutSec));
  if (!d.ok) {
    s.err("Failed to disable IP check\n");
    return d.ret;
  }
  const list = await attempt(() => s.daemon.getPublicIps(pnn));
  if (!list.ok) {
    s.err(`Failed to get Public IPs from node ${pnn}\n`);
    return list.ret;
  }
  if (!list.value.some((ip) => ip.address === address)) {
    s.err(`Node ${pnn} CANNOT host IP address ${address}\n`);
    return 1;
  }
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  const others = nodemap.filter((n) => (n.flags & NODE_FLAGS_INACTIVE) === 0 && n.pnn >>> 0 !== pnn);
  if (others.length === 0) {
    s.err("Memory allocation error\n");
    return 1;
  }
  const released = await Promise.all(others.map((n) => attempt(() => s.daemon.releaseIp(n.pnn, address, pnn))));
  const failed = released.find((r) => !r.ok);
  if (failed !== undefined && !failed.ok) {
    s.err("Failed to release IP on nodes\n");
    return failed.ret;
  }
  const t = await attempt(() => s.daemon.takeoverIp(pnn, address, pnn));
  if (!t.ok) {
    s.err(`Failed to takeover IP on node ${pnn}\n`);
    return t.ret;
  }
  return 0;
}

export async function moveip(s: Session, args: string[], sleep: Sleep = realSleep): Promise<number> {
  if (args.length !== 2) return s.usage("moveip");
  const addr = parseCtdbAddress(args[0]!);
  if (addr === null) {
    s.err(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const p = smbStrtoul(args[1]!, 10);
  const pnn = p.ok ? Number(BigInt.asUintN(32, p.value)) : 0xffffffff;
  if (!p.ok || pnn === 0xffffffff) {
    s.err(`Invalid PNN ${args[1]}\n`);
    return 1;
  }
  const address = formatIp(addr);
  let ret = 1;
  for (let retries = 0; retries < RETRIES; retries++) {
    ret = await moveOnce(s, address, pnn);
    if (ret === 0) break;
    await sleep(RETRY_MS);
  }
  if (ret !== 0) {
    s.err(`Failed to move IP ${args[0]} to node ${pnn}\n`);
    return ret;
  }
  return 0;
}
