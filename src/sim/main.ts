// Command line for the cluster simulator.
//
//   node dist/src/sim/main.js --seeds 100000 [--start S] [--nodes 3-7]
//        [--lock | --no-lock | --both] [--no-majority] [--steps N] [--keep-going]
//   node dist/src/sim/main.js --seed S --nodes K --lock --trace
//   node dist/src/sim/main.js --databases --seeds N | --seed S [--nodes K] [--trace]
//   node dist/src/sim/main.js --migration --seeds N | --seed S [--steps N] [--trace]
//
// With a range of nodes (or --both) each seed picks its node count (and mode)
// from the seed, and a failure prints the exact command that replays it.
// Exit status is set, never forced with process.exit(), which can cut off
// output still queued for a pipe.

import { simulate } from "./cluster.ts";
import { simulateDatabases } from "./database.ts";
import { simulateMigration } from "./migration.ts";

interface Args {
  seeds: number;
  start: number;
  nodesLo: number;
  nodesHi: number;
  mode: "lock" | "no-lock" | "both";
  majority: boolean;
  steps: number | undefined;
  trace: boolean;
  single: number | undefined;
  keepGoing: boolean;
  /** Run the database simulator (recovery, transactions) instead of the cluster one. */
  databases: boolean;
  /** Run the record migration simulator. */
  migration: boolean;
}

class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

function int(name: string, v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a non-negative integer, got ${v === undefined ? "nothing" : `"${v}"`}`);
  return Number(v);
}

export function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    seeds: 1000,
    start: 1,
    nodesLo: 3,
    nodesHi: 7,
    mode: "both",
    majority: true,
    steps: undefined,
    trace: false,
    single: undefined,
    keepGoing: false,
    databases: false,
    migration: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case "--seeds":
        a.seeds = int(arg, argv[++i]);
        break;
      case "--start":
        a.start = int(arg, argv[++i]);
        break;
      case "--seed":
        a.single = int(arg, argv[++i]);
        break;
      case "--steps":
        a.steps = int(arg, argv[++i]);
        break;
      case "--nodes": {
        const v = argv[++i] ?? "";
        const m = /^(\d+)(?:-(\d+))?$/.exec(v);
        if (m === null) usage(`--nodes needs K or LO-HI, got "${v}"`);
        a.nodesLo = Number(m[1]);
        a.nodesHi = Number(m[2] ?? m[1]);
        if (a.nodesLo < 1 || a.nodesHi < a.nodesLo || a.nodesHi > 64) usage(`--nodes ${v} is not a range within 1-64`);
        break;
      }
      case "--lock":
        a.mode = "lock";
        break;
      case "--no-lock":
        a.mode = "no-lock";
        break;
      case "--both":
        a.mode = "both";
        break;
      case "--no-majority":
        a.majority = false;
        break;
      case "--trace":
        a.trace = true;
        break;
      case "--keep-going":
        a.keepGoing = true;
        break;
      case "--databases":
        a.databases = true;
        break;
      case "--migration":
        a.migration = true;
        break;
      default:
        usage(`unknown argument "${arg}"`);
    }
  }
  return a;
}

/** Node count and mode a seed runs with, so a range run and its replay agree. */
export function planFor(seed: number, a: Pick<Args, "nodesLo" | "nodesHi" | "mode">): { nodes: number; lock: boolean } {
  let h = Math.imul(seed ^ 0x2545f491, 0x9e3779b1) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  const nodes = a.nodesLo + (h % (a.nodesHi - a.nodesLo + 1));
  const lock = a.mode === "both" ? ((h >>> 8) & 1) === 0 : a.mode === "lock";
  return { nodes, lock };
}

function replayCommand(seed: number, nodes: number, lock: boolean, a: Args): string {
  const parts = ["node dist/src/sim/main.js", `--seed ${seed}`, `--nodes ${nodes}`, lock ? "--lock" : "--no-lock"];
  if (!a.majority) parts.push("--no-majority");
  if (a.steps !== undefined) parts.push(`--steps ${a.steps}`);
  parts.push("--trace");
  return parts.join(" ");
}

function main(): void {
  let a: Args;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(
      `tandem-sim: ${e.message}\n` +
        "usage: main.js --seeds N [--start S] [--nodes 3-7] [--lock|--no-lock|--both] [--no-majority] [--steps N] [--keep-going]\n" +
        "       main.js --seed S [--nodes K] [--lock|--no-lock] [--trace]\n" +
        "       main.js --databases --seeds N | --seed S [--nodes K] [--trace]\n" +
        "       main.js --migration --seeds N | --seed S [--steps N] [--trace]\n",
    );
    process.exitCode = 2;
    return;
  }
  const steps = a.steps === undefined ? {} : { steps: a.steps };
  if (a.databases) {
    runDatabases(a, steps);
    return;
  }
  if (a.migration) {
    runMigration(a, steps);
    return;
  }
  if (a.single !== undefined) {
    const plan = planFor(a.single, a);
    const r = simulate({ seed: a.single, ...plan, lock: a.mode === "both" ? plan.lock : a.mode === "lock", requireMajority: a.majority, log: a.trace, ...steps });
    if (a.trace) process.stdout.write(r.trace.map((line) => `${line}\n`).join(""));
    const s = r.stats;
    process.stdout.write(
      `seed ${r.seed}: ${r.ok ? "ok" : `FAILED: ${r.failure}`} (${plan.nodes} nodes, ${s.coreSteps} steps, ${s.packets} packets, ${s.faults} faults, ` +
        `virtual ${(s.virtualMs / 1000).toFixed(1)} s${s.quietConvergedMs === undefined ? "" : `, converged ${s.quietConvergedMs} ms after the faults`})\n`,
    );
    process.exitCode = r.ok ? 0 : 1;
    return;
  }
  const began = Date.now();
  let lastReport = began;
  let steps_ = 0;
  let failed = 0;
  for (let i = 0; i < a.seeds; i++) {
    const seed = a.start + i;
    const plan = planFor(seed, a);
    const r = simulate({ seed, ...plan, requireMajority: a.majority, ...steps });
    steps_ += r.stats.coreSteps;
    if (!r.ok) {
      process.stdout.write(`\nseed ${seed} FAILED (${plan.nodes} nodes, ${plan.lock ? "lock" : "no lock"}): ${r.failure}\n`);
      for (const line of r.trace) process.stdout.write(`  ${line}\n`);
      process.stdout.write(`replay: ${replayCommand(seed, plan.nodes, plan.lock, a)}\n`);
      process.exitCode = 1;
      failed++;
      if (!a.keepGoing) return;
    }
    const now = Date.now();
    if (now - lastReport >= 2000 || i === a.seeds - 1) {
      lastReport = now;
      const secs = (now - began) / 1000;
      process.stdout.write(
        `${i + 1 - failed}/${a.seeds} seeds ok${failed > 0 ? `, ${failed} failed` : ""} (${seed}), ${(secs > 0 ? (i + 1) / secs : 0).toFixed(0)} seeds/s, ${(steps_ / Math.max(secs, 0.001) / 1000).toFixed(0)}k core steps/s\n`,
      );
    }
  }
}

/** Database runs: node count 3 + seed % 3 unless --nodes K pins it, as the seed test does. */
function runDatabases(a: Args, steps: { steps?: number }): void {
  const first = a.single ?? a.start;
  const count = a.single === undefined ? a.seeds : 1;
  const pinned = a.nodesLo === a.nodesHi ? a.nodesLo : undefined;
  let failed = 0;
  for (let seed = first; seed < first + count; seed++) {
    const nodes = pinned ?? 3 + (seed % 3);
    const r = simulateDatabases({ seed, nodes, log: a.trace, ...steps });
    if (a.trace) process.stdout.write(r.trace.map((line) => `${line}\n`).join(""));
    if (!r.ok) {
      failed++;
      process.stdout.write(`seed ${seed} FAILED (${nodes} nodes): ${r.failure}\n`);
      process.stdout.write(`replay: node dist/src/sim/main.js --databases --seed ${seed} --nodes ${nodes} --trace\n`);
      process.exitCode = 1;
      if (!a.keepGoing) return;
    } else if (a.single !== undefined) {
      process.stdout.write(`seed ${seed}: ok (${nodes} nodes) ${JSON.stringify(r.stats)}\n`);
    }
  }
  if (a.single === undefined) process.stdout.write(`${count - failed}/${count} database seeds ok\n`);
}

/** Record migration runs: each seed picks its node and key counts. */
function runMigration(a: Args, steps: { steps?: number }): void {
  const first = a.single ?? a.start;
  const count = a.single === undefined ? a.seeds : 1;
  let failed = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r = simulateMigration({ seed, trace: a.trace, ...steps });
    if (a.trace) process.stdout.write(r.trace.map((line) => `${line}\n`).join(""));
    if (!r.ok) {
      failed++;
      process.stdout.write(`seed ${seed} FAILED: ${r.failure}\nreplay: node dist/src/sim/main.js --migration --seed ${seed}${a.steps === undefined ? "" : ` --steps ${a.steps}`} --trace\n`);
      process.exitCode = 1;
      if (!a.keepGoing) return;
    } else if (a.single !== undefined) {
      process.stdout.write(`seed ${seed}: ok ${JSON.stringify(r.stats)}\n`);
    }
  }
  if (a.single === undefined) process.stdout.write(`${count - failed}/${count} migration seeds ok\n`);
}

main();
