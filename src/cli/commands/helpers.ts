/**
 * `lvs` and `natgw`: run CTDB's helper scripts (ctdb_lvs, ctdb_natgw),
 * which call the tool back for node status, and pass their exit status on
 * the way ctdb does (64+errno means the helper could not be started).
 */
import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { endGroups, isTracked, trackGroup, untrackGroup } from "../child-groups.ts";
import type { Session } from "../session.ts";

const EINTR = 4;

export async function runHelper(s: Session, what: string, path: string, args: string[]): Promise<number> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.ctx.env)) if (v !== undefined) env[k] = v;
  return new Promise<number>((resolve) => {
    // Its own process group (detached), ended as a whole on -T or a signal.
    const child = spawn(path, args, { env, stdio: ["inherit", "pipe", "pipe"], detached: true });
    if (child.pid !== undefined) trackGroup(child.pid);
    const forward = (signal: NodeJS.Signals) => {
      endGroups();
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", forward);
    process.once("SIGTERM", forward);
    const done = (code: number) => {
      if (child.pid !== undefined) untrackGroup(child.pid);
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code);
    };
    // A helper ended by -T says nothing more, as under ctdb.
    const live = () => child.pid !== undefined && isTracked(child.pid);
    child.stdout.on("data", (b: Buffer) => {
      if (live()) s.out(b.toString());
    });
    child.stderr.on("data", (b: Buffer) => {
      if (live()) s.err(b.toString());
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      const errno = (osConstants.errno as Record<string, number>)[e.code ?? ""] ?? 8;
      s.err(`${what} failed with error ${errno}\n`);
      done(errno);
    });
    child.on("close", (code, signal) => {
      if (!live()) {
        done(1);
      } else if (signal !== null) {
        s.err(`${what} terminated with signal ${osConstants.signals[signal] ?? 0}\n`);
        done(EINTR);
      } else if (code !== null && code >= 64 && code < 255) {
        s.err(`${what} failed with error ${code - 64}\n`);
        done(code - 64);
      } else {
        done(code ?? 1);
      }
    });
  });
}

function helperPath(s: Session, envName: string, file: string): string {
  const fromEnv = s.ctx.env[envName];
  if (fromEnv !== undefined) return fromEnv;
  const bindir = s.ctx.env["CTDB_HELPER_BINDIR"];
  return `${bindir !== undefined && bindir !== "" ? bindir : "/usr/libexec/ctdb"}/${file}`;
}

export async function lvs(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("lvs");
  return runHelper(s, "LVS helper", helperPath(s, "CTDB_LVS_HELPER", "ctdb_lvs"), args);
}

export async function natgw(s: Session, args: string[]): Promise<number> {
  if (args.length !== 1) return s.usage("natgw");
  return runHelper(s, "NAT gateway helper", helperPath(s, "CTDB_NATGW_HELPER", "ctdb_natgw"), args);
}
