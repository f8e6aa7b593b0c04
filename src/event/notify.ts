// Notifications as CTDB 4.17 sends them (server/ctdb_monitor.c): ctdbd runs
// `$CTDB_BASE/notify.sh EVENT` through the shell in the background for the
// events init, setup, startup, healthy and unhealthy; the shipped notify.sh
// runs every executable events/notification/*.script with the same argument.
// A missing, non-executable or failing script is only logged.
import { spawn } from "node:child_process";
import * as fs from "node:fs";

export const NOTIFICATION_EVENTS = ["init", "setup", "startup", "healthy", "unhealthy"] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export function notificationScriptPath(base: string): string {
  return `${base}/notify.sh`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Start the notification script; resolves with its exit status once it ends
 * (null when it could not be started). Callers need not wait: CTDB forks and
 * moves on.
 */
export function runNotification(opts: {
  base: string;
  event: string;
  env: Record<string, string>;
  log: (level: "error" | "notice" | "debug", message: string) => void;
}): Promise<number | null> {
  const script = notificationScriptPath(opts.base);
  let st: fs.Stats;
  try {
    st = fs.statSync(script);
  } catch {
    opts.log("error", `Could not stat notification script ${script}. Can not send notifications.`);
    return Promise.resolve(null);
  }
  if ((st.mode & 0o100) === 0) {
    opts.log("error", `Notification script ${script} is not executable.`);
    return Promise.resolve(null);
  }
  // system("<script> <event>\n") as ctdbd does, with the path quoted.
  const cmd = `${shellQuote(script)} ${shellQuote(opts.event)}\n`;
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn("/bin/sh", ["-c", cmd], { env: opts.env, stdio: "ignore", cwd: "/" });
    } catch (err) {
      opts.log("error", `Failed to run notification script ${script}: ${String(err)}`);
      resolve(null);
      return;
    }
    child.on("error", (err) => {
      opts.log("error", `Failed to run notification script ${script}: ${err.message}`);
      resolve(null);
    });
    child.on("exit", (code, signal) => {
      const status = code ?? (signal !== null ? 128 : 0);
      if (status !== 0) {
        opts.log("error", `Notification script "${cmd.trimEnd()}" failed with error ${status}`);
      }
      resolve(status);
    });
  });
}
