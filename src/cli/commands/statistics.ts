/** `statistics`, `statisticsreset`, `stats [COUNT]`. */
import { jsonText } from "../format/nodemap.ts";
import { formatStatistics, formatStatisticsMachine, statisticsJson } from "../format/statistics.ts";
import { attempt, type Session } from "../session.ts";
import { atoi } from "./checktcpport.ts";

export async function statistics(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("statistics");
  const r = await attempt(() => s.daemon.getStatistics(s.cmdPnn));
  if (!r.ok) return r.ret;
  const mr = s.ctx.machineReadable;
  if (s.ctx.json) s.out(jsonText(statisticsJson(r.value)));
  else s.out(mr !== null ? formatStatisticsMachine(r.value, mr.separator, true) : formatStatistics(r.value));
  return 0;
}

export async function statisticsreset(s: Session, args: string[]): Promise<number> {
  if (args.length !== 0) return s.usage("statisticsreset");
  const r = await attempt(() => s.daemon.resetStatistics(s.cmdPnn));
  return r.ok ? 0 : r.ret;
}

export async function stats(s: Session, args: string[]): Promise<number> {
  if (args.length > 1) return s.usage("stats");
  const count = args.length === 1 ? atoi(args[0]!) : 0;
  const r = await attempt(() => s.daemon.getStatHistory(s.cmdPnn));
  if (!r.ok) return r.ret;
  const mr = s.ctx.machineReadable;
  const shown = [];
  let header = true;
  for (let i = 0; i < r.value.length; i++) {
    const one = r.value[i]!;
    if (one.startTime === 0) continue;
    if (s.ctx.json) shown.push(statisticsJson(one));
    else if (mr !== null) {
      s.out(formatStatisticsMachine(one, mr.separator, header));
      header = false;
    } else s.out(formatStatistics(one));
    // ctdb stops after the entry at index COUNT, so it can print one more than asked.
    if (count > 0 && i === count) break;
  }
  if (s.ctx.json) s.out(jsonText({ history: shown }));
  return 0;
}
