// The services a node runs beside the cluster: event scripts (and the eventd
// socket the real `ctdb event` talks to) and notifications. When they run is
// the lifecycle core's decision (src/lifecycle/core.ts).

import path from "node:path";
import { fileURLToPath } from "node:url";
import type { NodeConfig } from "../config/load.ts";
import { runNotification } from "../event/notify.ts";
import { startEventServer } from "../event/server.ts";
import { EventService, type EventServiceOptions } from "../event/service.ts";
import type { Log } from "./logger.ts";

export interface NodeServices {
  /** Runs an event's scripts; resolves with eventd's reply (0 = success). */
  runEvent(event: string, args: string[], timeoutSec: number): Promise<number>;
  /** Runs the notification scripts for an event. */
  notify(event: string): void;
  /** Closes the eventd socket and ends every script still running. */
  close(): Promise<void>;
}

export function toolPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bin", "tandem.js");
}

export async function startServices(
  config: NodeConfig,
  log: Log,
  onRecord?: EventServiceOptions["onRecord"],
): Promise<NodeServices> {
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
    onRecord,
  });
  const server = await startEventServer(config.paths.eventdSocket, service, {
    info: (m: string) => log("info", m),
    error: (m: string) => log("error", m),
  });
  return {
    runEvent: (event, args, timeoutSec) => service.runEvent(event, args, timeoutSec),
    notify: (event) =>
      void runNotification({ base: config.paths.base, event, env: service.scriptEnv, log: (level, m) => log(level, m) }),
    close: async () => {
      await server.close();
      service.close();
    },
  };
}
