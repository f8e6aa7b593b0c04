// Client connections leave nothing behind: after many short sessions (valid
// controls, leader registrations, garbage, packets cut short) the daemon counts
// only the clients still connected, answers as before, and gives back the
// memory the burst took (it logs the collection).

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { sleep } from "../../src/local/cluster.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM } from "../support/cluster.ts";
import { SESSION_KINDS, session } from "../support/sessions.ts";

test("connection state is released after a burst of client sessions", async () => {
  const cluster = await startCluster("sessions", 47010, { nodes: 1 });
  try {
    await cluster.waitHealthy();
    const env = cluster.env(0);
    assert.equal((await run(process.execPath, [TANDEM, "setdebug", "DEBUG"], env)).code, 0);
    const socket = cluster.layout.socket(0);
    const total = 600;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        await session(socket, i, SESSION_KINDS[i % SESSION_KINDS.length]!);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // The tool's own connection is the only one left.
    const ping = await run(process.execPath, [TANDEM, "ping"], env);
    assert.match(ping.stdout, /\(1 clients\)/);
    if (hasRealCtdb) assert.match((await run(CTDB, ["ping"], env)).stdout, /\(1 clients\)/);
    assert.equal((await run(process.execPath, [TANDEM, "pnn"], env)).stdout, "0\n");
    // Once the socket is quiet, the daemon collects what the burst allocated.
    const logFile = path.join(cluster.layout.nodeBase(0), "log.ctdb");
    const deadline = Date.now() + 15_000;
    while (!/Collected after client sessions/.test(fs.readFileSync(logFile, "utf8")) && Date.now() < deadline) await sleep(200);
    assert.match(fs.readFileSync(logFile, "utf8"), /Collected after client sessions: heap [\d.]+ MB -> [\d.]+ MB/);
  } finally {
    await cluster.stop();
  }
});
