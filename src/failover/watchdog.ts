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
// A stopped (SIGSTOP) or stuck daemon is not dead, so the pipe stays open;
// the daemon therefore also renews a lease ("lease MS": keep the addresses
// for MS more milliseconds). When a lease runs out unrenewed the watchdog
// removes the addresses the same way, keeps running, and says so on its
// standard output ("removed ADDRESS..."), so the daemon, once it runs again,
// forgets them and the leader places them anew. The lease is shorter than the
// time the other nodes wait before they take a silent node's addresses.
//
// Lines on the pipe: "host ADDRESS PREFIX IFACE", "release ADDRESS",
// "lease MS", "exit".

import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
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
  /** Until when the daemon's last lease lets it keep its addresses (none before the first). */
  leaseUntilMs: number | undefined;
}

export function watchdogStart(): WatchdogState {
  return { hosted: new Map(), clean: false, leaseUntilMs: undefined };
}

/** One line from the daemon at `nowMs`; an error names a malformed one (and changes nothing). */
export function watchdogLine(state: WatchdogState, line: string, nowMs = 0): string | undefined {
  const w = line.trim().split(/\s+/);
  if (w[0] === "host" && w.length === 4 && /^\d{1,3}$/.test(w[2]!) && w[1] !== "" && w[3] !== "") {
    state.hosted.set(w[1]!, { address: w[1]!, prefix: Number(w[2]), iface: w[3]! });
    return undefined;
  }
  if (w[0] === "release" && w.length === 2) {
    state.hosted.delete(w[1]!);
    return undefined;
  }
  if (w[0] === "lease" && w.length === 2 && /^\d{1,9}$/.test(w[1]!)) {
    state.leaseUntilMs = nowMs + Number(w[1]);
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

/**
 * What to remove because the lease ran out at `nowMs` (the daemon stopped
 * renewing it); they count as removed from then on.
 */
export function watchdogLeaseExpired(state: WatchdogState, nowMs: number): Hosted[] {
  if (state.clean || state.leaseUntilMs === undefined || nowMs < state.leaseUntilMs) return [];
  const gone = [...state.hosted.values()];
  state.hosted.clear();
  return gone;
}

/** The daemon's end: starts the watchdog process and keeps it told. */
export class AddressWatchdog {
  private constructor(private readonly child: ChildProcess) {}

  /** `removed` hears of addresses the watchdog took off because a lease ran out. */
  static start(log: (message: string) => void = () => {}, removed: (addresses: string[]) => void = () => {}): AddressWatchdog {
    const main = path.join(path.dirname(fileURLToPath(import.meta.url)), "watchdog-main.js");
    // Its own session: a signal to the daemon's process group does not reach it.
    const child = spawn(process.execPath, [main], { detached: true, stdio: ["pipe", "pipe", "inherit"] });
    child.unref();
    child.on("error", (e) => log(`address watchdog: ${e.message}`));
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    const out = child.stdout;
    if (out !== null) {
      (out as unknown as { unref?: () => void }).unref?.();
      readline.createInterface({ input: out }).on("line", (line) => {
        const w = line.trim().split(/\s+/);
        if (w[0] === "removed" && w.length > 1) removed(w.slice(1));
      });
    }
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

  /** The daemon may keep its addresses `ms` more milliseconds. */
  lease(ms: number): void {
    this.send(`lease ${Math.max(0, Math.round(ms))}`);
  }

  /** An orderly stop: the addresses were released by the scripts. */
  stop(): void {
    this.send("exit");
    this.child.stdin?.end();
  }
}
