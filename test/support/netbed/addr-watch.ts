// Watches the floating addresses configured in every node namespace of a bed
// and records any moment at which one address is configured on two nodes.
// It follows each namespace's netlink address events (`ip -ts -o monitor
// address`) rather than polling, so even a brief overlap is seen; a snapshot
// of `ip -o addr show` starts each namespace's view and can re-check it.

import readline from "node:readline";
import type { Bed } from "../netns.ts";

export interface Overlap {
  t: number;
  address: string;
  nodes: number[];
}

export interface AddrChange {
  t: number;
  node: number;
  address: string;
  added: boolean;
}

/** Addresses the bed floats: 198.51.100.0/24 and 2001:db8::/64, never the client's own. */
export function isFloating(address: string): boolean {
  if (address === "198.51.100.254" || address === "2001:db8::fe") return false;
  return address.startsWith("198.51.100.") || address.startsWith("2001:db8:");
}

/** "2: eth0    inet 198.51.100.1/24 ..." or "Deleted 2: eth0 inet6 2001:db8::1/64 ..." → the change, if any. */
export function parseAddrLine(line: string): { address: string; iface: string; added: boolean } | undefined {
  const m = /^(?:\[[^\]]*\]\s*)?(Deleted )?\d+: (\S+)\s+inet6? ([0-9a-fA-F:.]+)\/\d+/.exec(line);
  if (m === null) return undefined;
  return { added: m[1] === undefined, iface: m[2]!, address: m[3]! };
}

export interface AddrWatch {
  /** Floating addresses per node, now. */
  hosted(): Map<string, number[]>;
  /** Which node hosts `address` (undefined when none; the first when several). */
  hostOf(address: string): number | undefined;
  readonly overlaps: Overlap[];
  readonly changes: AddrChange[];
  /** Compares the followed view with a fresh `ip addr` of every node; the differences. */
  verify(): string[];
  stop(): void;
}

function snapshot(bed: Bed, node: number): Set<string> {
  const out = new Set<string>();
  for (const line of bed.execSync(bed.nodeNs[node]!, ["ip", "-o", "addr", "show"]).stdout.split("\n")) {
    const c = parseAddrLine(line);
    if (c !== undefined && isFloating(c.address)) out.add(c.address);
  }
  return out;
}

export async function watchAddresses(bed: Bed): Promise<AddrWatch> {
  const views: Set<string>[] = [];
  const overlaps: Overlap[] = [];
  const changes: AddrChange[] = [];
  const check = (address: string, t: number) => {
    const nodes = views.flatMap((v, i) => (v.has(address) ? [i] : []));
    if (nodes.length > 1) overlaps.push({ t, address, nodes });
  };
  const monitors = await Promise.all(
    bed.nodeNs.map(async (ns, node) => {
      const child = bed.spawn(ns, ["ip", "-o", "monitor", "address"], { stdio: ["ignore", "pipe", "ignore"] });
      views[node] = new Set();
      readline.createInterface({ input: child.stdout! }).on("line", (line) => {
        const c = parseAddrLine(line);
        if (c === undefined || !isFloating(c.address)) return;
        const t = Date.now();
        changes.push({ t, node, address: c.address, added: c.added });
        if (c.added) {
          // IPv6 reports an address again once it stops being tentative.
          if (views[node]!.has(c.address)) return;
          views[node]!.add(c.address);
          check(c.address, t);
        } else {
          views[node]!.delete(c.address);
        }
      });
      return child;
    }),
  );
  // Let the monitors subscribe before taking the snapshots they continue from.
  await new Promise((r) => setTimeout(r, 100));
  for (let node = 0; node < bed.nodeCount; node++) {
    for (const a of snapshot(bed, node)) views[node]!.add(a);
  }
  for (const a of new Set(views.flatMap((v) => [...v]))) check(a, Date.now());
  const hosted = () => {
    const m = new Map<string, number[]>();
    views.forEach((v, node) => {
      for (const a of v) m.set(a, [...(m.get(a) ?? []), node]);
    });
    return m;
  };
  return {
    hosted,
    hostOf: (address) => hosted().get(address)?.[0],
    overlaps,
    changes,
    verify() {
      const diffs: string[] = [];
      for (let node = 0; node < bed.nodeCount; node++) {
        const now = [...snapshot(bed, node)].sort().join(",");
        const seen = [...views[node]!].sort().join(",");
        if (now !== seen) diffs.push(`node ${node}: ip addr has [${now}], followed view has [${seen}]`);
      }
      return diffs;
    },
    stop() {
      for (const m of monitors) {
        m.kill("SIGTERM");
        if (m.pid !== undefined) bed.forget(m.pid);
      }
    },
  };
}
