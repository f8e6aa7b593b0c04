// `tandem onnode` side by side with CTDB's own onnode, both going through the
// same remote-shell stand-in: a real shell run locally in the chosen node's
// environment (as CTDB's local_daemons.sh does), so nothing leaves the host.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { sleep } from "../../src/local/cluster.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const ONNODE = "/usr/bin/onnode";
const skip = !fs.existsSync(ONNODE) || !hasRealCtdb ? "CTDB's onnode is not installed" : false;

/** ssh's stand-in: `SHELL [-n] HOST COMMAND` runs COMMAND with sh in HOST's node environment. */
function writeStandIn(cluster: TestCluster): string {
  const file = path.join(cluster.layout.root, "local-ssh");
  const cases = Array.from({ length: cluster.layout.nodeCount }, (_, p) => {
    const e = cluster.env(p);
    return `\t${cluster.layout.nodeAddress(p)}) export CTDB_BASE='${e.CTDB_BASE}' CTDB_SOCKET='${e.CTDB_SOCKET}' ;;\n`;
  }).join("");
  fs.writeFileSync(
    file,
    `#!/bin/sh\n[ "$1" = -n ] && { shift; exec </dev/null; }\nhost="$1"; shift\ncase "$host" in\n${cases}\t*) echo "no such host $host" >&2; exit 255 ;;\nesac\nexport CTDB_TEST_MODE=yes PATH="${path.dirname(CTDB)}:$PATH"\nexec sh -c "$*"\n`,
    { mode: 0o755 },
  );
  return file;
}

test("tandem onnode does what CTDB's onnode does", { skip }, async () => {
  const cluster = await startCluster("onnode", 47080);
  try {
    await cluster.waitHealthy();
    const shared = cluster.layout.shared;
    fs.copyFileSync(path.join(cluster.layout.nodeBase(0), "nodes"), path.join(shared, "nodes"));
    const env = { CTDB_BASE: shared, CTDB_SOCKET: cluster.layout.socket(0), CTDB_TEST_MODE: "yes", ONNODE_SSH: writeStandIn(cluster) };
    const both = async (args: string[], sortLines = false) => {
      const ours = await run(process.execPath, [TANDEM, "onnode", ...args], env);
      const theirs = await run(ONNODE, args, env);
      const norm = (s: string) => (sortLines ? s.split("\n").sort().join("\n") : s);
      assert.equal(ours.code, theirs.code, `${args.join(" ")}: exit status`);
      assert.equal(norm(ours.stdout), norm(theirs.stdout), `${args.join(" ")}: stdout`);
      assert.equal(norm(ours.stderr), norm(theirs.stderr), `${args.join(" ")}: stderr`);
      return ours;
    };
    assert.equal((await both(["0", "ctdb pnn"])).stdout, "0\n");
    assert.equal((await both(["all", "ctdb", "pnn"])).stderr, "\n>> NODE: 127.0.0.1 <<\n\n>> NODE: 127.0.0.2 <<\n\n>> NODE: 127.0.0.3 <<\n");
    await both(["-q", "all", "ctdb pnn"]);
    await both(["-v", "2", "ctdb pnn"]);
    await both(["2,0,0-1", "ctdb pnn"]);
    assert.match((await both(["-p", "all", "ctdb pnn; echo oops >&2"], true)).stdout, /^\[127\.0\.0\.2\] oops$/m);
    await both(["-pq", "all", "ctdb pnn"], true);
    assert.equal((await both(["all", "exit $(ctdb pnn)"])).code, 2);
    assert.equal((await both(["-p", "0,1", "exit 7"])).code, 7);
    // `any` is whichever answers first under CTDB's onnode; ours takes the lowest that answers.
    assert.equal((await run(ONNODE, ["any", "ctdb pnn"], env)).code, 0);
    assert.equal((await run(process.execPath, [TANDEM, "onnode", "any", "ctdb pnn"], env)).stdout, "0\n");
    assert.equal((await run(process.execPath, [TANDEM, "-n", "1", "disable"], cluster.env(0))).code, 0);
    await cluster.waitFor((v) => v.flags[1] === 4, 0);
    assert.equal((await both(["ok", "ctdb pnn"])).stdout, "0\n2\n");
    await both(["con", "ctdb pnn"]);
    cluster.kill(2);
    await cluster.waitFor((v) => (v.flags[2]! & 1) !== 0, 0);
    assert.equal((await both(["-q", "con", "ctdb pnn"])).stdout, "0\n1\n");
    // Unknown targets: both refuse; ours says what was wrong in its own words.
    for (const bad of [["7", "true"], ["fred", "true"]]) {
      const ours = await run(process.execPath, [TANDEM, "onnode", ...bad], env);
      const theirs = await run(ONNODE, bad, env);
      assert.equal(ours.code, theirs.code, bad.join(" "));
    }
    assert.equal((await run(process.execPath, [TANDEM, "onnode", "7", "true"], env)).stderr, `tandem onnode: node 7 does not exist in ${shared}/nodes\n`);
    assert.match((await run(process.execPath, [TANDEM, "onnode", "fred", "true"], env)).stderr, /^tandem onnode: invalid node specification "fred"/);
  } finally {
    await cluster.stop();
  }
});

test("started and stopped as CTDB's local_daemons.sh does: onnode all 'tandemd &', onnode -p all 'ctdb shutdown'", { skip }, async () => {
  const cluster = await startCluster("onnode-daemons", 47081, { skipNodes: [0, 1, 2] });
  const pidOf = (pnn: number) => Number.parseInt(fs.readFileSync(cluster.layout.pidFile(pnn), "utf8"), 10);
  try {
    const shared = cluster.layout.shared;
    fs.copyFileSync(path.join(cluster.layout.nodeBase(0), "nodes"), path.join(shared, "nodes"));
    const env = { CTDB_BASE: shared, CTDB_TEST_MODE: "yes", ONNODE_SSH: writeStandIn(cluster) };
    const tandemd = path.resolve("bin", "tandemd.js");
    assert.equal((await run(ONNODE, ["all", `${tandemd} &`], env)).code, 0);
    await cluster.waitHealthy();
    for (const pnn of [0, 1, 2]) cluster.pids[pnn] = pidOf(pnn);
    const stopped = await run(ONNODE, ["-p", "all", "ctdb shutdown"], env);
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    const deadline = Date.now() + 5000;
    while ([0, 1, 2].some((p) => fs.existsSync(cluster.layout.pidFile(p))) && Date.now() < deadline) await sleep(50);
    for (const pnn of [0, 1, 2]) assert.equal(fs.existsSync(cluster.layout.pidFile(pnn)), false, `node ${pnn} removed its pid file`);
  } finally {
    await cluster.stop();
  }
});
