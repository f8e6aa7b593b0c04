/** `getvar`, `setvar`, `listvars`. */
import { smbStrtoul } from "../args.ts";
import { jsonText } from "../format/nodemap.ts";
import { findTunable, formatNoSuchTunable, formatTunable } from "../format/simple.ts";
import { NodeFlag } from "../../protocol/constants.ts";
import { attempt, type Session } from "../session.ts";

/** ctdb checks a name against the node's list first: 0 when known, else the exit code. */
async function checkTunableName(s: Session, name: string): Promise<number> {
  const list = await attempt(() => s.daemon.listTunables(s.cmdPnn));
  if (!list.ok) {
    s.err(`Failed to get list of variables from node ${s.cmdPnn >>> 0}\n`);
    return list.ret;
  }
  if (!findTunable(list.value, name)) {
    s.out(formatNoSuchTunable(name));
    return 1;
  }
  return 0;
}

export async function getvar(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("getvar");
  const name = args[0]!;
  const known = await checkTunableName(s, name);
  if (known !== 0) return known;
  const v = await attempt(() => s.daemon.getTunable(s.cmdPnn, name));
  if (!v.ok) return v.ret;
  s.out(s.ctx.json ? jsonText({ name, value: v.value >>> 0 }) : formatTunable(name, v.value));
  return 0;
}

export async function setvar(s: Session, args: string[]): Promise<number> {
  if (args.length !== 2) return s.usage("setvar");
  const name = args[0]!;
  const known = await checkTunableName(s, name);
  if (known !== 0) return known;
  // ctdb exits with the conversion's errno (EINVAL, ERANGE) and no message.
  const parsed = smbStrtoul(args[1]!);
  if (!parsed.ok) return parsed.errno;
  const value = Number(BigInt.asUintN(32, parsed.value));
  if (s.ctx.allNodes) return setvarAllNodes(s, name, value);
  const r = await attempt(() => s.daemon.setTunable(s.cmdPnn, name, value));
  if (!r.ok) {
    if (r.ret === 1) {
      s.err(`Setting obsolete tunable variable '${name}'\n`);
      return 0;
    }
    return r.ret;
  }
  if (s.ctx.json) s.out(jsonText({ name, value }));
  return 0;
}

export async function listvars(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("listvars");
  const list = await attempt(() => s.daemon.listTunables(s.cmdPnn));
  if (!list.ok) return list.ret;
  const values: { name: string; value: number }[] = [];
  // ctdb runs getvar for each name and ignores failures of individual ones.
  for (const name of list.value) {
    const v = await attempt(() => s.daemon.getTunable(s.cmdPnn, name));
    if (!v.ok) continue;
    if (s.ctx.json) values.push({ name, value: v.value >>> 0 });
    else s.out(formatTunable(name, v.value));
  }
  if (s.ctx.json) s.out(jsonText({ tunables: values }));
  return 0;
}

/** `setvar --all-nodes`: the same value on every connected node; any failure is named and makes the exit non-zero. */
async function setvarAllNodes(s: Session, name: string, value: number): Promise<number> {
  const nodemap = await s.getNodemap(false);
  if (nodemap === null) return 1;
  let ret = 0;
  const done: number[] = [];
  for (const node of nodemap) {
    if ((node.flags & (NodeFlag.DELETED | NodeFlag.DISCONNECTED)) !== 0) {
      if ((node.flags & NodeFlag.DELETED) === 0) {
        s.err(`Node ${node.pnn} is disconnected; ${name} not set there\n`);
        ret = 1;
      }
      continue;
    }
    const r = await attempt(() => s.daemon.setTunable(node.pnn, name, value));
    if (r.ok || r.ret === 1) done.push(node.pnn);
    else {
      s.err(`Failed to set ${name} on node ${node.pnn}\n`);
      ret = r.ret;
    }
  }
  if (s.ctx.json) s.out(jsonText({ name, value, nodes: done }));
  return ret;
}
