// Event scripts under real daemons: CTDB's shipped scripts through the whole
// lifecycle, and service health turned into node state on every node.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Flag } from "../../src/cluster/types.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const SHIPPED = ["00.ctdb", "01.reclock", "05.system", "10.interface"];
const skip = hasRealCtdb ? false : "Debian's ctdb package (its scripts and tool) is not installed";

function install(cluster: TestCluster, pnn: number, name: string, body: string, mode = 0o755): void {
  const file = path.join(cluster.layout.nodeBase(pnn), "events", "legacy", `${name}.script`);
  fs.writeFileSync(file, body, { mode });
  fs.chmodSync(file, mode);
}

describe("event scripts under tandemd", { skip }, () => {
  let cluster: TestCluster;
  const ctdb = (args: string[], pnn = 0) => run(CTDB, args, cluster.env(pnn));

  before(async () => {
    cluster = await startCluster("events", 54379, {
      // A broken script fails every event, a takeover run's ipreallocated too,
      // which bans the node as CTDB would; this suite watches its monitor instead.
      tunables: ["MonitorInterval=1", "EventScriptTimeout=2", "EnableBans=0"],
      setup: (layout) => {
        for (let pnn = 0; pnn < layout.nodeCount; pnn++) {
          const base = layout.nodeBase(pnn);
          // The scripts stay unmodified; only /proc writes (10.interface sets
          // arp_filter at init) are kept off this host, which is not a cluster node.
          fs.writeFileSync(
            path.join(base, "functions"),
            `${fs.readFileSync("/etc/ctdb/functions", "utf8")}\nset_proc () { echo "$2" >>"$CTDB_BASE/proc-writes"; }\n`,
          );
          for (const s of SHIPPED) {
            const to = path.join(base, "events", "legacy", `${s}.script`);
            fs.copyFileSync(`/usr/share/ctdb/events/legacy/${s}.script`, to);
            fs.chmodSync(to, 0o755);
          }
          // CTDB's own notify.sh, and a notification script that records what it is told.
          fs.copyFileSync("/etc/ctdb/notify.sh", path.join(base, "notify.sh"));
          fs.chmodSync(path.join(base, "notify.sh"), 0o755);
          fs.writeFileSync(
            path.join(base, "events", "notification", "50.record.script"),
            '#!/bin/sh\necho "$1" >>"$CTDB_BASE/notified"\n',
            { mode: 0o755 },
          );
          // The service this node "runs": healthy unless the flag file exists.
          fs.writeFileSync(
            path.join(base, "events", "legacy", "50.service.script"),
            '#!/bin/sh\ncase "$1" in monitor) if [ -e "$CTDB_BASE/service-down" ]; then echo "service is down"; exit 1; fi ;; esac\nexit 0\n',
            { mode: 0o755 },
          );
        }
      },
    });
  });
  after(async () => {
    await cluster.stop();
  });

  test("CTDB's shipped scripts run unmodified through init, setup, startup and monitor", async () => {
    await cluster.waitHealthy();
    for (const event of ["init", "setup", "startup", "monitor"]) {
      const r = await ctdb(["event", "status", "legacy", event]);
      assert.equal(r.code, 0, `${event}: ${r.stderr}`);
      const lines = r.stdout.trim().split("\n");
      assert.deepEqual(
        lines.map((l) => l.split(/\s+/).slice(0, 2).join(" ")),
        [...SHIPPED, "50.service"].map((s) => `${s} OK`),
        `${event} status:\n${r.stdout}`,
      );
    }
    const notified = () => fs.readFileSync(path.join(cluster.layout.nodeBase(0), "notified"), "utf8").split("\n");
    for (const event of ["init", "setup", "startup", "healthy"]) assert.ok(notified().includes(event), `notified ${event}`);
    const ours = await run(process.execPath, [TANDEM, "scriptstatus"], cluster.env(0));
    const theirs = await ctdb(["scriptstatus"]);
    assert.equal(ours.stdout.replace(/[\d.]+ \w{3} .*/g, "T"), theirs.stdout.replace(/[\d.]+ \w{3} .*/g, "T"));
  });

  test("a failing monitor makes the node UNHEALTHY on every node, and OK once it passes", async () => {
    await cluster.waitHealthy();
    const flagFile = path.join(cluster.layout.nodeBase(1), "service-down");
    fs.writeFileSync(flagFile, "");
    try {
      for (const via of [0, 2]) {
        await cluster.waitFor((v) => (v.flags[1]! & Flag.UNHEALTHY) !== 0, via, 10_000);
      }
      const status = await ctdb(["scriptstatus"], 1);
      assert.match(status.stdout, /50\.service +ERROR/);
      const notified = fs.readFileSync(path.join(cluster.layout.nodeBase(1), "notified"), "utf8");
      assert.match(notified, /\nunhealthy\n/, "the notification scripts heard about it");
      assert.match(status.stdout, /OUTPUT: service is down/);
    } finally {
      fs.rmSync(flagFile, { force: true });
    }
    await cluster.waitHealthy(10_000, 2);
  });

  // The periodic monitor (every second here) picks up new scripts by itself;
  // a monitor run by hand could be cancelled by it, as in CTDB.
  async function waitForStatus(pnn: number, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await ctdb(["event", "status", "legacy", "monitor"], pnn);
      if (pattern.test(r.stdout)) return r.stdout;
      if (Date.now() > deadline) assert.fail(`monitor status never matched ${pattern}:\n${r.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  test("a hung script is TIMEDOUT, a non-executable one DISABLED, a broken one ERROR; the daemon lives on", async () => {
    const dir = path.join(cluster.layout.nodeBase(2), "events", "legacy");
    install(cluster, 2, "60.hang", '#!/bin/sh\n[ "$1" = monitor ] && sleep 30\nexit 0\n');
    install(cluster, 2, "61.off", "#!/bin/sh\nexit 0\n", 0o644);
    await waitForStatus(2, /60\.hang +TIMEDOUT/);
    fs.rmSync(path.join(dir, "60.hang.script"));
    // Scripts after a failing one do not run (CTDB's rule), so this shows only now.
    await waitForStatus(2, /61\.off +DISABLED/);
    install(cluster, 2, "62.broken", "#!/bin/sh\nif then fi\n");
    const broken = await waitForStatus(2, /62\.broken +ERROR/);
    assert.match(broken, /OUTPUT: .*syntax error/i);
    fs.rmSync(path.join(dir, "62.broken.script"));
    install(cluster, 2, "63.nointerp", "#!/nonexistent/interpreter\nexit 0\n");
    await waitForStatus(2, /63\.nointerp +(ERROR|CANNOT RUN)/);
    fs.rmSync(path.join(dir, "63.nointerp.script"));
    assert.equal((await ctdb(["pnn"], 2)).stdout, "2\n", "the daemon still answers");
    await cluster.waitHealthy(15_000, 2);
  });
});

describe("a failing startup event", { skip }, () => {
  test("holds the node in STARTUP, retried until it succeeds; then it runs", async () => {
    const cluster = await startCluster("startup", 54380, {
      tunables: ["MonitorInterval=1"],
      setup: (layout) => {
        fs.writeFileSync(
          path.join(layout.nodeBase(1), "events", "legacy", "50.wait.script"),
          '#!/bin/sh\ncase "$1" in startup) [ -e "$CTDB_BASE/ready" ] || { echo "not ready"; exit 1; } ;; esac\nexit 0\n',
          { mode: 0o755 },
        );
      },
    });
    try {
      await cluster.waitFor((v) => v.flags[0] === 0 && v.flags[2] === 0, 0);
      const runstate = async () => (await run(CTDB, ["runstate"], cluster.env(1))).stdout;
      for (let i = 0; (await runstate()) !== "STARTUP\n"; i++) {
        assert.ok(i < 100, "node 1 never reached STARTUP");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Past the 5 s retry of the failing startup event, it is still held back.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      assert.equal(await runstate(), "STARTUP\n");
      assert.match((await run(CTDB, ["status"], cluster.env(0))).stdout, /pnn:1 127\.0\.0\.2 +UNHEALTHY\n/);
      fs.writeFileSync(path.join(cluster.layout.nodeBase(1), "ready"), "");
      await cluster.waitHealthy(15_000);
      assert.equal((await run(CTDB, ["runstate"], cluster.env(1))).stdout, "RUNNING\n");
    } finally {
      await cluster.stop();
    }
  });
});
