// The node's HTTP port (tandem.conf `[http] listen`): Prometheus metrics at
// /metrics, the status page at / (plain files from web/, read once at start,
// so nothing else on disk can ever be served), and its data at /status.json.
// Only GET on those paths: 405 for other methods, 404 for other paths.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterState } from "../cluster/core.ts";
import type { NodeConfig } from "../config/load.ts";
import type { EventStatus } from "../event/api.ts";
import type { NodeMap } from "../protocol/types.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { performance } from "node:perf_hooks";
import {
  appendTimeline,
  changes,
  finishedSince,
  type StatusDoc,
  type StatusInput,
  statusDoc,
  type TakeoverRecord,
  type TimelineEntry,
} from "./status.ts";

/** What the observer reads from the node: its state, never anything it could change. */
export interface ObservedNode {
  readonly pnn: number;
  readonly cluster: { readonly state: ClusterState };
  readonly transport: { readonly peerStats: ReadonlyMap<number, { ups: number; downs: number }> };
  readonly databases?: { readonly local: { list(): readonly ObservedDb[] } };
  /** Public addresses and takeover runs (src/failover/). */
  readonly failover?: {
    readonly state: {
      readonly participant: { readonly addresses: ReadonlyMap<string, unknown>; readonly assignment: ReadonlyMap<string, number> };
      readonly coordinator: { readonly history: readonly TakeoverRecord[] };
    };
  };
  nodemap(): NodeMap;
}

interface ObservedDb {
  readonly name: string;
  readonly kind: string;
  traverse(visit: () => unknown): number;
}

export interface HttpObserver {
  /** host:port actually bound (the port may have been 0). */
  readonly address: string;
  readonly port: number;
  eventRecorded(component: string, event: string, status: EventStatus): void;
  close(): Promise<void>;
}

const PAGE_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/status.css": { file: "status.css", type: "text/css; charset=utf-8" },
  "/status.js": { file: "status.js", type: "text/javascript; charset=utf-8" },
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
};
const DYNAMIC = new Set(["/metrics", "/status.json"]);
// Changes between two looks at the state become timeline entries.
const POLL_MS = 250;

export function webDir(): string {
  // dist/src/observe/http.js → <checkout>/web
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "web");
}

function lockDescription(config: NodeConfig): string | null {
  const etcd = config.tandem.cluster.etcdLock;
  if (etcd !== undefined) return `etcd ${etcd.key} at ${etcd.endpoints.join(", ")}`;
  return config.conf.cluster.clusterLock ?? null;
}

export async function startHttpObserver(
  node: ObservedNode,
  config: NodeConfig,
  listen: { host: string; port: number },
  log: (level: "error" | "warning" | "notice" | "info" | "debug", msg: string) => void,
): Promise<HttpObserver> {
  const page = new Map<string, { body: Buffer; type: string }>();
  for (const [route, { file, type }] of Object.entries(PAGE_FILES)) {
    page.set(route, { body: fs.readFileSync(path.join(webDir(), file)), type });
  }
  const startedMs = Date.now();
  const events = new Map<string, EventStatus>();
  const lock = lockDescription(config);
  const snapshot = (): StatusInput => {
    const state = node.cluster.state;
    const participant = node.failover?.state.participant;
    return {
      pnn: node.pnn,
      nowMs: Date.now(),
      startedMs,
      nodes: node.nodemap().nodes.map((n) => ({ pnn: n.pnn, address: n.addr, flags: n.flags })),
      leader: state.leader,
      generation: state.generation,
      recoveryMode: state.recoveryMode,
      runstate: state.runstate,
      lock: lock === null ? null : { description: lock, held: state.lock === "held" },
      events,
      addresses: [...(participant?.addresses.keys() ?? [])].map((address) => ({ address, pnn: participant?.assignment.get(address) ?? -1 })),
      takeovers: node.failover?.state.coordinator.history ?? [],
    };
  };
  const metrics: Metrics = await createMetrics({
    snapshot,
    peerStats: () => node.transport.peerStats,
    databases: () => (node.databases?.local.list() ?? []).map((db) => ({ name: db.name, kind: db.kind, records: () => db.traverse(() => undefined) })),
  });

  let timeline: TimelineEntry[] = [];
  let last: StatusDoc | undefined;
  let lastRun = 0;
  const look = (): StatusDoc => {
    const input = snapshot();
    // The failover core keeps its times on the monotonic clock.
    const doc = statusDoc(input, [], performance.timeOrigin);
    const added = changes(last, doc);
    if (last !== undefined && doc.generation !== last.generation) metrics.recovery();
    for (const r of finishedSince(input.takeovers ?? [], lastRun)) {
      metrics.takeoverFinished(r.result, ((r.finishedMs ?? r.startedMs) - r.startedMs) / 1000);
      lastRun = r.run;
    }
    timeline = appendTimeline(timeline, added);
    last = doc;
    return { ...doc, timeline };
  };
  look();
  const poll = setInterval(look, POLL_MS);
  poll.unref();

  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    const route = url.split("?")[0] ?? "/";
    const known = page.has(route) || DYNAMIC.has(route);
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        "Content-Type": type,
        "Content-Length": String(Buffer.byteLength(body)),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'self'",
        ...extra,
      });
      res.end(body);
    };
    if (!known) return send(404, "text/plain; charset=utf-8", `Not found: ${route}\n`);
    if (req.method !== "GET") return send(405, "text/plain; charset=utf-8", `Method ${req.method} not allowed; only GET\n`, { Allow: "GET" });
    if (route === "/metrics") {
      metrics.text().then(
        (text) => send(200, metrics.contentType, text),
        (err: Error) => send(500, "text/plain; charset=utf-8", `metrics failed: ${err.message}\n`),
      );
      return;
    }
    if (route === "/status.json") return send(200, "application/json", JSON.stringify(look()));
    const file = page.get(route)!;
    send(200, file.type, file.body);
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      clearInterval(poll);
      const where = `${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${listen.port}`;
      const why =
        err.code === "EADDRINUSE"
          ? "the port is already in use"
          : err.code === "EADDRNOTAVAIL"
            ? "the address is not one of this host's"
            : err.code === "EACCES"
              ? "permission denied (ports below 1024 need root)"
              : err.message;
      reject(new Error(`cannot serve metrics and the status page on ${where} ([http] listen in ${config.paths.tandemConfFile}): ${why}`));
    });
    server.listen({ host: listen.host, port: listen.port }, () => resolve());
  });
  server.on("error", (err) => log("error", `HTTP port: ${err.message}`));
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : listen.port;
  log("notice", `Metrics and status page on http://${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${port}/`);
  return {
    address: listen.host,
    port,
    eventRecorded: (component, event, status) => {
      if (component === "legacy") events.set(event, status);
      metrics.eventRecorded(component, event, status);
    },
    close: () =>
      new Promise((resolve) => {
        clearInterval(poll);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
