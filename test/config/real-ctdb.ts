// Helpers that ask Debian's real CTDB tools for the truth. Tests using them
// skip when the tools are not installed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CTDB_CONFIG = "/usr/libexec/ctdb/ctdb-config";
export const CTDB_PATH = "/usr/libexec/ctdb/ctdb-path";
export const haveCtdbConfig = existsSync(CTDB_CONFIG);
export const haveCtdbPath = existsSync(CTDB_PATH);

export function tempDir(prefix = "tandem-config-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs ctdb-config in test mode so that it reads <base>/ctdb.conf. */
export function runCtdbConfig(base: string, args: string[]): ToolRun {
  const r = spawnSync(CTDB_CONFIG, args, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CTDB_TEST_MODE: "yes", CTDB_BASE: base },
    encoding: "utf8",
    timeout: 10000,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function runCtdbPath(env: Record<string, string>, args: string[]): string {
  const r = spawnSync(CTDB_PATH, args, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
    timeout: 10000,
  });
  return (r.stdout ?? "").trim();
}

/** Writes ctdb.conf into base and returns ctdb-config's validate result and dump. */
export function realCtdbConfig(base: string, text: string): { valid: boolean; dump: Map<string, string | undefined> } {
  writeFileSync(join(base, "ctdb.conf"), text);
  const v = runCtdbConfig(base, ["validate"]);
  const d = runCtdbConfig(base, ["dump"]);
  const dump = new Map<string, string | undefined>();
  let section = "";
  for (const line of d.stdout.split("\n")) {
    const s = /^\[(.*)\]$/.exec(line);
    if (s) {
      section = s[1] ?? "";
      continue;
    }
    const o = /^\t(# )?(.*?) = (.*)$/.exec(line);
    if (!o) continue;
    // "# key = " is an unset string; "# key = value" is a default value
    const value = o[1] !== undefined && o[3] === "" ? undefined : o[3];
    dump.set(`${section}/${o[2]}`, value);
  }
  return { valid: v.status === 0, dump };
}
