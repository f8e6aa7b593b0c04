// Time of one public IP allocation: 900 addresses (192.168.1–10.1–90, the
// layout of CTDB's own 900-address test) over 32 nodes, for each algorithm
// and three situations. Optionally the same inputs through CTDB's allocator
// test program (ctdb_takeover_tests, built from Samba's source; Debian does
// not ship it), timed as a process. Wall and CPU time are both given: on a
// busy machine CPU time is the fairer figure. Usage:
//   node dist/bench/ipalloc.js [--runs N] [--nodes N] [--ctdb PATH]

import { spawnSync } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { allocate } from "../src/failover/alloc/index.ts";
import { formatAllocation, parseWhatIf } from "../src/failover/alloc/whatif.ts";

interface Args {
  runs: number;
  nodes: number;
  ctdb: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, nodes: 32, ctdb: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") args.runs = Number(argv[++i]);
    else if (a === "--nodes") args.nodes = Number(argv[++i]);
    else if (a === "--ctdb") args.ctdb = argv[++i];
  }
  return args;
}

const TANDEM = path.resolve("bin", "tandem.js");
const ADDRESSES = Array.from({ length: 900 }, (_, i) => `192.168.${Math.floor(i / 90) + 1}.${(i % 90) + 1}`);
const ALGORITHMS = ["lcp2", "nondet", "det"] as const;

/** Input lines and node states of one situation, as `tandem ipalloc` takes them. */
function situations(nodes: number, algorithm: string): { name: string; nodestates: string; input: string }[] {
  const healthy = Array.from({ length: nodes }, () => "0").join(",");
  const unassigned = ADDRESSES.map((a) => `${a} -1\n`).join("");
  const run = (nodestates: string, input: string) => {
    const w = parseWhatIf(nodestates, false, { CTDB_IP_ALGORITHM: algorithm }, input);
    if (!w.ok) throw new Error(w.message);
    return formatAllocation(allocate(w.value.nodes, w.value.addresses, w.value.options));
  };
  const balanced = run(healthy, unassigned);
  const lastStopped = healthy.replace(/0$/, "0x20");
  const withoutLast = run(lastStopped, unassigned);
  return [
    { name: "0 → all healthy (nothing hosted yet)", nodestates: healthy, input: unassigned },
    { name: "node 0 fails (its addresses move)", nodestates: `0x20${healthy.slice(1)}`, input: balanced },
    { name: `node ${nodes - 1} returns (failback)`, nodestates: healthy, input: withoutLast },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const args = parseArgs(process.argv.slice(2));
for (const algorithm of ALGORITHMS) {
  for (const s of situations(args.nodes, algorithm)) {
    const w = parseWhatIf(s.nodestates, false, { CTDB_IP_ALGORITHM: algorithm }, s.input);
    if (!w.ok) throw new Error(w.message);
    const wall: number[] = [];
    const cpu: number[] = [];
    let out = "";
    for (let r = 0; r < args.runs; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const map = allocate(w.value.nodes, w.value.addresses, w.value.options);
      const c = process.cpuUsage(c0);
      wall.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
      out = formatAllocation(map);
    }
    const ms = (x: number) => +x.toFixed(1);
    const line: Record<string, unknown> = { algorithm, situation: s.name, addresses: ADDRESSES.length, nodes: args.nodes, tandemWallMs: ms(median(wall)), tandemCpuMs: ms(median(cpu)) };
    if (args.ctdb !== undefined) {
      // Both programs as processes, reading the same lines: start-up and parsing included.
      const process = (argv: string[]) => {
        const wall: number[] = [];
        const cpu: number[] = [];
        let same = true;
        for (let r = 0; r < Math.min(args.runs, 3); r++) {
          const t0 = performance.now();
          // GNU time's user + system seconds on stderr; the map on stdout.
          const p = spawnSync("/usr/bin/time", ["-f", "%U %S", ...argv, "ipalloc", s.nodestates], { input: s.input, env: { CTDB_IP_ALGORITHM: algorithm }, encoding: "utf8", maxBuffer: 1 << 24 });
          wall.push(performance.now() - t0);
          const [u, sys] = (p.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
          cpu.push(((u ?? Number.NaN) + (sys ?? Number.NaN)) * 1000);
          same &&= p.stdout === out;
        }
        return { wall: median(wall), cpu: median(cpu), same };
      };
      const ctdb = process([args.ctdb]);
      const tandem = process([globalThis.process.execPath, TANDEM]);
      Object.assign(line, {
        ctdbProcessWallMs: ms(ctdb.wall),
        ctdbProcessCpuMs: ms(ctdb.cpu),
        tandemProcessWallMs: ms(tandem.wall),
        tandemProcessCpuMs: ms(tandem.cpu),
        sameMap: ctdb.same && tandem.same,
        processCpuRatio: ms(ctdb.cpu / tandem.cpu),
      });
    }
    console.log(JSON.stringify(line));
  }
}
