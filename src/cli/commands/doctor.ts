/** `tandem doctor [--json]`: checks the cluster and says in plain words what is wrong. */
import { diagnose, formatFindings } from "../../doctor/checks.ts";
import { gatherFacts } from "../../doctor/gather.ts";
import type { CliContext } from "../context.ts";

export async function doctor(ctx: CliContext, args: string[]): Promise<number> {
  if (args.length !== 0) {
    ctx.stderr("Usage: tandem doctor [--json]\n");
    return 1;
  }
  const facts = await gatherFacts(ctx.env, ctx.timeoutSec * 1000);
  const result = diagnose(facts);
  ctx.stdout(ctx.json ? `${JSON.stringify(result, null, 2)}\n` : formatFindings(result));
  return result.ok ? 0 : 1;
}
