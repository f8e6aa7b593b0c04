// The real CTDB 4.17 `ctdb event ...` / `ctdb scriptstatus` against our event
// server, compared byte for byte (stdout, stderr, exit code) with what our
// eventCommand/scriptstatusCommand print for the same server and file state.
// Neither command needs ctdbd: the test base has no ctdbd socket at all.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, promises as fsp } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CliContext } from "../../src/cli/context.ts";
import type { EventBackend, EventRunRequest, EventStatus } from "../../src/event/api.ts";
import { eventCommand, scriptstatusCommand } from "../../src/event/cli.ts";
import { type EventServer, startEventServer } from "../../src/event/server.ts";

const CTDB = "/usr/bin/ctdb";
const haveCtdb = existsSync(CTDB) && existsSync("/usr/libexec/ctdb/ctdb-event");

class MemoryBackend implements EventBackend {
  runs: EventRunRequest[] = [];
  statuses = new Map<string, EventStatus>();
  outcome: EventStatus = { summary: 0, scripts: [] };

  async run(request: EventRunRequest): Promise<number> {
    this.runs.push(request);
    if (request.component !== "legacy") return -2;
    if (this.outcome.summary !== -125) this.statuses.set(`${request.component}/${request.event}`, this.outcome);
    return this.outcome.summary;
  }
  status(component: string, event: string): EventStatus | { error: number } {
    if (component !== "legacy") return { error: 2 };
    return this.statuses.get(`${component}/${event}`) ?? { error: 22 };
  }
  async setScriptEnabled(): Promise<number> {
    return 0;
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function runReal(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(CTDB, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function runOurs(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  // Split off the global options the real ctdb would take itself.
  let pnnOption: string | undefined;
  let rest = args;
  if (rest[0] === "-n") {
    pnnOption = rest[1];
    rest = rest.slice(2);
  }
  const ctx: CliContext = {
    env,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    machineReadable: null,
    json: false,
    timeoutSec: 10,
    pnnOption,
  };
  if (rest[0] === "-X") {
    ctx.machineReadable = { separator: "|" };
    rest = rest.slice(1);
  }
  const [cmd, ...argv] = rest;
  const code = cmd === "scriptstatus" ? await scriptstatusCommand(argv, ctx) : await eventCommand(argv, ctx);
  return { code, stdout, stderr };
}

const T0 = 1763766145000; // a fixed wall clock so both tools print the same times

const VARIED: EventStatus = {
  summary: 3,
  scripts: [
    { name: "00.ctdb", result: 0, beginMs: T0 + 123.456, endMs: T0 + 125.5, output: "ok\n" },
    { name: "01.reclock", result: 0, beginMs: T0 + 1000, endMs: T0 + 1062.5, output: "" },
    { name: "05.system", result: 0, beginMs: T0 + 2000, endMs: T0 + 2187.5, output: "" },
    { name: "10.interface", result: 3, beginMs: T0 + 3000, endMs: T0 + 4500.25, output: "line one\nline two\n" },
    { name: "11.natgw", result: -110, beginMs: T0 + 5000, endMs: T0 + 35000, output: "" },
    { name: "20.multipathd", result: -8, beginMs: 0, endMs: 0, output: "" },
    { name: "31.clamd", result: -13, beginMs: T0, endMs: T0, output: "" },
    { name: "40.a-very-long-script-name", result: 255, beginMs: T0, endMs: T0 + 86_400_000, output: "üñí\n" },
    { name: "41.httpd", result: -9999, beginMs: T0, endMs: T0, output: "" },
  ],
};

describe("real ctdb event/scriptstatus against the Tandem event server", { skip: !haveCtdb }, () => {
  let base: string;
  let env: NodeJS.ProcessEnv;
  let backend: MemoryBackend;
  let server: EventServer;

  before(async () => {
    base = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-evcompat-"));
    await fsp.mkdir(path.join(base, "run"));
    await fsp.writeFile(path.join(base, "nodes"), "127.0.0.1\n");
    env = { ...process.env, CTDB_TEST_MODE: "yes", CTDB_BASE: base };
    delete env.CTDB_EVENT_RUN_ALL;
    delete env.CTDB_EVENT_HELPER;
    delete env.CTDB_SOCKET;
    backend = new MemoryBackend();
    server = await startEventServer(path.join(base, "run", "eventd.socket"), backend, {
      info: () => {},
      error: () => {},
    });
  });

  after(async () => {
    await server?.close();
    if (base !== undefined) await fsp.rm(base, { recursive: true, force: true });
  });

  async function same(args: string[], e: NodeJS.ProcessEnv = env): Promise<Outcome> {
    const real = await runReal(args, e);
    const ours = await runOurs(args, e);
    assert.deepEqual(ours, real, `ctdb ${args.join(" ")}`);
    return real;
  }

  it("status and scriptstatus before any run", async () => {
    const r = await same(["event", "status", "legacy", "monitor"]);
    assert.deepEqual(r, { code: 22, stdout: "Event monitor has never run in legacy\n", stderr: "" });
    assert.equal((await same(["scriptstatus"])).code, 0);
    assert.equal((await same(["event", "status", "nope", "monitor"])).code, 2);
    await same(["-X", "event", "status", "legacy", "monitor"]);
  });

  it("run reaches the backend with the tool's fields and reports failure", async () => {
    backend.outcome = VARIED;
    const before = backend.runs.length;
    const r = await same(["event", "run", "10", "legacy", "monitor"]);
    assert.deepEqual(r, { code: 8, stdout: "Event monitor in legacy failed\n", stderr: "" });
    assert.equal(backend.runs.length, before + 2);
    for (const run of backend.runs.slice(before)) {
      assert.deepEqual(run, { component: "legacy", event: "monitor", args: [], timeoutSec: 10, runAll: false });
    }
  });

  it("status prints every kind of script result identically", async () => {
    const r = await same(["event", "status", "legacy", "monitor"]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^00\.ctdb {14}OK {9}0\.002 \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n01\.reclock {11}OK {9}0\.062 .*\n05\.system {12}OK {9}0\.188 /);
    assert.match(r.stdout, /\n11\.natgw {13}TIMEDOUT {3}\w{3} .*\n {2}OUTPUT: \n/);
    assert.match(r.stdout, /\n20\.multipathd {8}DISABLED {2}\n/);
    assert.match(r.stdout, /\n31\.clamd {13}CANNOT RUN \(Permission denied\)\n {2}OUTPUT: \n/);
    assert.match(r.stdout, /\n {2}OUTPUT: line one\nline two\n\n/);
    assert.equal((await same(["scriptstatus"])).stdout, r.stdout);
    assert.equal((await same(["scriptstatus", "monitor"])).stdout, r.stdout);
    assert.equal((await same(["scriptstatus", "startup"])).code, 0);
    await same(["scriptstatus", "a", "b"]);
  });

  it("run results: timeout, cancel, missing component, arguments and RUN_ALL", async () => {
    backend.outcome = { summary: -110, scripts: VARIED.scripts.slice(4, 5) };
    let r = await same(["event", "run", "5", "legacy", "startup"]);
    // ctdb turns the helper's exit status 110 into 46 with a message.
    assert.deepEqual(r, {
      code: 46,
      stdout: "Event startup in legacy timed out\n",
      stderr: "event daemon helper failed with error 46\n",
    });
    r = await same(["event", "status", "legacy", "startup"]);
    assert.equal(r.code, 46);

    backend.outcome = { summary: -125, scripts: [] };
    r = await same(["event", "run", "5", "legacy", "monitor"]);
    assert.equal(r.stdout, "Event monitor in legacy got cancelled\n");
    assert.equal(r.code, 61);

    r = await same(["event", "run", "5", "nope", "monitor"]);
    assert.deepEqual(r, { code: 2, stdout: "Event dir for nope does not exist\n", stderr: "" });

    backend.outcome = { summary: 0, scripts: [] };
    const before = backend.runs.length;
    // atoi("x5") is 0 (a negative number would be taken by ctdb as an option).
    r = await same(["event", "run", "x5", "legacy", "takeip", "eth0", "10.0.0.1", "24"]);
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
    r = await same(["event", "run", "7x", "legacy", "ipreallocated"], { ...env, CTDB_EVENT_RUN_ALL: "1" });
    const runs = backend.runs.slice(before);
    assert.deepEqual(runs[0], runs[1]);
    assert.deepEqual(runs[0], {
      component: "legacy",
      event: "takeip",
      args: ["eth0", "10.0.0.1", "24"],
      timeoutSec: 0,
      runAll: false,
    });
    assert.deepEqual(runs[2], runs[3]);
    assert.deepEqual(runs[2], { component: "legacy", event: "ipreallocated", args: [], timeoutSec: 7, runAll: true });
    r = await same(["event", "status", "legacy", "ipreallocated"]);
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  });

  it("usage errors and a node option", async () => {
    for (const args of [
      ["event"],
      ["event", "foo"],
      ["event", "status", "legacy"],
      ["event", "run", "10", "legacy"],
      ["event", "script"],
      ["event", "script", "list"],
      ["event", "script", "enable", "legacy"],
      ["event", "script", "disable", "legacy", "a", "b"],
      ["-n", "0", "event", "status", "legacy", "monitor"],
      ["-n", "0", "scriptstatus"],
    ]) {
      const r = await same(args);
      assert.equal(r.code, 1, args.join(" "));
    }
  });

  it("reports a missing event daemon the same way", async () => {
    const empty = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-evcompat-"));
    try {
      await fsp.mkdir(path.join(empty, "run"));
      const e = { ...env, CTDB_BASE: empty };
      const r = await same(["event", "status", "legacy", "monitor"], e);
      assert.equal(r.code, 5);
      assert.match(r.stderr, /^socket connect failed - .*eventd\.socket\nFailed to initialize event client, ret=5\n$/);
      await same(["event", "run", "10", "legacy", "monitor"], e);
      assert.equal((await same(["scriptstatus"], e)).code, 0);
    } finally {
      await fsp.rm(empty, { recursive: true, force: true });
    }
  });

  it("handles a misbehaving daemon the same way", async () => {
    const odd = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-evcompat-"));
    let mode = "";
    const word = (vals: number[]) => {
      const b = Buffer.alloc(vals.length * 4);
      vals.forEach((v, i) => {
        b.writeInt32LE(v, i * 4);
      });
      b.writeUInt32LE(b.length, 0);
      return b;
    };
    const raw = net.createServer((c) => {
      c.on("error", () => {});
      c.on("data", (d: Buffer) => {
        const reqid = d.readInt32LE(8);
        const cmd = d.readUInt32LE(12);
        if (mode === "close") c.destroy();
        if (mode === "wrong-cmd") c.write(word([0, 0, reqid, cmd === 1 ? 2 : 1, 5]));
        if (mode === "truncated") c.write(word([0, 0, reqid, cmd, 0, 0, 3]));
        if (mode === "bad-cmd") c.write(word([0, 0, reqid, 9, 0]));
        if (mode === "other-reqid") {
          c.write(word([0, 0, reqid + 1, cmd, 22]));
          c.write(word([0, 0, reqid, cmd, 2]));
        }
      });
    });
    try {
      await fsp.mkdir(path.join(odd, "run"));
      await new Promise<void>((r) => raw.listen(path.join(odd, "run", "eventd.socket"), r));
      const e = { ...env, CTDB_BASE: odd };
      for (mode of ["close", "wrong-cmd", "truncated", "bad-cmd", "other-reqid"]) {
        await same(["event", "status", "legacy", "monitor"], e);
        await same(["event", "run", "1", "legacy", "monitor"], e);
      }
      mode = "wrong-cmd";
      assert.deepEqual(await same(["event", "status", "legacy", "monitor"], e), {
        code: 7,
        stdout: "Unknown error (71) for event monitor in legacy\n",
        stderr: "event daemon helper failed with error 7\n",
      });
      mode = "truncated";
      assert.deepEqual(await same(["event", "status", "legacy", "monitor"], e), {
        code: 1,
        stdout: "",
        stderr: "Failed to get status for event monitor in legacy, ret=90\n",
      });
    } finally {
      await new Promise<void>((r) => raw.close(() => r()));
      await fsp.rm(odd, { recursive: true, force: true });
    }
  });

  describe("script list / enable / disable (file system only)", () => {
    const etc = () => path.join(base, "events", "legacy");
    const data = () => path.join(base, "share", "events", "legacy");

    async function resetTree(): Promise<void> {
      await fsp.rm(path.join(base, "events"), { recursive: true, force: true });
      await fsp.rm(path.join(base, "share"), { recursive: true, force: true });
      await fsp.mkdir(etc(), { recursive: true });
      await fsp.mkdir(data(), { recursive: true });
      for (const n of ["00.ctdb", "01.reclock", "05.system", "10.interface", "49.winbind", "50.samba"]) {
        await fsp.writeFile(path.join(data(), `${n}.script`), "#!/bin/sh\n", { mode: 0o755 });
      }
      await fsp.writeFile(path.join(data(), "README"), "not a script");
      await fsp.symlink(path.join(data(), "00.ctdb.script"), path.join(etc(), "00.ctdb.script"));
      await fsp.symlink(path.join(data(), "05.system.script"), path.join(etc(), "05.system.script"));
      // Links to somewhere else are local scripts, not the provided one.
      await fsp.symlink("/bin/true", path.join(etc(), "10.interface.script"));
      await fsp.writeFile(path.join(etc(), "60.local.script"), "#!/bin/sh\n", { mode: 0o755 });
      await fsp.writeFile(path.join(etc(), "70.off.script"), "#!/bin/sh\n", { mode: 0o644 });
      await fsp.writeFile(path.join(etc(), "bogus.script"), "#!/bin/sh\n", { mode: 0o644 });
      await fsp.mkdir(path.join(etc(), "80.dir.script"));
    }

    async function snapshot(): Promise<string[]> {
      const out: string[] = [];
      for (const n of (await fsp.readdir(etc())).sort()) {
        const p = path.join(etc(), n);
        const st = await fsp.lstat(p);
        const link = st.isSymbolicLink() ? ` -> ${await fsp.readlink(p)}` : "";
        out.push(`${n} ${(st.mode & 0o7777).toString(8)}${link}`);
      }
      return out;
    }

    /** Run the real tool and ours each on a fresh tree; outputs and resulting trees must match. */
    async function sameFs(args: string[]): Promise<Outcome> {
      await resetTree();
      const real = await runReal(args, env);
      const realTree = await snapshot();
      await resetTree();
      const ours = await runOurs(args, env);
      const ourTree = await snapshot();
      assert.deepEqual(ours, real, `ctdb ${args.join(" ")}`);
      assert.deepEqual(ourTree, realTree, `tree after ctdb ${args.join(" ")}`);
      return real;
    }

    it("lists provided and local scripts", async () => {
      const r = await sameFs(["event", "script", "list", "legacy"]);
      assert.equal(
        r.stdout,
        "* 00.ctdb\n  01.reclock\n* 05.system\n  10.interface\n  49.winbind\n  50.samba\n\n" +
          "* 10.interface\n* 60.local\n  70.off\n* 80.dir\n",
      );
      const missing = await sameFs(["event", "script", "list", "nope"]);
      assert.equal(missing.code, 2);
      assert.equal(missing.stderr, "Command script list finished with result=2\n");
    });

    it("enables and disables scripts", async () => {
      const cases: [string[], number][] = [
        [["event", "script", "enable", "legacy", "01.reclock"], 0], // symlink to the provided script
        [["event", "script", "enable", "legacy", "00.ctdb"], 0], // already a link
        [["event", "script", "enable", "legacy", "70.off"], 0], // chmod +x of a local file
        [["event", "script", "enable", "legacy", "99.none"], 2],
        [["event", "script", "enable", "legacy", "80.dir"], 22],
        [["event", "script", "enable", "legacy", "bogus"], 22],
        [["event", "script", "disable", "legacy", "05.system"], 0], // removes the link
        [["event", "script", "disable", "legacy", "60.local"], 0], // chmod -x
        [["event", "script", "disable", "legacy", "99.none"], 0],
        [["event", "script", "disable", "legacy", "bogus"], 22],
        [["event", "script", "enable", "nope", "01.reclock"], 2],
      ];
      for (const [args, code] of cases) {
        const r = await sameFs(args);
        assert.equal(r.code, code, args.join(" "));
      }
      await resetTree();
      assert.equal((await runOurs(["event", "script", "enable", "legacy", "01.reclock"], env)).code, 0);
      assert.equal(await fsp.readlink(path.join(etc(), "01.reclock.script")), path.join(await fsp.realpath(data()), "01.reclock.script"));
      const listed = await runOurs(["event", "script", "list", "legacy"], env);
      assert.match(listed.stdout, /^\* 00\.ctdb\n\* 01\.reclock\n/);
    });
  });
});
