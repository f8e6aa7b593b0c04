/** Single-value commands: uptime, ping, getpid, pnn, leader, runstate, getcapabilities, getreclock, ifaces. */
import { jsonText } from "../format/nodemap.ts";
import {
  capabilitiesJson,
  checkRunstate,
  formatCapabilities,
  formatGetpid,
  formatIfaces,
  formatLeader,
  formatPing,
  formatPnn,
  formatReclock,
  leaderJson,
} from "../format/simple.ts";
import { runstateToString } from "../format/common.ts";
import { formatUptime, uptimeJson } from "../format/uptime.ts";
import { attempt, type Session } from "../session.ts";

export async function uptime(s: Session, _args: string[]): Promise<number> {
  const r = await attempt(() => s.daemon.getUptime(s.cmdPnn));
  if (!r.ok) return r.ret;
  s.out(s.ctx.json ? jsonText(uptimeJson(s.cmdPnn, r.value)) : formatUptime(s.cmdPnn, r.value));
  return 0;
}

export async function ping(s: Session, _args: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  const r = await attempt(() => s.daemon.ping(s.cmdPnn));
  if (!r.ok) return r.ret;
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  s.out(
    s.ctx.json
      ? jsonText({ pnn: s.cmdPnn >>> 0, seconds: elapsed, clients: r.value })
      : formatPing(s.cmdPnn, elapsed, r.value),
  );
  return 0;
}

export async function getpid(s: Session, _args: string[]): Promise<number> {
  const r = await attempt(() => s.daemon.getPid(s.cmdPnn));
  if (!r.ok) return r.ret;
  s.out(s.ctx.json ? jsonText({ pnn: s.cmdPnn >>> 0, pid: r.value }) : formatGetpid(r.value));
  return 0;
}

export async function pnn(s: Session, _args: string[]): Promise<number> {
  s.out(s.ctx.json ? jsonText({ pnn: s.pnn >>> 0 }) : formatPnn(s.pnn));
  return 0;
}

export async function leader(s: Session, _args: string[]): Promise<number> {
  const l = await s.getLeader();
  s.out(s.ctx.json ? jsonText(leaderJson(l)) : formatLeader(l));
  return 0;
}

export async function runstate(s: Session, args: string[]): Promise<number> {
  const r = await attempt(() => s.daemon.getRunstate(s.cmdPnn));
  if (!r.ok) return r.ret;
  const check = checkRunstate(r.value, args);
  if (s.ctx.json) {
    s.out(jsonText({ pnn: s.cmdPnn >>> 0, runstate: runstateToString(r.value), value: r.value, matches: check.ok }));
  } else {
    s.out(check.text);
  }
  return check.ok ? 0 : 1;
}

export async function getcapabilities(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("getcapabilities");
  const r = await attempt(() => s.daemon.getCapabilities(s.cmdPnn));
  if (!r.ok) return r.ret;
  const mr = s.ctx.machineReadable;
  s.out(s.ctx.json ? jsonText(capabilitiesJson(r.value)) : formatCapabilities(r.value, mr === null ? null : mr.separator));
  return 0;
}

export async function getreclock(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("getreclock");
  const r = await attempt(() => s.daemon.getReclockFile(s.cmdPnn));
  if (!r.ok) return r.ret;
  s.out(s.ctx.json ? jsonText({ reclock: r.value }) : formatReclock(r.value));
  return 0;
}

export async function ifaces(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("ifaces");
  const r = await attempt(() => s.daemon.getIfaces(s.cmdPnn));
  if (!r.ok) return r.ret;
  const mr = s.ctx.machineReadable;
  if (s.ctx.json) s.out(jsonText({ pnn: s.cmdPnn >>> 0, interfaces: r.value }));
  else s.out(formatIfaces(s.cmdPnn, r.value, mr === null ? null : mr.separator));
  return 0;
}
