// Running in the background as ctdbd does. Node cannot fork(), so the parent
// starts the same program again, detached into its own session, in the
// foreground mode (`--foreground`) with an IPC channel. The child reports
// over that channel when start-up is complete (or why it failed); the parent
// then checks that the client socket answers and exits 0, or prints the
// reason and exits non-zero. That is what a `Type=forking` service and
// `ctdbd &` in scripts expect.

import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

/** What the child sends its parent over the IPC channel. */
export type StartupReport = { kind: "ready"; pid: number } | { kind: "failed"; errors: string[] };

/** In the child: tell the waiting parent, if there is one, and let it go. */
export function reportStartup(report: StartupReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(report, () => {
      if (process.connected) process.disconnect();
      resolve();
    });
  });
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/**
 * In the parent: starts the daemon detached and waits for its start-up
 * report. Resolves with the exit status for the parent; reasons for a failure
 * have been written to `stderr`.
 */
export async function detach(opts: {
  script: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  socketPath: string;
  stderr: (text: string) => void;
}): Promise<number> {
  // The daemon runs from / (so it keeps no directory busy); paths given
  // relative to where we were started must still mean the same.
  const env = { ...opts.env };
  for (const name of ["CTDB_BASE", "CTDB_SOCKET"]) {
    const value = env[name];
    if (value !== undefined && value !== "") env[name] = path.resolve(value);
  }
  const child = spawn(process.execPath, [...process.execArgv, path.resolve(opts.script), "--foreground", ...opts.args], {
    detached: true,
    cwd: "/",
    env,
    stdio: ["ignore", "ignore", "ignore", "ipc"],
  });
  const outcome = await new Promise<StartupReport | { kind: "exited"; code: number | null; signal: string | null }>(
    (resolve) => {
      child.once("message", (m) => resolve(m as StartupReport));
      child.once("exit", (code, signal) => resolve({ kind: "exited", code, signal }));
      child.once("error", (err) => resolve({ kind: "failed", errors: [`cannot start the daemon: ${err.message}`] }));
    },
  );
  child.removeAllListeners();
  child.unref();
  if (child.connected) child.disconnect();
  switch (outcome.kind) {
    case "ready":
      if (await answers(path.resolve(opts.socketPath))) return 0;
      opts.stderr(`tandemd: the daemon (pid ${outcome.pid}) started but its socket ${opts.socketPath} does not answer\n`);
      return 1;
    case "failed":
      for (const e of outcome.errors) opts.stderr(`tandemd: ${e}\n`);
      return 1;
    case "exited":
      opts.stderr(
        `tandemd: the daemon exited during start-up (${outcome.signal === null ? `status ${outcome.code}` : `signal ${outcome.signal}`}); see its log\n`,
      );
      return 1;
  }
}
