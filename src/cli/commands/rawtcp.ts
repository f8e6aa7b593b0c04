/**
 * Commands that send raw TCP segments themselves, without the daemon:
 * `tickle [SRC:PORT DST:PORT]` as ctdb's (a tickle ACK to SRC as if from
 * DST; without arguments one per "SRC DST" line of standard input), and
 * `killtcp IFACE [SRC:PORT DST:PORT]`, which does what CTDB's ctdb_killtcp
 * helper does: reset the DST end of each connection (capturing its answers
 * on IFACE). Both need root, as raw sockets do.
 */
import type { CliContext } from "../context.ts";
import type { Connection } from "../daemon.ts";
import { parseCtdbAddressWithPort } from "../ipaddr.ts";
import { parseConnectionList } from "./tickles.ts";

type Usage = (command: string) => number;

export async function tickle(ctx: CliContext, args: string[], usage: Usage, readStdin: () => Promise<string>): Promise<number> {
  if (args.length !== 0 && args.length !== 2) return usage("tickle");
  const { sendTickle } = await import("../../failover/raw/killtcp.ts");
  if (args.length === 0) {
    const list = parseConnectionList(await readStdin());
    if (list === null) return 22;
    let failed = 0;
    for (const c of list) {
      try {
        sendTickle(c.src, c.dst);
      } catch (e) {
        ctx.stderr(`${(e as Error).message}\n`);
        failed++;
      }
    }
    if (failed > 0) {
      ctx.stderr(`Failed to send ${failed} tickles\n`);
      return 1;
    }
    return 0;
  }
  const src = parseCtdbAddressWithPort(args[0]!);
  if (src === null) {
    ctx.stderr(`Invalid IP address ${args[0]}\n`);
    return 1;
  }
  const dst = parseCtdbAddressWithPort(args[1]!);
  if (dst === null) {
    ctx.stderr(`Invalid IP address ${args[1]}\n`);
    return 1;
  }
  try {
    sendTickle(src, dst);
  } catch (e) {
    ctx.stderr(`${(e as Error).message}\nFailed to send tickle ack\n`);
    return 1;
  }
  return 0;
}

export async function killtcp(ctx: CliContext, args: string[], readStdin: () => Promise<string>): Promise<number> {
  if (args.length !== 1 && args.length !== 3) {
    ctx.stdout("usage: tandem killtcp <interface> [ <srcip:port> <dstip:port> ]\n");
    return 1;
  }
  let conns: Connection[];
  if (args.length === 3) {
    const src = parseCtdbAddressWithPort(args[1]!);
    if (src === null) {
      ctx.stderr(`Bad IP:port '${args[1]}'\n`);
      return 255;
    }
    const dst = parseCtdbAddressWithPort(args[2]!);
    if (dst === null) {
      ctx.stderr(`Bad IP:port '${args[2]}'\n`);
      return 255;
    }
    conns = [{ src, dst }];
  } else {
    const list = parseConnectionList(await readStdin());
    if (list === null) {
      ctx.stderr("Unable to parse connections (Invalid argument)\n");
      return 255;
    }
    conns = list;
  }
  if (conns.length === 0) return 0;
  const { killTcp } = await import("../../failover/raw/killtcp.ts");
  try {
    await killTcp(args[0]!, conns);
  } catch (e) {
    // CTDB's helper gives up silently here; say what went wrong.
    ctx.stderr(`killtcp: ${(e as Error).message}\n`);
    return 255;
  }
  return 0;
}
