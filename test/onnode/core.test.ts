import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { exitStatus, parseNodespec, parseOnnodeArgs, plan, readNodesText, resolveNodes } from "../../src/onnode/core.ts";

const nodes = readNodesText("10.0.0.1\n#10.0.0.2\n10.0.0.3 # spare\n\n10.0.0.5\n");

describe("onnode core", () => {
  test("nodes file: comments and blank lines are deleted nodes, spaces dropped", () => {
    assert.deepEqual(nodes, ["10.0.0.1", null, "10.0.0.3", null, "10.0.0.5"]);
  });

  test("options as getopts reads them; the command is the rest joined", () => {
    const r = parseOnnodeArgs(["-pq", "-f", "my_nodes", "all", "ctdb", "pnn"]);
    assert.ok(r.ok);
    assert.deepEqual([r.options.parallel, r.options.quiet, r.options.nodesFile, r.nodespec, r.command], [true, true, "my_nodes", "all", "ctdb pnn"]);
    assert.equal(parseOnnodeArgs(["-fx", "0", "true"]).ok && (parseOnnodeArgs(["-fx", "0", "true"]) as { options: { nodesFile: string } }).options.nodesFile, "x");
    assert.deepEqual(parseOnnodeArgs(["all"]), { ok: false, usage: true });
    assert.deepEqual(parseOnnodeArgs(["-z", "all", "x"]), { ok: false, usage: true, message: "unknown option -z" });
  });

  const specs: { spec: string; namesOk?: boolean; want: string[] | RegExp }[] = [
    { spec: "0", want: ["10.0.0.1"] },
    { spec: "all", want: ["10.0.0.1", "10.0.0.3", "10.0.0.5"] },
    { spec: "4,0,0", want: ["10.0.0.5", "10.0.0.1", "10.0.0.1"] },
    { spec: "2-4", want: /node 3 does not exist in nodes/ },
    { spec: "1", want: /node 1 does not exist in nodes/ },
    { spec: "9", want: /node 9 does not exist/ },
    { spec: "ok", want: ["10.0.0.1"] },
    { spec: "con", want: ["10.0.0.1", "10.0.0.5"] },
    { spec: "any", want: ["10.0.0.3"] },
    { spec: "fred", want: /invalid node specification "fred"/ },
    { spec: "fred,0", namesOk: true, want: ["fred", "10.0.0.1"] },
  ];
  // Node 2 disabled (0x4), node 4 unhealthy (0x8), so only node 0 is ok and 0, 4 connected... and node 2 is disconnected below.
  const states = [
    { pnn: 0, flags: 0 },
    { pnn: 2, flags: 0x1 },
    { pnn: 4, flags: 0x8 },
  ];
  for (const c of specs) {
    test(`nodespec ${c.spec}`, () => {
      const parsed = parseNodespec(c.spec, c.namesOk ?? false);
      const r = parsed.ok ? resolveNodes(parsed.tokens, nodes, "nodes", states, 2) : parsed;
      if (c.want instanceof RegExp) {
        assert.equal(r.ok, false);
        assert.match((r as { message: string }).message, c.want);
      } else assert.deepEqual(r, { ok: true, hosts: c.want });
    });
  }

  test("ok/con without node states and any without an answering node are refused", () => {
    const t = (s: string) => (parseNodespec(s, false) as unknown as { tokens: never[] }).tokens;
    assert.deepEqual(resolveNodes(t("ok"), nodes, "nodes", undefined, undefined), { ok: false, message: "unable to get the status of the nodes" });
    assert.deepEqual(resolveNodes(t("any"), nodes, "nodes", states, undefined), { ok: false, message: "no node answers (any)" });
  });

  test("plan: ONNODE_SSH words, -n unless stdin is kept, labels for several nodes unless -q, -c prepends cd", () => {
    const o = (over: object) => ({ ...(parseOnnodeArgs(["0", "x"]) as { options: object }).options, ...over }) as Parameters<typeof plan>[0];
    assert.deepEqual(plan(o({}), "uptime", ["a"], undefined, "/w"), { shell: ["ssh", "-n"], command: "uptime", label: false, parallel: false, stdin: false });
    assert.deepEqual(plan(o({ stdin: true }), "uptime", ["a", "b"], "my ssh", "/w").shell, ["my", "ssh"]);
    assert.deepEqual(plan(o({ stdin: true, parallel: true }), "uptime", ["a"], undefined, "/w").shell, ["ssh", "-n"]);
    assert.equal(plan(o({}), "x", ["a", "b"], undefined, "/w").label, true);
    assert.equal(plan(o({ quiet: true, verbose: true }), "x", ["a", "b"], undefined, "/w").label, false);
    assert.equal(plan(o({ verbose: true }), "x", ["a"], undefined, "/w").label, true);
    assert.equal(plan(o({ current: true }), "./foo", ["a"], undefined, "/w").command, "cd /w && ./foo");
  });

  test("exit status: the last failure in node order", () => {
    assert.equal(exitStatus([0, 0]), 0);
    assert.equal(exitStatus([3, 0, 5, 0]), 5);
  });
});
