// A dead daemon leaves nothing behind: the address watchdog is a small
// process that outlives tandemd. The daemon tells it, over a pipe, each
// address it comes to host and each it lets go; if the pipe reaches EOF
// without a goodbye — the daemon was killed — the watchdog removes every
// address still hosted straight from its interface (`ip addr del`) and
// resets the clients' connections to them, then exits. Real CTDB leaves such
// addresses configured, so two hosts answer for one address until the dead
// node's daemon restarts.
//
// It removes addresses itself rather than running the releaseip event: the
// event's scripts may call the (dead) daemon through the ctdb tool and may
// take seconds, while the point is to be gone before a survivor takes the
// address over (well under a second); the scripts' own clean-up runs anyway
// at the next start (10.interface's init drops every public address).
//
// Lines on the pipe: "host ADDRESS PREFIX IFACE", "release ADDRESS", "exit".

import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface Hosted {
  address: string;
  prefix: number;
  iface: string;
}

export interface WatchdogState {
  hosted: Map<string, Hosted>;
  /** The daemon said goodbye: nothing to do at EOF. */
  clean: boolean;
}

export function watchdogStart(): WatchdogState {
  return { hosted: new Map(), clean: false };
}

/** One line from the daemon; an error names a malformed one (and changes nothing). */
export function watchdogLine(state: WatchdogState, line: string): string | undefined {
  const w = line.trim().split(/\s+/);
  if (w[0] === "host" && w.length === 4 && /^\d{1,3}$/.test(w[2]!) && w[1] !== "" && w[3] !== "") {
    state.hosted.set(w[1]!, { address: w[1]!, prefix: Number(w[2]), iface: w[3]! });
    return undefined;
  }
  if (w[0] === "release" && w.length === 2) {
    state.hosted.delete(w[1]!);
    return undefined;
  }
  if (w[0] === "exit" && w.length === 1) {
    state.clean = true;
    return undefined;
  }
  if (w.length === 1 && w[0] === "") return undefined;
  return `watchdog: ignoring malformed line: ${line}`;
}

/** What to remove once the pipe has ended. */
export function watchdogAtEof(state: WatchdogState): Hosted[] {
  return state.clean ? [] : [...state.hosted.values()];
}

/** The daemon's end: starts the watchdog process and keeps it told. */
export class AddressWatchdog {
  private constructor(private readonly child: ChildProcess) {}

  static start(log: (message: string) => void = () => {}): AddressWatchdog {
    const main = path.join(path.dirname(fileURLToPath(import.meta.url)), "watchdog-main.js");
    // Its own session: a signal to the daemon's process group does not reach it.
    const child = spawn(process.execPath, [main], { detached: true, stdio: ["pipe", "ignore", "inherit"] });
    child.unref();
    child.on("error", (e) => log(`address watchdog: ${e.message}`));
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new AddressWatchdog(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private send(line: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }

  hosted(address: string, prefix: number, iface: string): void {
    this.send(`host ${address} ${prefix} ${iface}`);
  }

  released(address: string): void {
    this.send(`release ${address}`);
  }

  /** An orderly stop: the addresses were released by the scripts. */
  stop(): void {
    this.send("exit");
    this.child.stdin?.end();
  }
}
