// What a takeover run's address effects do on the network, for the daemon:
// after a run every address this node hosts is announced (gratuitous ARP or
// neighbour advertisement, repeated as CTDB repeats it, and tickle ACKs for
// its tracked connections); a released address's tracked connections are
// reset; each hosted address is registered with the address watchdog, which
// removes them if the daemon dies; addresses to drop without scripts are
// removed with `ip addr del`.

import { spawn } from "node:child_process";
import type { PublicAddress } from "../config/public-addresses.ts";
import type { Connection } from "../protocol/types.ts";
import { announceAddress } from "./raw/announce.ts";
import { killTcp, sendTickle } from "./raw/killtcp.ts";
import type { AddressHooks } from "./shell.ts";
import { AddressWatchdog } from "./watchdog.ts";

/** When the announcements of one address go out, after the run: CTDB sends 3, about 1 s apart. */
export const ANNOUNCE_AT_MS = [0, 250, 1000];

export interface NetworkEffectsDeps {
  addresses(): readonly PublicAddress[];
  log(level: "error" | "warning" | "notice" | "info", message: string): void;
  /** Tracked connections to a public address (dst is the address, src the client). */
  connections?(address: string): readonly Connection[];
  /**
   * How long the watchdog may let this node keep its addresses after the
   * last renewal: less than the others wait before they take a silent
   * node's addresses. Without it there is no lease (only death is caught).
   */
  leaseMs?: number;
  /** The watchdog removed these addresses because the lease ran out (the daemon was stopped or stuck). */
  removed?(addresses: string[]): void;
}

/** How often the lease is renewed. */
const LEASE_RENEW_MS = 100;

export class NetworkEffects implements AddressHooks {
  private watchdog: AddressWatchdog | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private warned = false;

  constructor(private readonly deps: NetworkEffectsDeps) {}

  private raw(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      // Without CAP_NET_RAW (an unprivileged test cluster) say so once, not per packet.
      if (!this.warned) this.deps.log("warning", `${what}: ${(e as Error).message}`);
      this.warned = true;
    }
  }

  private later(ms: number, f: () => void): void {
    if (ms === 0) return f();
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  announce(addresses: { address: string; iface: string }[]): void {
    for (const at of ANNOUNCE_AT_MS) {
      this.later(at, () => {
        for (const a of addresses) {
          this.raw(`announcing ${a.address} on ${a.iface}`, () => announceAddress(a.iface, a.address));
          for (const c of this.deps.connections?.(a.address) ?? []) {
            this.raw(`tickle ACK for ${a.address}`, () => sendTickle({ address: c.src.addr, port: c.src.port }, { address: c.dst.addr, port: c.dst.port }));
          }
        }
      });
    }
  }

  released(address: string, iface: string): void {
    this.watchdog?.released(address);
    const conns = this.deps.connections?.(address) ?? [];
    if (conns.length === 0) return;
    // Reset the client ends: each is the dst of what killTcp resets.
    const kill = conns.map((c) => ({ src: { address: c.dst.addr, port: c.dst.port }, dst: { address: c.src.addr, port: c.src.port } }));
    killTcp(iface, kill).then(
      (r) => {
        if (r.remaining.length > 0) this.deps.log("notice", `${r.remaining.length} of ${kill.length} connections to ${address} did not answer the reset`);
      },
      (e) => this.raw(`resetting connections to ${address}`, () => {
        throw e;
      }),
    );
  }

  taken(address: string, iface: string): void {
    const prefix = this.deps.addresses().find((a) => a.address === address)?.prefix;
    if (prefix === undefined) return;
    // Started with the first address, so nodes without public addresses run no extra process.
    this.watchdog ??= this.startWatchdog();
    this.watchdog.hosted(address, prefix, iface);
  }

  dropAddresses(addresses: { address: string; iface: string; prefix: number }[]): boolean {
    // Only root may; otherwise the releaseip scripts are asked to.
    if (process.getuid?.() !== 0) return false;
    for (const a of addresses) {
      this.watchdog?.released(a.address);
      const child = spawn("ip", ["addr", "del", `${a.address}/${a.prefix}`, "dev", a.iface], { stdio: "ignore" });
      child.on("error", (e) => this.deps.log("error", `ip addr del ${a.address}: ${e.message}`));
      child.on("exit", (code) => {
        if (code !== 0) this.deps.log("error", `ip addr del ${a.address}/${a.prefix} dev ${a.iface} failed (${code})`);
      });
    }
    return true;
  }

  private startWatchdog(): AddressWatchdog {
    const w = AddressWatchdog.start(
      (m) => this.deps.log("error", m),
      (addresses) => {
        this.deps.log("warning", `The address watchdog removed ${addresses.join(", ")}: this daemon did not renew its lease in time`);
        this.deps.removed?.(addresses);
      },
    );
    const leaseMs = this.deps.leaseMs;
    if (leaseMs !== undefined) {
      w.lease(leaseMs);
      this.renewal = setInterval(() => w.lease(leaseMs), LEASE_RENEW_MS);
      this.renewal.unref();
    }
    return w;
  }

  /** An orderly stop: the scripts release the addresses; the watchdog is told goodbye. */
  stop(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.watchdog?.stop();
    this.watchdog = undefined;
  }
}
