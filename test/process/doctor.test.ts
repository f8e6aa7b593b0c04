// `tandem doctor` against real daemons: a healthy cluster passes; a cluster
// broken on purpose (one node with other tunables, a script whose interpreter
// is missing) gets findings naming the node and the file; `setvar --all-nodes`
// repairs the tunable. The lock probe is run against a real file lock and a
// helper that never refuses.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { probeLock } from "../../src/doctor/gather.ts";
import { run, startCluster, TANDEM } from "../support/cluster.ts";

describe("tandem doctor", () => {
  test("healthy, then broken on purpose, then repaired", async () => {
    const cluster = await startCluster("doctor", 47030);
    try {
      await cluster.waitHealthy();
      const env = cluster.env(0);
      const healthy = await run(process.execPath, [TANDEM, "doctor"], env);
      assert.equal(healthy.code, 0, healthy.stdout);
      assert.match(healthy.stdout, /^All is well/m);

      // Break it: node 1 runs with another MonitorInterval, and node 0 has an
      // enabled event script whose interpreter does not exist.
      assert.equal((await run(process.execPath, [TANDEM, "-n", "1", "setvar", "MonitorInterval", "31"], env)).code, 0);
      const script = path.join(cluster.layout.nodeBase(0), "events", "legacy", "50.broken.script");
      fs.writeFileSync(script, "#!/usr/bin/no-such-shell\nexit 0\n", { mode: 0o755 });
      const broken = await run(process.execPath, [TANDEM, "doctor"], env);
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, /^ERROR {3}tunables: node 1 \(127\.0\.0\.2\) tunable MonitorInterval is 31 there but 15 on nodes 0, 2/m);
      assert.match(broken.stdout, new RegExp(`^ERROR {3}event-scripts: ${script} names interpreter /usr/bin/no-such-shell`, "m"));
      assert.match(broken.stdout, /^2 problems found\.$/m);
      const json = await run(process.execPath, [TANDEM, "--json", "doctor"], env);
      assert.equal(json.code, 1);
      const parsed = JSON.parse(json.stdout) as { ok: boolean; findings: { check: string; subject: string }[] };
      assert.equal(parsed.ok, false);
      assert.deepEqual(parsed.findings.map((f) => f.check).sort(), ["event-scripts", "tunables"]);

      // Repair: one command sets the tunable everywhere; the script goes.
      const set = await run(process.execPath, [TANDEM, "setvar", "--all-nodes", "MonitorInterval", "31"], env);
      assert.equal(set.code, 0, set.stderr);
      for (const pnn of [0, 1, 2]) {
        assert.match((await run(process.execPath, [TANDEM, "-n", String(pnn), "getvar", "MonitorInterval"], env)).stdout, /^MonitorInterval += 31\n$/);
      }
      fs.rmSync(script);
      const repaired = await run(process.execPath, [TANDEM, "doctor"], env);
      assert.equal(repaired.code, 0, repaired.stdout);
    } finally {
      await cluster.stop();
    }
  });

  test("a stopped node is named as unreachable", async () => {
    const cluster = await startCluster("doctor-down", 47031);
    try {
      await cluster.waitHealthy();
      cluster.kill(2);
      await cluster.waitFor((v) => (v.flags[2]! & 1) !== 0, 0);
      const r = await run(process.execPath, [TANDEM, "doctor"], cluster.env(0));
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^WARNING reachable: node 2 \(127\.0\.0\.3\) could not be asked \(disconnected from this node\)/m);
    } finally {
      await cluster.stop();
    }
  });

  test("--all-nodes is refused with another command", async () => {
    const r = await run(process.execPath, [TANDEM, "--all-nodes", "getvar", "MonitorInterval"], {});
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "--all-nodes applies only to setvar\n");
  });
});

describe("the doctor's lock probe", () => {
  test("a file lock excludes: the second process is refused while the first holds it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-probe-"));
    try {
      assert.deepEqual(await probeLock(path.join(dir, "reclock"), "/usr/libexec/ctdb"), { first: "held", second: "contended" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a helper that never refuses is caught holding twice", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-probe-"));
    try {
      const helper = path.join(dir, "always-yes");
      // Says "held" to everyone, then waits to be told to go, as a helper does.
      fs.writeFileSync(helper, "#!/bin/sh\nprintf 0\nexec cat >/dev/null\n", { mode: 0o755 });
      assert.deepEqual(await probeLock(`!${helper}`, dir), { first: "held", second: "held" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
