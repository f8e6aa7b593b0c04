// The daemon's wiring of the failover component: its settings from the
// tunables and configuration, the cluster core's view turned into the facts
// it follows, the public_addresses and home_nodes files read for it, and the
// control-socket surface (control/failover.ts) on top of its shell.

import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { ClusterState } from "../cluster/core.ts";
import { failoverGraces, type KeepaliveSettings } from "../cluster/detection.ts";
import type { NodeConfig } from "../config/load.ts";
import { parseHomeNodes } from "../config/home-nodes.ts";
import { parsePublicAddresses } from "../config/public-addresses.ts";
import { formatConfigError } from "../config/result.ts";
import type { Tunables } from "../config/tunables.ts";
import type { FailoverControls } from "../control/failover.ts";
import { allocate, type HomeNode, IpAllocAlgorithm } from "../failover/alloc/index.ts";
import { banTime } from "../failover/banning.ts";
import type { ClusterFacts, FailoverConfig } from "../failover/node.ts";
import { ifaces, ipInfo, publicIps } from "../failover/participant.ts";
import type { FailoverShell } from "../failover/shell.ts";
import type { NodeView, PublicAddress } from "../failover/types.ts";
import { NodeFlag, SRVID_DISABLE_TAKEOVER_RUNS, SRVID_REBALANCE_NODE, SRVID_TAKEOVER_RUN } from "../protocol/constants.ts";
import { decodeDisableMessage, decodeSrvidMessage, decodeU32, encodeI32 } from "../protocol/types.ts";

const HISTORY_SIZE = 20;

export interface FailoverSettings {
  config: FailoverConfig;
  /** Read again on reloadips. */
  homeNodes: HomeNode[];
}

export function failoverSettings(
  pnn: number,
  config: NodeConfig,
  tunables: () => Tunables,
  keepalives: KeepaliveSettings,
  log: (m: string) => void,
): FailoverSettings {
  const t = tunables();
  // The leases that keep an address off two nodes, from the keepalives in
  // force (Tandem's peer timeout, or CTDB's tunables when set explicitly).
  const graces = failoverGraces(keepalives);
  const homeNodes = readHomeNodes(config, log);
  const settings: FailoverSettings = {
    homeNodes,
    config: {
      pnn,
      coordinator: {
        // Read at each run, as CTDB's takeover helper reads the tunables.
        allocate: (nodes, addresses) => {
          const now = tunables();
          return allocate(nodes, addresses, {
            algorithm: (now["IPAllocAlgorithm"] ?? IpAllocAlgorithm.LCP2) as IpAllocAlgorithm,
            noIpFailback: (now["NoIPFailback"] ?? 0) !== 0,
            noIpTakeover: (now["NoIPTakeover"] ?? 0) !== 0,
            homeNodes: settings.homeNodes,
          });
        },
        runTimeoutMs: 3 * (t["TakeoverTimeout"] ?? 9) * 1000,
        retryMs: (t["RecoverInterval"] ?? 1) * 1000,
        holderGraceMs: graces.holderGraceMs,
        closedGraceMs: graces.closedGraceMs,
        historySize: HISTORY_SIZE,
        // Tenths of seconds since 2020 (fits a u32 until 2033): above the run
        // numbers of any earlier life of this daemon, which ran fewer runs than that.
        firstRun: Math.max(1, Math.floor((Date.now() - Date.UTC(2020, 0, 1)) / 100)),
      },
      participant: { leaderlessGraceMs: graces.leaderlessGraceMs },
      bans: {
        enableBans: (t["EnableBans"] ?? 1) !== 0,
        banPeriodSec: t["RecoveryBanPeriod"] ?? 300,
        graceMs: (t["RecoveryGracePeriod"] ?? 120) * 1000,
      },
    },
  };
  return settings;
}

function readHomeNodes(config: NodeConfig, log: (m: string) => void): HomeNode[] {
  const file = path.join(config.paths.base, "home_nodes");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const r = parseHomeNodes(text, file);
  if (r.ok) return r.value;
  for (const e of r.errors) log(`Ignoring home_nodes: ${formatConfigError(e)}`);
  return [];
}

/** public_addresses as it is on disk now (for reloadips). */
export function readPublicAddresses(config: NodeConfig): { ok: true; value: PublicAddress[] } | { ok: false; error: string } {
  const file = config.paths.publicAddressesFile;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, value: [] };
    return { ok: false, error: `${file}: ${(err as Error).message}` };
  }
  const r = parsePublicAddresses(text, file);
  return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.errors.map(formatConfigError).join("; ") };
}

/** What the failover component follows of the cluster core. */
export function clusterFacts(state: ClusterState): ClusterFacts {
  const self = state.config.pnn;
  const nodes: NodeView[] = [{ pnn: self, connected: true, flags: state.ownFlags, runstate: state.runstate, lastHeardMs: performance.now() }];
  for (const [pnn, peer] of state.peers) {
    nodes.push({
      pnn,
      connected: peer.connected,
      flags: peer.flags | (peer.connected ? 0 : NodeFlag.DISCONNECTED),
      runstate: peer.runstate,
      lastHeardMs: peer.lastHeardMs,
      closed: peer.closed,
    });
  }
  nodes.sort((a, b) => a.pnn - b.pnn);
  return {
    nodes,
    leader: state.leader,
    leading: state.role === "leader",
    ownFlags: state.ownFlags,
    runstate: state.runstate,
    recoveryActive: state.recoveryMode !== 0,
  };
}

/** The client controls' view of the failover shell. */
export function failoverControls(shell: FailoverShell, settings: FailoverSettings, config: NodeConfig): FailoverControls {
  const s = shell.state;
  return {
    pnn: s.config.pnn,
    publicIps: (only) => publicIps(s.participant, only),
    ipInfo: (address) => ipInfo(s.participant, address),
    ifaces: () => ifaces(s.participant),
    banTime: () => banTime(s.bans),
    setBan: (seconds) => shell.feed({ kind: "ban", seconds, reason: seconds === 0 ? "unbanned by request" : "banned by request" }),
    take: (address) => shell.request({ kind: "client-take", address }),
    release: (address, pnn) => shell.request({ kind: "client-release", address, pnn }),
    runEvent: (event) => shell.request({ kind: "client-event", event }),
    setLink: (iface, up) => shell.request({ kind: "link", iface, up }),
    addAddress: (address) => shell.request({ kind: "add-address", address }),
    delAddress: (address) => shell.request({ kind: "del-address", address }),
    reloadAddresses: async () => {
      const r = readPublicAddresses(config);
      if (!r.ok) return { status: -1, errmsg: r.error };
      settings.homeNodes = readHomeNodes(config, () => {});
      return shell.request({ kind: "configure", addresses: r.value });
    },
    history: () => s.coordinator.history,
  };
}

/**
 * CTDB messages the failover component answers: takeover-run requests (the
 * `ctdb ipreallocate` family), REBALANCE_NODE (`addip`), DISABLE_TAKEOVER_RUNS
 * (`reloadips`). True when the message was one of them.
 */
export function failoverMessage(
  shell: FailoverShell,
  srvid: bigint,
  data: Buffer,
  reply: (pnn: number, srvid: bigint, data: Buffer) => void,
  log: (m: string) => void,
): boolean {
  try {
    switch (srvid) {
      case SRVID_TAKEOVER_RUN:
        shell.takeoverRun("takeover run requested", decodeSrvidMessage(data));
        return true;
      case SRVID_REBALANCE_NODE:
        shell.takeoverRun(`rebalance onto node ${decodeU32(data)}`, undefined);
        return true;
      case SRVID_DISABLE_TAKEOVER_RUNS: {
        const m = decodeDisableMessage(data);
        shell.feed({ kind: "disable-runs", untilMs: m.timeout === 0 ? 0 : performance.now() + m.timeout * 1000 });
        if (m.srvid !== 0n) reply(m.pnn, m.srvid, encodeI32(shell.state.config.pnn));
        return true;
      }
      default:
        return false;
    }
  } catch (err) {
    log(`Bad message for srvid 0x${srvid.toString(16)}: ${(err as Error).message}`);
    return true;
  }
}
