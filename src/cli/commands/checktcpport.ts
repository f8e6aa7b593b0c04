/** `checktcpport PORT`: can this host bind the TCP port (no daemon needed)? */
import { createServer } from "node:net";
import { constants as osConstants } from "node:os";
import { commandUsageText } from "../commands-table.ts";
import type { CliContext } from "../context.ts";

/** C atoi(): leading blanks, a sign, digits; anything else stops it. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  return m === null ? 0 : Number(BigInt.asIntN(32, BigInt(m[1]!)));
}

export async function checktcpport(ctx: CliContext, args: string[]): Promise<number> {
  if (args.length !== 1) {
    // ctdb asks for the usage of "chktcpport", a name it does not know, and so prints everything.
    ctx.stdout(commandUsageText("chktcpport"));
    return 1;
  }
  // ctdb reports the number as an unsigned int but binds through htons(), which keeps the low 16 bits.
  const shown = atoi(args[0]!) >>> 0;
  const port = shown & 0xffff;
  const errno = await new Promise<number>((resolve) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => {
      resolve((osConstants.errno as Record<string, number>)[e.code ?? ""] ?? 98);
    });
    server.listen({ port, host: "0.0.0.0", exclusive: true }, () => {
      server.close(() => resolve(0));
    });
  });
  if (errno !== 0) {
    ctx.stderr(`Failed to bind to TCP port ${shown}\n`);
    return errno;
  }
  return 0;
}
