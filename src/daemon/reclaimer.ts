// Wires the reclaim core (src/memory/reclaim.ts) to the client socket's
// sessions, a once-a-second tick and V8's full collection.

import v8 from "node:v8";
import vm from "node:vm";
import { DEFAULT_RECLAIM, initialReclaim, type ReclaimConfig, reclaimStep } from "../memory/reclaim.ts";
import type { Log } from "./logger.ts";

/**
 * V8's full collection. Node offers it only behind --expose-gc; setting the
 * flag at run time makes a fresh context carry `gc`, without requiring every
 * way of starting the daemon (unit files, scripts, the local cluster) to pass
 * a V8 option.
 */
function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

export interface Reclaimer {
  /** A client connected. */
  session(): void;
  stop(): void;
}

export function startReclaimer(log: Log, config: ReclaimConfig = DEFAULT_RECLAIM): Reclaimer {
  const gc = fullCollection();
  let state = initialReclaim();
  const timer = setInterval(() => {
    const step = reclaimStep(config, state, { kind: "tick", nowMs: Date.now() });
    state = step.state;
    if (!step.collect) return;
    const before = process.memoryUsage().heapTotal;
    gc();
    const after = process.memoryUsage().heapTotal;
    log("debug", `Collected after client sessions: heap ${(before / 1048576).toFixed(1)} MB -> ${(after / 1048576).toFixed(1)} MB`);
  }, 1000);
  timer.unref();
  return {
    session: () => {
      state = reclaimStep(config, state, { kind: "session", nowMs: Date.now() }).state;
    },
    stop: () => clearInterval(timer),
  };
}
