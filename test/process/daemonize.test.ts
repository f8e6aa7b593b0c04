// tandemd started as ctdbd is: without -i it detaches, its parent returning
// once the client socket answers, with the pid file written (and removed at
// exit). Debian's ctdb.service and our own unit are exercised by running their
// ExecStart and ExecStop lines as systemd would, where systemd is absent.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { resolvePaths } from "../../src/config/paths.ts";
import { alive, sleep, stopPid } from "../../src/local/cluster.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster } from "../support/cluster.ts";

const TANDEMD = path.resolve("bin", "tandemd.js");
const DEBIAN_UNIT = "/lib/systemd/system/ctdb.service";
const OUR_UNIT = path.resolve("systemd", "tandem.service");

/** The programs a unit names, mapped to this checkout's (and the real ctdb). */
const PROGRAMS: Record<string, string> = {
  "/usr/sbin/ctdbd": TANDEMD,
  "/usr/local/bin/tandemd": TANDEMD,
  "/usr/local/bin/tandem": TANDEM,
  "/usr/bin/ctdb": CTDB,
};

function unitLines(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m !== null) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Runs one Exec line as systemd would (no shell), with the node's environment. */
function execLine(line: string, env: Record<string, string>) {
  const [program, ...args] = line.trim().split(/\s+/);
  const mapped = PROGRAMS[program!];
  assert.ok(mapped !== undefined, `no stand-in for ${program}`);
  return run(mapped, args, env);
}

function pidFrom(file: string): number {
  return Number.parseInt(fs.readFileSync(file, "utf8"), 10);
}

/** Session id of a process (field 6 of /proc/PID/stat). */
function sessionOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  return !alive(pid);
}

async function withNode(name: string, port: number, body: (c: TestCluster) => Promise<void>): Promise<void> {
  const cluster = await startCluster(name, port, { nodes: 1, skipNodes: [0] });
  try {
    await body(cluster);
  } finally {
    // Whatever the test started in the background is found by its pid file.
    const file = cluster.layout.pidFile(0);
    if (fs.existsSync(file)) await stopPid(pidFrom(file), 3000);
    await cluster.stop();
  }
}

describe("tandemd as a forking daemon", () => {
  test("our resolved pid file is the PIDFile of Debian's ctdb.service and of our unit", () => {
    assert.equal(resolvePaths({}).pidFile, unitLines(OUR_UNIT)["PIDFile"]);
    if (fs.existsSync(DEBIAN_UNIT)) assert.equal(resolvePaths({}).pidFile, unitLines(DEBIAN_UNIT)["PIDFile"]);
  });

  for (const [unit, file] of [
    ["Debian's ctdb.service", DEBIAN_UNIT],
    ["our tandem.service", OUR_UNIT],
  ] as const) {
    const skip = !fs.existsSync(file) ? `${file} not installed` : !hasRealCtdb ? "ctdb not installed" : false;
    test(`${unit}: ExecStart returns with the daemon up, ExecStop ends it`, { skip }, async () => {
      await withNode(unit.startsWith("Debian") ? "unit-debian" : "unit-ours", unit.startsWith("Debian") ? 47000 : 47001, async (cluster) => {
        const lines = unitLines(file);
        assert.equal(lines["Type"], "forking");
        const env = cluster.env(0);
        const started = await execLine(lines["ExecStart"]!, env);
        assert.equal(started.code, 0, started.stderr);
        assert.equal(started.stderr, "");
        // The parent has returned: the pid file names a live daemon in its own
        // session, and its socket answers at once.
        const pid = pidFrom(cluster.layout.pidFile(0));
        assert.ok(alive(pid), "daemon named by the pid file is running");
        assert.equal(sessionOf(pid), pid, "the daemon leads its own session");
        const status = await run(CTDB, ["pnn"], env);
        assert.equal(status.stdout, "0\n");
        const stopped = await execLine(lines["ExecStop"]!, env);
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.ok(await waitGone(pid, 5000), "daemon exits after ExecStop");
        assert.equal(fs.existsSync(cluster.layout.pidFile(0)), false, "pid file removed on exit");
      });
    });
  }

  test("a start-up failure makes the parent exit non-zero with the reason, leaving nothing behind", async () => {
    await withNode("unit-broken", 47002, async (cluster) => {
      fs.appendFileSync(path.join(cluster.layout.nodeBase(0), "ctdb.conf"), "[cluster]\n\tleader timeout = soon\n");
      const r = await run(TANDEMD, [], cluster.env(0));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ctdb\.conf.*leader timeout/);
      assert.equal(fs.existsSync(cluster.layout.pidFile(0)), false);
    });
  });

  test("a failure after the fork (init event fails) is reported by the parent too", async () => {
    await withNode("unit-init-fails", 47003, async (cluster) => {
      const script = path.join(cluster.layout.nodeBase(0), "events", "legacy", "01.fail.script");
      fs.writeFileSync(script, '#!/bin/sh\n[ "$1" = init ] && exit 3\nexit 0\n', { mode: 0o755 });
      const r = await run(TANDEMD, [], cluster.env(0));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^tandemd: init event failed/m);
      await sleep(200);
      assert.equal(fs.existsSync(cluster.layout.pidFile(0)), false);
    });
  });

  test("a second start of a running node is refused and leaves the first alone", async () => {
    await withNode("unit-twice", 47004, async (cluster) => {
      const env = cluster.env(0);
      assert.equal((await run(TANDEMD, [], env)).code, 0);
      const pid = pidFrom(cluster.layout.pidFile(0));
      const again = await run(TANDEMD, [], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, new RegExp(`already running as pid ${pid}`));
      assert.equal(pidFrom(cluster.layout.pidFile(0)), pid);
      assert.equal((await run(TANDEM, ["pnn"], env)).stdout, "0\n");
    });
  });

  test("-i stays in the foreground and logs to stderr", async () => {
    await withNode("unit-interactive", 47005, async (cluster) => {
      const child = spawn(TANDEMD, ["-i"], { env: { ...process.env, ...cluster.env(0) }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      try {
        await cluster.waitHealthy();
        assert.equal(pidFrom(cluster.layout.pidFile(0)), child.pid, "the foreground process is the daemon");
        assert.match(stderr, /Starting tandemd as node 0/);
        assert.equal(fs.existsSync(path.join(cluster.layout.nodeBase(0), "log.ctdb")), false);
      } finally {
        await stopPid(child.pid!, 3000);
      }
    });
  });

  test("help and usage as ctdbd prints them; an unknown option is refused", async () => {
    const help = await run(TANDEMD, ["-?"], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /-i, --interactive {5}don't fork, log to stderr/);
    assert.match((await run(TANDEMD, ["--usage"], {})).stdout, /^Usage: tandemd \[-\?i\]/);
    const bad = await run(TANDEMD, ["--frobnicate"], {});
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid option --frobnicate/);
  });
});
