// What the HTTP port shows of public addresses and takeover runs: where each
// address is, runs counted and timed on the leader, moves in the timeline.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { sleep } from "../../src/local/cluster.ts";
import type { StatusDoc } from "../../src/observe/status.ts";
import { run, startCluster, TANDEM, type TestCluster, testPort } from "../support/cluster.ts";

// Addresses on made-up interfaces: no event script here configures them.
const ADDRESSES = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];
const HTTP_PORT = testPort(48076);
const url = (pnn: number, p: string) => `http://127.0.0.${pnn + 1}:${HTTP_PORT}${p}`;

function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function status(pnn: number): Promise<StatusDoc> {
  return (await (await fetch(url(pnn, "/status.json"))).json()) as StatusDoc;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `never saw ${what}`);
    await sleep(100);
  }
}

describe("public addresses and takeover runs on the HTTP port", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster("obsfailover", 48075, {
      httpPort: HTTP_PORT,
      setup: (layout) => {
        for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
          fs.writeFileSync(path.join(layout.nodeBase(pnn), "public_addresses"), ADDRESSES.map((a) => `${a}/24 tnd0\n`).join(""));
        }
      },
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  test("each address with its host, runs counted and timed on the leader, a move on the page's timeline", async () => {
    const { leader } = await cluster.waitHealthy(30_000);
    const placed = await until("every address placed", async () => {
      const s = await status(0);
      return s.addresses.length === 3 && s.addresses.every((a) => a.pnn !== null) ? s.addresses : undefined;
    });
    assert.deepEqual(placed.map((a) => a.address).sort(), ADDRESSES);
    const metrics = await (await fetch(url(0, "/metrics"))).text();
    for (const a of placed) assert.equal(sample(metrics, `tandem_public_address_host{address="${a.address}",pnn="${a.pnn}"}`), 1, metrics);

    const leaderMetrics = await until("a finished takeover run on the leader", async () => {
      const m = await (await fetch(url(leader, "/metrics"))).text();
      return (sample(m, 'tandem_takeover_runs_total{result="ok"}') ?? 0) >= 1 ? m : undefined;
    });
    assert.ok((sample(leaderMetrics, "tandem_takeover_run_duration_seconds_count") ?? 0) >= 1);
    const runs = (await status(leader)).takeovers;
    assert.ok(runs.length >= 1 && runs.some((r) => r.result === "OK" && r.steps.some((s) => / taken by node \d$/.test(s.text))), JSON.stringify(runs));

    // Disabling a node that hosts an address moves it; the page's timeline says where.
    const victim = placed[0]!.pnn!;
    const moved = placed.filter((a) => a.pnn === victim).map((a) => a.address);
    const r = await run(process.execPath, [TANDEM, "-n", String(victim), "disable"], cluster.env(0));
    assert.equal(r.code, 0, r.stderr);
    const via = (victim + 1) % 3;
    const after = await until("the address moved", async () => {
      const s = await status(via);
      return s.timeline.some((t) => t.text.startsWith(`${moved[0]}: node ${victim} → node `)) ? s : undefined;
    });
    assert.ok(after.addresses.every((a) => a.pnn !== victim));
  });
});
