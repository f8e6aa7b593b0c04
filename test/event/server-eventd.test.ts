// End to end: the same event scripts under the REAL ctdb-eventd and under
// Tandem (EventService behind our event server), both driven by the real
// `ctdb event` tool. Output must match except for timings (durations and
// ctime stamps are masked, their format is still checked).

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type EventServer, startEventServer } from "../../src/event/server.ts";
import { EventService } from "../../src/event/service.ts";

const CTDB = "/usr/bin/ctdb";
const EVENTD = "/usr/libexec/ctdb/ctdb-eventd";
const available = existsSync(CTDB) && existsSync(EVENTD) && existsSync("/usr/libexec/ctdb/ctdb-event");

const SCRIPTS: Record<string, { body: string; exec: boolean }> = {
  "01.ok.script": { body: 'echo "ok $*"\nexit 0\n', exec: true },
  "02.fail.script": {
    body: '[ "$1" = "monitor" ] || [ "$1" = "startup" ] || exit 0\necho "failing $*"\necho "second line" >&2\nexit 3\n',
    exec: true,
  },
  "03.off.script": { body: "exit 0\n", exec: false },
  "04.slow.script": { body: '[ "$1" = "slowevent" ] || exit 0\necho "about to hang"\nsleep 5\n', exec: true },
  "05.last.script": { body: 'echo "last $1"\n', exec: true },
};

async function makeBase(dir: string): Promise<void> {
  await fsp.mkdir(path.join(dir, "run"), { recursive: true });
  await fsp.mkdir(path.join(dir, "events", "legacy"), { recursive: true });
  await fsp.writeFile(path.join(dir, "nodes"), "127.0.0.1\n");
  for (const [name, s] of Object.entries(SCRIPTS)) {
    await fsp.writeFile(path.join(dir, "events", "legacy", name), `#!/bin/sh\n${s.body}`, {
      mode: s.exec ? 0o755 : 0o644,
    });
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function ctdb(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(CTDB, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const CTIME = /\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/gm;
const DURATION = /^(\S+ +(?:OK|ERROR) +)\d+\.\d{3} /gm;

function mask(o: Outcome): Outcome {
  return { ...o, stdout: o.stdout.replace(DURATION, "$1D.DDD ").replace(CTIME, "CTIME") };
}

async function waitForSocket(p: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(p)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${p} did not appear`);
}

describe("Tandem's event daemon against the real ctdb-eventd", { skip: !available }, () => {
  let realBase: string;
  let ourBase: string;
  let eventd: ChildProcess | undefined;
  let server: EventServer | undefined;
  let service: EventService | undefined;
  let realEnv: NodeJS.ProcessEnv;
  let ourEnv: NodeJS.ProcessEnv;

  before(async () => {
    realBase = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-realeventd-"));
    ourBase = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-oureventd-"));
    await makeBase(realBase);
    await makeBase(ourBase);
    const common: NodeJS.ProcessEnv = { ...process.env, CTDB_TEST_MODE: "yes" };
    delete common.CTDB_EVENT_RUN_ALL;
    delete common.CTDB_SOCKET;
    realEnv = { ...common, CTDB_BASE: realBase };
    ourEnv = { ...common, CTDB_BASE: ourBase };
    eventd = spawn(EVENTD, [], { env: { ...realEnv, CTDB_INTERACTIVE: "1" }, stdio: "ignore" });
    await waitForSocket(path.join(realBase, "run", "eventd.socket"));
    service = new EventService({
      base: ourBase,
      datadir: path.join(ourBase, "share"),
      toolPath: CTDB,
      env: ourEnv,
      log: () => {},
    });
    server = await startEventServer(path.join(ourBase, "run", "eventd.socket"), service, {
      info: () => {},
      error: () => {},
    });
  });

  after(async () => {
    await server?.close();
    service?.close();
    if (eventd?.pid !== undefined && eventd.exitCode === null) {
      const exited = new Promise((r) => eventd?.once("exit", r));
      eventd.kill("SIGTERM");
      await exited;
    }
    for (const d of [realBase, ourBase]) if (d !== undefined) await fsp.rm(d, { recursive: true, force: true });
  });

  async function same(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Outcome> {
    const real = await ctdb(args, { ...realEnv, ...extra });
    const ours = await ctdb(args, { ...ourEnv, ...extra });
    assert.deepEqual(mask(ours), mask(real), `ctdb ${args.join(" ")}`);
    return real;
  }

  it("never run, failing run, and its status", async () => {
    assert.equal((await same(["event", "status", "legacy", "monitor"])).code, 22);
    assert.equal((await same(["event", "run", "10", "legacy", "monitor", "a", "b"])).code, 8);
    const st = await same(["event", "status", "legacy", "monitor"]);
    assert.equal(st.code, 3);
    assert.match(mask(st).stdout, /^01\.ok {16}OK {9}D\.DDD CTIME\n02\.fail {14}ERROR {6}D\.DDD CTIME\n/);
    assert.match(st.stdout, / {2}OUTPUT: failing monitor a b\nsecond line\n/);
    await same(["scriptstatus"]);
  });

  it("RUN_ALL shows disabled and later scripts", async () => {
    assert.equal((await same(["event", "run", "10", "legacy", "startup"], { CTDB_EVENT_RUN_ALL: "1" })).code, 8);
    const st = await same(["event", "status", "legacy", "startup"]);
    assert.match(st.stdout, /\n03\.off {15}DISABLED {2}\n/);
    assert.match(st.stdout, /\n05\.last {14}OK /);
  });

  it("successful run, timeout, and a missing component", async () => {
    assert.deepEqual(await same(["event", "run", "10", "legacy", "ipreallocated"]), { code: 0, stdout: "", stderr: "" });
    assert.equal((await same(["event", "status", "legacy", "ipreallocated"])).code, 0);
    const to = await same(["event", "run", "1", "legacy", "slowevent"]);
    assert.equal(to.stdout, "Event slowevent in legacy timed out\n");
    const st = await same(["event", "status", "legacy", "slowevent"]);
    assert.match(st.stdout, /\n04\.slow {14}TIMEDOUT {3}\w{3} /);
    assert.match(st.stdout, / {2}OUTPUT: about to hang\n/);
    assert.equal((await same(["event", "run", "10", "nope", "monitor"])).code, 2);
    assert.equal((await same(["event", "status", "nope", "monitor"])).code, 2);
  });
});
