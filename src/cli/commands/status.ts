/** `status` and `nodestatus`. */
import { formatNodemap, formatNodemapMachine, formatStatus, jsonText, nodemapJson, nodestatusExitCode, statusJson } from "../format/nodemap.ts";
import { attempt, type Session } from "../session.ts";

export async function status(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("status");
  const nodemapIn = await s.getNodemap(false);
  if (nodemapIn === null) return 1;
  const nodemap = await s.nodemapUnknown(nodemapIn);
  if (nodemap === null) return 1;

  const mr = s.ctx.machineReadable;
  if (mr !== null && !s.ctx.json) {
    s.out(formatNodemapMachine(await s.shown(nodemap), s.cmdPnn, mr.separator));
    return 0;
  }
  const vnnmap = await attempt(() => s.daemon.getVnnmap(s.cmdPnn));
  if (!vnnmap.ok) return vnnmap.ret;
  const recmode = await attempt(() => s.daemon.getRecmode(s.cmdPnn));
  if (!recmode.ok) return recmode.ret;
  const leader = await s.getLeader();
  const shown = await s.shown(nodemap);
  const tail = { generation: vnnmap.value.generation, vnnmap: vnnmap.value.map, recmode: recmode.value, leader };
  s.out(s.ctx.json ? jsonText(statusJson(shown, s.cmdPnn, tail)) : formatStatus(shown, s.cmdPnn, tail));
  return 0;
}

export async function nodestatus(s: Session, args: string[]): Promise<number> {
  if (args.length > 1) return s.usage("nodestatus");
  const nodestring = args[0];
  const printHeader = nodestring === "all";
  const selected = await s.parseNodestring(nodestring);
  if (selected === null) return 1;
  const nodemap = await s.nodemapUnknown(selected);
  if (nodemap === null) return 1;
  const shown = await s.shown(nodemap);
  const mr = s.ctx.machineReadable;
  if (s.ctx.json) s.out(jsonText(nodemapJson(shown, s.cmdPnn)));
  else if (mr !== null) s.out(formatNodemapMachine(shown, s.cmdPnn, mr.separator));
  else s.out(formatNodemap(shown, s.cmdPnn, printHeader));
  return nodestatusExitCode(nodemap);
}
