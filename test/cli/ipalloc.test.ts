// `tandem ipalloc` as a process: CTDB's allocator cases through the real
// CLI (arguments, environment, stdin, $CTDB_BASE/home_nodes), and its
// errors for bad input.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { run, TANDEM } from "../support/cluster.ts";
import { CTDB_ALLOC_CASES } from "../failover/alloc/ctdb-cases.ts";
import { ORACLE_CASES } from "../failover/alloc/oracle-cases.ts";

const base = mkdtempSync(join(tmpdir(), "tandem-ipalloc-"));
after(() => rmSync(base, { recursive: true, force: true }));

// The environment CTDB's test scripts run under, so home_nodes is read from CTDB_BASE.
const ENV = { CTDB_BASE: base, CTDB_TEST_MODE: "1" };

const ipalloc = (args: string[], env: Record<string, string>, input: string) => run("node", [TANDEM, "ipalloc", ...args], { ...ENV, ...env }, 20_000, input);

test("CTDB's allocator cases give CTDB's maps through the CLI", async () => {
  // All of CTDB's own cases, and the targeted ones answered by CTDB's allocator.
  const steps = [...CTDB_ALLOC_CASES, ...ORACLE_CASES.filter((c) => c.name.startsWith("targeted."))].flatMap((c) =>
    c.steps.map((step, i) => ({ c, step, what: `${c.name} step ${i + 1}` })),
  );
  // A few at a time, each with its own CTDB_BASE for its home_nodes.
  const one = async ({ c, step, what }: (typeof steps)[number], k: number) => {
    const dir = join(base, String(k));
    mkdirSync(dir);
    if (step.homeNodes !== undefined) writeFileSync(join(dir, "home_nodes"), step.homeNodes);
    const env = { ...step.env, CTDB_IP_ALGORITHM: c.algorithm, CTDB_BASE: dir };
    const r = await ipalloc([step.nodestates, ...(step.multi ? ["multi"] : [])], env, `${step.input.join("\n")}\n`);
    assert.equal(r.stderr, "", what);
    assert.equal(r.code, 0, what);
    assert.equal(r.stdout, step.expect.map((l) => `${l}\n`).join(""), what);
  };
  let next = 0;
  const worker = async () => {
    while (next < steps.length) {
      const k = next++;
      await one(steps[k] as (typeof steps)[number], k);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
});

test("bad input gets an error naming it and exit status 1", async () => {
  rmSync(join(base, "home_nodes"), { force: true });
  const cases: [string[], Record<string, string>, string, RegExp][] = [
    [[], {}, "", /^Usage: tandem ipalloc NODESTATES \[multi\]/],
    [["0,0", "many"], {}, "", /^Usage:/],
    [["0,zero"], {}, "", /bad node state "zero"/],
    [["0,0"], { CTDB_IP_ALGORITHM: "best" }, "", /unknown IP algorithm best/],
    [["0,0"], { CTDB_TEST_RUNSTATE: "5,5,5" }, "", /Wrong number of values in CTDB_TEST_RUNSTATE/],
    [["0,0"], {}, "10.0.0.256 0\n", /line 1: bad address "10\.0\.0\.256"/],
    [["0,0"], {}, "10.0.0.1 0\n10.0.0.2 x\n", /line 2: bad current node "x"/],
    [["0,0"], {}, "10.0.0.1 0 0,2\n", /line 1: allowed node "2" is not one of the 2 nodes/],
    [["0,0", "multi"], {}, "10.0.0.1 0 0,1\n", /no allowed node list may be given with multi/],
  ];
  for (const [args, env, input, want] of cases) {
    const r = await ipalloc(args, env, input);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, want);
    assert.equal(r.stdout, "");
  }
  writeFileSync(join(base, "home_nodes"), "10.0.0.1 one\n");
  const r = await ipalloc(["0,0"], { CTDB_IP_ALGORITHM: "det" }, "10.0.0.1 0\n");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /home_nodes:1: bad node number "one"/);
});

test("IPv6 and IPv4 together: descending, IPv4 below IPv6, -1 for what no node may host", async () => {
  rmSync(join(base, "home_nodes"), { force: true });
  const r = await ipalloc(["0,0x2"], {}, "192.0.2.10 0\n2001:db8::a 1 1\n2001:db8::1 1\n192.0.2.2 -1 0\n");
  assert.equal(r.stdout, "2001:db8::a -1\n2001:db8::1 0\n192.0.2.10 0\n192.0.2.2 0\n");
});
