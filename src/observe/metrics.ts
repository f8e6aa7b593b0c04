// Prometheus metrics of one node, through prom-client. Gauges are read from
// the node's state when scraped; counters and histograms are fed as things
// happen (event runs, recoveries). Names follow Prometheus conventions:
// `tandem_` prefix, base units (seconds), `_total` for counters, state sets
// as one series per state with value 0/1.

import type * as PromClient from "prom-client";
import { RUNSTATE_NAMES } from "../cli/format/common.ts";
import type { EventStatus } from "../event/api.ts";
import { resultName, type StatusInput } from "./status.ts";

/** The node flags a metric has a series for, lower case as label values. */
const FLAGS: readonly [number, string][] = [
  [0x01, "disconnected"],
  [0x02, "unhealthy"],
  [0x04, "disabled"],
  [0x08, "banned"],
  [0x10, "deleted"],
  [0x20, "stopped"],
];

export interface MetricsSource {
  snapshot(): StatusInput;
  peerStats(): ReadonlyMap<number, { ups: number; downs: number }>;
  /** Attached databases; `records` walks the local store (read-only), so it is called only on a scrape. */
  databases(): readonly { name: string; kind: string; records(): number }[];
}

export interface Metrics {
  contentType: string;
  text(): Promise<string>;
  eventRecorded(component: string, event: string, status: EventStatus): void;
  recovery(): void;
  takeoverFinished(result: string, seconds: number): void;
}

// Event scripts take milliseconds to tens of seconds (the default timeout is 30 s).
const SCRIPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export async function createMetrics(source: MetricsSource): Promise<Metrics> {
  // ~13 MB and ~80 ms to load: only for nodes with the HTTP port on.
  const prom: typeof PromClient = await import("prom-client");
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let snap: StatusInput | undefined;
  // One snapshot per scrape, taken by the first gauge collected.
  const current = () => (snap ??= source.snapshot());

  new prom.Gauge({
    name: "tandem_node_flag",
    help: "1 if the node has the flag set, as this node sees it",
    labelNames: ["pnn", "flag"],
    registers,
    collect() {
      this.reset();
      for (const n of current().nodes) for (const [bit, flag] of FLAGS) this.set({ pnn: String(n.pnn), flag }, (n.flags & bit) !== 0 ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: "tandem_node_ok",
    help: "1 if the node has no flag set (OK in ctdb status)",
    labelNames: ["pnn", "address"],
    registers,
    collect() {
      this.reset();
      for (const n of current().nodes) this.set({ pnn: String(n.pnn), address: n.address }, n.flags === 0 ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: "tandem_pnn",
    help: "PNN of this node",
    registers,
    collect() {
      this.set(current().pnn);
    },
  });
  new prom.Gauge({
    name: "tandem_leader_pnn",
    help: "PNN of the leader this node knows, -1 if none",
    registers,
    collect() {
      const { leader } = current();
      this.set(leader === 0xffffffff ? -1 : leader);
    },
  });
  new prom.Gauge({
    name: "tandem_is_leader",
    help: "1 if this node is the leader",
    registers,
    collect() {
      const s = current();
      this.set(s.leader === s.pnn ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: "tandem_runstate",
    help: "This node's runstate: 1 for the current one",
    labelNames: ["runstate"],
    registers,
    collect() {
      const { runstate } = current();
      RUNSTATE_NAMES.forEach((name, i) => {
        this.set({ runstate: name }, i === runstate ? 1 : 0);
      });
    },
  });
  new prom.Gauge({
    name: "tandem_generation",
    help: "Generation of this node's vnnmap (changes with every recovery)",
    registers,
    collect() {
      this.set(current().generation);
    },
  });
  new prom.Gauge({
    name: "tandem_recovery_mode",
    help: "1 while this node is in recovery mode",
    registers,
    collect() {
      this.set(current().recoveryMode === 0 ? 0 : 1);
    },
  });
  new prom.Gauge({
    name: "tandem_cluster_lock_held",
    help: "1 if this node holds the cluster lock",
    registers,
    collect() {
      this.set(current().lock?.held === true ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: "tandem_public_address_host",
    help: "1 for the node hosting each public address",
    labelNames: ["address", "pnn"],
    registers,
    collect() {
      this.reset();
      for (const a of current().addresses) if (a.pnn >= 0) this.set({ address: a.address, pnn: String(a.pnn) }, 1);
    },
  });
  new prom.Gauge({
    name: "tandem_event_script_last_result",
    help: "Result code of each event script's last run (0 ok, >0 exit status, <0 -errno)",
    labelNames: ["event", "script"],
    registers,
    collect() {
      this.reset();
      for (const [event, s] of current().events) for (const x of s.scripts) this.set({ event, script: x.name }, x.result);
    },
  });
  new prom.Counter({
    name: "tandem_transport_connections_total",
    help: "Times the link to each peer came up (the first connection and every reconnect)",
    labelNames: ["peer"],
    registers,
    collect() {
      this.reset();
      for (const [peer, s] of source.peerStats()) this.inc({ peer: String(peer) }, s.ups);
    },
  });
  new prom.Counter({
    name: "tandem_transport_disconnections_total",
    help: "Times the link to each peer went down",
    labelNames: ["peer"],
    registers,
    collect() {
      this.reset();
      for (const [peer, s] of source.peerStats()) this.inc({ peer: String(peer) }, s.downs);
    },
  });

  new prom.Gauge({
    name: "tandem_database_records",
    help: "Records in this node's local copy of each attached database",
    labelNames: ["db", "kind"],
    registers,
    collect() {
      this.reset();
      for (const db of source.databases()) this.set({ db: db.name, kind: db.kind }, db.records());
    },
  });

  const eventRuns = new prom.Counter({
    name: "tandem_event_runs_total",
    help: "Completed event runs, by event and result",
    labelNames: ["event", "result"],
    registers,
  });
  const eventSeconds = new prom.Histogram({
    name: "tandem_event_duration_seconds",
    help: "Time an event's scripts took, first start to last end",
    labelNames: ["event"],
    buckets: SCRIPT_BUCKETS,
    registers,
  });
  const scriptRuns = new prom.Counter({
    name: "tandem_event_script_runs_total",
    help: "Event script runs, by event, script and result",
    labelNames: ["event", "script", "result"],
    registers,
  });
  const scriptSeconds = new prom.Histogram({
    name: "tandem_event_script_duration_seconds",
    help: "Time each event script took",
    labelNames: ["event", "script"],
    buckets: SCRIPT_BUCKETS,
    registers,
  });
  const takeoverRuns = new prom.Counter({
    name: "tandem_takeover_runs_total",
    help: "Takeover runs this node coordinated as leader, by result",
    labelNames: ["result"],
    registers,
  });
  const takeoverSeconds = new prom.Histogram({
    name: "tandem_takeover_run_duration_seconds",
    help: "Time from a takeover run's start to its end",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const recoveries = new prom.Counter({
    name: "tandem_recoveries_total",
    help: "Recoveries this node went through (vnnmap generation changes)",
    registers,
  });

  return {
    contentType: registry.contentType,
    async text() {
      snap = undefined;
      try {
        return await registry.metrics();
      } finally {
        snap = undefined;
      }
    },
    eventRecorded(component, event, status) {
      if (component !== "legacy") return;
      eventRuns.inc({ event, result: resultName(status.summary).toLowerCase() });
      if (status.scripts.length > 0) {
        const begin = Math.min(...status.scripts.map((x) => x.beginMs));
        const end = Math.max(...status.scripts.map((x) => x.endMs));
        eventSeconds.observe({ event }, Math.max(0, end - begin) / 1000);
      }
      for (const x of status.scripts) {
        scriptRuns.inc({ event, script: x.name, result: resultName(x.result).toLowerCase() });
        scriptSeconds.observe({ event, script: x.name }, Math.max(0, x.endMs - x.beginMs) / 1000);
      }
    },
    recovery() {
      recoveries.inc();
    },
    takeoverFinished(result, seconds) {
      takeoverRuns.inc({ result });
      takeoverSeconds.observe(seconds);
    },
  };
}
