// The services a node runs beside the cluster: event scripts (and the eventd
// socket the real `ctdb event` talks to), notifications, and the monitor loop
// that turns service health into the node's UNHEALTHY flag.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { FLAGS_INACTIVE, Runstate } from "../cluster/types.ts";
import type { NodeConfig } from "../config/load.ts";
import {
  effectiveResult,
  eventAllowed,
  initialMonitorState,
  type MonitorState,
  monitorAfterStartup,
  monitorMayRun,
  monitorResult,
  monitorSkipped,
  type Runstate as EventRunstate,
} from "../event/health.ts";
import { runNotification } from "../event/notify.ts";
import { startEventServer } from "../event/server.ts";
import { EventService } from "../event/service.ts";
import type { Log } from "./logger.ts";
import type { Node, NodeHooks } from "./node.ts";

const RUNSTATE_NAMES: EventRunstate[] = ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"];
const NOTIFY_AFTER = new Set(["init", "setup", "startup"]);

export function toolPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bin", "tandem.js");
}

export async function startServices(node: Node, config: NodeConfig, log: Log): Promise<NodeHooks> {
  const service = new EventService({
    base: config.paths.base,
    datadir: config.paths.datadir,
    toolPath: toolPath(),
    env: process.env,
    // Several test-mode nodes share one host; each keeps its own script state.
    scriptVardir: config.paths.testMode ? path.join(config.paths.vardir, "scripts") : undefined,
    debugScript: config.conf.event.debugScript,
    log,
    logging: config.conf.logging.location,
    debugLevel: config.conf.logging.logLevel,
  });
  const server = await startEventServer(config.paths.eventdSocket, service, {
    info: (m: string) => log("info", m),
    error: (m: string) => log("error", m),
  });

  const notify = (event: string) =>
    void runNotification({ base: config.paths.base, event, env: service.scriptEnv, log: (level, m) => log(level, m) });

  const runEvent = async (event: string, args: string[]): Promise<number> => {
    const state = node.cluster.state;
    if (!eventAllowed(event, { recoveryMode: state.recoveryMode === 0 ? "normal" : "active" })) {
      log("error", `Refusing to run event '${event}' while in recovery`);
      return -1;
    }
    const timeoutSec = node.tunable("EventScriptTimeout") ?? 30;
    const result = effectiveResult(event, await service.runEvent(event, args, timeoutSec));
    if (result !== 0) log("error", `${event} event failed (${result})`);
    else if (NOTIFY_AFTER.has(event)) notify(event);
    return result;
  };

  let monitor: MonitorState = initialMonitorState();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (delaySec: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void monitorOnce(), delaySec * 1000);
  };
  const monitorOnce = async () => {
    const state = node.cluster.state;
    const tunables = {
      monitorIntervalSec: node.tunable("MonitorInterval") ?? 15,
      monitorTimeoutCount: node.tunable("MonitorTimeoutCount") ?? 20,
    };
    const mayRun = monitorMayRun({
      recoveryMode: state.recoveryMode === 0 ? "normal" : "active",
      runstate: RUNSTATE_NAMES[state.runstate] ?? "UNKNOWN",
      inactive: (state.ownFlags & FLAGS_INACTIVE) !== 0,
      allFrozen: false,
    });
    if (!mayRun) {
      const skipped = monitorSkipped(monitor);
      monitor = skipped.state;
      return schedule(skipped.delaySec);
    }
    const reply = await service.runEvent("monitor", [], node.tunable("EventScriptTimeout") ?? 30);
    const verdict = monitorResult(monitor, reply, tunables);
    monitor = verdict.state;
    if (verdict.transition !== null) {
      log("notice", `Node became ${verdict.transition.toUpperCase()}`);
      node.setHealth(verdict.transition === "healthy");
      notify(verdict.transition);
    }
    schedule(verdict.delaySec);
  };

  // Every recovery runs startrecovery and recovered, then the takeover run's
  // ipreallocated, in that order; queued so they never overlap one another.
  let recoveryChain: Promise<unknown> = Promise.resolve();
  node.onRecovered = () => {
    recoveryChain = recoveryChain.then(async () => {
      if (stopped || node.cluster.state.runstate < Runstate.FIRST_RECOVERY) return;
      await runEvent("startrecovery", []);
      await runEvent("recovered", []);
      await runEvent("ipreallocated", []);
    });
  };

  return {
    runEvent,
    running: () => {
      const first = monitorAfterStartup(monitor);
      monitor = first.state;
      schedule(first.delaySec);
    },
    stopping: async () => {
      stopped = true;
      clearTimeout(timer);
      await server.close();
    },
    closeScripts: () => service.close(),
  };
}
