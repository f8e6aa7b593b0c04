// Event benchmark: wall time of one `monitor` event for N no-op scripts, as a
// client of the event daemon sees it (connect, RUN request, reply — what
// `ctdb event run` does), for Tandem's event component and CTDB's ctdb-eventd
// side by side. Usage: node dist/bench/events.js [--runs K] [--scripts 0,1,10,50]

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { eventdRequest } from "../src/event/cli.ts";
import { checkoutDir, sleep } from "../src/local/cluster.ts";

const REAL_EVENTD = "/usr/libexec/ctdb/ctdb-eventd";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function makeBase(scripts: number): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-bench-events-"));
  for (const dir of ["run", "var", "share", "events/legacy"]) fs.mkdirSync(path.join(base, dir), { recursive: true });
  for (let i = 0; i < scripts; i++) {
    const name = `${String(i % 100).padStart(2, "0")}.noop${i}.script`;
    fs.writeFileSync(path.join(base, "events", "legacy", name), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  }
  return base;
}

function startEventd(impl: "tandem" | "ctdb", base: string): ChildProcess {
  const env = { ...process.env, CTDB_BASE: base, CTDB_TEST_MODE: "yes", CTDB_INTERACTIVE: "1" };
  if (impl === "ctdb") return spawn(REAL_EVENTD, [], { env, stdio: "ignore" });
  return spawn(process.execPath, [path.join(checkoutDir(), "dist", "bench", "eventd-tandem.js")], { env, stdio: "ignore" });
}

async function measure(impl: "tandem" | "ctdb", scripts: number, runs: number): Promise<{ mean: number; p50: number }> {
  const base = makeBase(scripts);
  const eventd = startEventd(impl, base);
  const socket = path.join(base, "run", "eventd.socket");
  try {
    for (let i = 0; i < 200 && !fs.existsSync(socket); i++) await sleep(25);
    const run = async () => {
      const outcome = await eventdRequest(socket, { cmd: "run", component: "legacy", event: "monitor", args: null, timeout: 30, flags: 0 });
      if (outcome.kind !== "reply" || outcome.reply.result !== 0) throw new Error(`${impl}: monitor failed: ${JSON.stringify(outcome)}`);
    };
    for (let i = 0; i < 3; i++) await run();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { mean: times.reduce((a, b) => a + b, 0) / times.length, p50: times[Math.floor(times.length / 2)]! };
  } finally {
    const exited = new Promise((resolve) => eventd.once("exit", resolve));
    eventd.kill("SIGTERM");
    await Promise.race([exited, sleep(3000)]);
    if (eventd.exitCode === null && eventd.signalCode === null) eventd.kill("SIGKILL");
    fs.rmSync(base, { recursive: true, force: true });
  }
}

const runs = Number(option("--runs", "30"));
const counts = option("--scripts", "0,1,10,50").split(",").map(Number);
const impls: ("tandem" | "ctdb")[] = fs.existsSync(REAL_EVENTD) ? ["tandem", "ctdb"] : ["tandem"];
for (const scripts of counts) {
  for (const impl of impls) {
    const r = await measure(impl, scripts, runs);
    process.stdout.write(`${JSON.stringify({ impl, scripts, runs, meanMs: +r.mean.toFixed(2), p50Ms: +r.p50.toFixed(2) })}\n`);
  }
}
