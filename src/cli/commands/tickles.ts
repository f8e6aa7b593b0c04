/**
 * `gettickles IP [PORT]`, `addtickle SRC:PORT DST:PORT`, `deltickle ...`;
 * without arguments add/deltickle read "SRC:PORT DST:PORT" lines from
 * standard input and send them all at once, reporting how many failed.
 */
import { smbStrtoul } from "../args.ts";
import type { Connection } from "../daemon.ts";
import { jsonText } from "../format/nodemap.ts";
import { formatIp, formatIpWithPort, parseCtdbAddress, parseCtdbAddressWithPort } from "../ipaddr.ts";
import { attempt, type Session } from "../session.ts";

export async function gettickles(s: Session, args: string[]): Promise<number> {
  if (args.length < 1 || args.length > 2) return s.usage("gettickles");
  let port = 0;
  if (args.length === 2) {
    const r = smbStrtoul(args[1]!, 10);
    if (!r.ok) return r.errno;
    port = Number(BigInt.asUintN(16, r.value));
  }
  const addr = parseCtdbAddress(args[0]!);
  if (addr === null) {
    s.err(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const r = await attempt(() => s.daemon.getTickleList(s.cmdPnn, formatIp(addr), port));
  if (!r.ok) {
    s.err("Failed to get list of connections\n");
    return r.ret;
  }
  const t = r.value;
  const mr = s.ctx.machineReadable;
  if (s.ctx.json) {
    s.out(jsonText({ address: t.address, connections: t.conns }));
  } else if (mr !== null) {
    const sep = mr.separator;
    // "Destiation" is ctdb's spelling; scripts may match the header.
    let out = `${sep}Source IP${sep}Port${sep}Destiation IP${sep}Port${sep}\n`;
    for (const c of t.conns) out += `${sep}${c.src.address}${sep}${c.src.port}${sep}${c.dst.address}${sep}${c.dst.port}${sep}\n`;
    s.out(out);
  } else {
    let out = `Connections for IP: ${t.address}\nNum connections: ${t.conns.length}\n`;
    for (const c of t.conns) out += `SRC: ${formatIpWithPort(c.src.address, c.src.port)}   DST: ${formatIpWithPort(c.dst.address, c.dst.port)}\n`;
    s.out(out);
  }
  return 0;
}

/** Lines "SRC:PORT DST:PORT"; blank lines and '#' comments are skipped. Null on a bad line. */
export function parseConnectionList(text: string): Connection[] | null {
  const out: Connection[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const words = line.split(/[ \t\n]+/).filter((w) => w !== "");
    if (words.length < 2) return null;
    const src = parseCtdbAddressWithPort(words[0]!);
    const dst = parseCtdbAddressWithPort(words[1]!);
    if (src === null || dst === null) return null;
    if (src.address.includes(":") !== dst.address.includes(":")) return null;
    out.push({ src, dst });
  }
  return out;
}

type Op = "add" | "del";

async function changeTickles(s: Session, args: string[], op: Op, readStdin: () => Promise<string>): Promise<number> {
  const command = op === "add" ? "addtickle" : "deltickle";
  if (args.length !== 0 && args.length !== 2) return s.usage(command);
  const send = (c: Connection, quiet: boolean) =>
    op === "add" ? s.daemon.tcpAddDelayedUpdate(s.cmdPnn, c, quiet) : s.daemon.tcpRemove(s.cmdPnn, c, quiet);
  if (args.length === 0) {
    const list = parseConnectionList(await readStdin());
    if (list === null) return 22;
    if (list.length === 0) return 0;
    const results = await Promise.all(list.map((c) => attempt(() => send(c, true))));
    const failed = results.filter((r) => !r.ok).length;
    if (failed !== 0) {
      s.err(`Failed to ${op === "add" ? "add" : "remove"} ${failed} tickles\n`);
      return 1;
    }
    return 0;
  }
  const src = parseCtdbAddressWithPort(args[0]!);
  if (src === null) {
    s.err(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const dst = parseCtdbAddressWithPort(args[1]!);
  if (dst === null) {
    s.err(`Invalid IP address ${args[1]}\n`);
    return 1;
  }
  const r = await attempt(() => send({ src, dst }, false));
  if (!r.ok) {
    s.err(op === "add" ? "Failed to register connection\n" : "Failed to unregister connection\n");
    return r.ret;
  }
  return 0;
}

export function addtickle(s: Session, args: string[]): Promise<number> {
  return changeTickles(s, args, "add", s.readStdin);
}

export function deltickle(s: Session, args: string[]): Promise<number> {
  return changeTickles(s, args, "del", s.readStdin);
}
