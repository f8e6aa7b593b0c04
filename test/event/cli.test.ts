process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CliContext } from "../../src/cli/context.ts";
import type { EventBackend, EventRunRequest, EventStatus } from "../../src/event/api.ts";
import {
  ctime,
  eventCommand,
  formatFixed3,
  formatScriptList,
  formatStatus,
  helperExit,
  parseTimeout,
  runResultMessage,
  scriptstatusCommand,
  statusExitCode,
  toolUsageCommand,
  toolUsageFull,
} from "../../src/event/cli.ts";
import { type EventServer, startEventServer } from "../../src/event/server.ts";

describe("event cli: formatting", () => {
  it("ctime() matches C's layout, day padded with a space", () => {
    assert.equal(ctime(0), "Thu Jan  1 00:00:00 1970\n");
    assert.equal(ctime(1763766145), "Fri Nov 21 23:02:25 2025\n");
  });

  it("%.3f rounds like glibc, including exact ties to even", () => {
    assert.equal(formatFixed3(0.0625), "0.062");
    assert.equal(formatFixed3(0.1875), "0.188");
    assert.equal(formatFixed3(-0.0625), "-0.062");
    assert.equal(formatFixed3(2.5625), "2.562");
    assert.equal(formatFixed3(0.0005), "0.001");
    assert.equal(formatFixed3(1.0005), "1.000");
    assert.equal(formatFixed3(86400), "86400.000");
    assert.equal(formatFixed3(0), "0.000");
  });

  it("status lines for each kind of result", () => {
    const t = { sec: 1763766145, usec: 0 };
    const out = formatStatus(
      "legacy",
      "monitor",
      0,
      {
        summary: 1,
        scripts: [
          { name: "00.ctdb", begin: t, end: { sec: t.sec, usec: 2500 }, result: 0, output: "fine\n" },
          { name: "10.interface", begin: t, end: { sec: t.sec + 1, usec: 0 }, result: 1, output: "down\n" },
          { name: "11.natgw", begin: t, end: t, result: -110, output: null },
          { name: "20.off", begin: t, end: t, result: -8, output: null },
          { name: "31.clamd", begin: t, end: t, result: -2, output: null },
        ],
      },
      (n) => `E${n}`,
    );
    assert.equal(
      out,
      "00.ctdb              OK         0.003 Fri Nov 21 23:02:25 2025\n" +
        "10.interface         ERROR      1.000 Fri Nov 21 23:02:25 2025\n" +
        "  OUTPUT: down\n\n" +
        "11.natgw             TIMEDOUT   Fri Nov 21 23:02:25 2025\n" +
        "  OUTPUT: \n" +
        "20.off               DISABLED  \n" +
        "31.clamd             CANNOT RUN (E2)\n" +
        "  OUTPUT: \n",
    );
    assert.equal(formatStatus("legacy", "monitor", 22, undefined, String), "Event monitor has never run in legacy\n");
    assert.equal(formatStatus("x", "monitor", 2, undefined, String), "Event dir for x does not exist\n");
    assert.equal(formatStatus("x", "e", 5, undefined, String), "Unknown error (5) for event e in x\n");
  });

  it("exit codes and messages of run and status", () => {
    assert.equal(statusExitCode(22, undefined), 22);
    assert.equal(statusExitCode(0, { summary: -110, scripts: [] }), 110);
    assert.equal(statusExitCode(0, { summary: 3, scripts: [] }), 3);
    assert.equal(runResultMessage("c", "e", 0), undefined);
    assert.equal(runResultMessage("c", "e", 2), "Event dir for c does not exist");
    assert.equal(runResultMessage("c", "e", 110), "Event e in c timed out");
    assert.equal(runResultMessage("c", "e", 125), "Event e in c got cancelled");
    assert.equal(runResultMessage("c", "e", 8), "Event e in c failed");
    assert.equal(runResultMessage("c", "e", 71), "Failed to run event e in c, result=71");
  });

  it("ctdb's translation of the helper's exit status", () => {
    assert.deepEqual(helperExit(0), { exit: 0, stderr: "" });
    assert.deepEqual(helperExit(63), { exit: 63, stderr: "" });
    assert.deepEqual(helperExit(64), { exit: 0, stderr: "event daemon helper failed with error 0\n" });
    assert.deepEqual(helperExit(110), { exit: 46, stderr: "event daemon helper failed with error 46\n" });
    assert.deepEqual(helperExit(255), { exit: 255, stderr: "" });
    assert.deepEqual(helperExit(256 + 8), { exit: 8, stderr: "" });
  });

  it("parses the timeout like atoi, clamped at zero", () => {
    assert.equal(parseTimeout("10"), 10);
    assert.equal(parseTimeout(" 7x"), 7);
    assert.equal(parseTimeout("+4"), 4);
    assert.equal(parseTimeout("x"), 0);
    assert.equal(parseTimeout("-3"), 0);
    assert.equal(parseTimeout("99999999999"), 0x7fffffff);
  });

  it("script list: blank line only between two non-empty parts", () => {
    const d = (name: string) => ({ name, path: `/d/${name}.script`, enabled: true });
    const link = (name: string, target: string | null, enabled = true) => ({
      name,
      path: `/e/${name}.script`,
      enabled,
      link: target,
    });
    assert.equal(formatScriptList([d("00.a"), d("01.b")], []), "  00.a\n  01.b\n");
    assert.equal(formatScriptList([d("00.a")], [link("00.a", "/d/00.a.script")]), "* 00.a\n");
    assert.equal(
      formatScriptList([d("00.a"), d("05.c")], [link("00.a", "/d/00.a.script"), link("02.x", null, false)]),
      "* 00.a\n  05.c\n\n  02.x\n",
    );
    assert.equal(formatScriptList(null, [link("02.x", null), link("03.y", null, false)]), "* 02.x\n  03.y\n");
    assert.equal(formatScriptList([], [link("02.x", null)]), "* 02.x\n");
    // A link with the provided name but another target is a local script.
    assert.equal(formatScriptList([d("00.a")], [link("00.a", "/elsewhere")]), "  00.a\n\n* 00.a\n");
  });

  it("usage texts", () => {
    assert.equal(
      toolUsageCommand("status"),
      "Usage: ctdb-event [-h] [-h|--help]\n" +
        "        [-d|--debug=ERROR|WARNING|NOTICE|INFO|DEBUG] <command> [<args>]\n\n" +
        "  status <component> <event>     Get status of an event\n",
    );
    assert.match(toolUsageFull(), /\n {2}run <timeout> <component> <event> <args> {5}Run an event\n/);
    assert.match(toolUsageFull(), /\n {2}status <component> <event> {19}Get status of an event\n/);
  });
});

class MemoryBackend implements EventBackend {
  runs: EventRunRequest[] = [];
  statuses = new Map<string, EventStatus>();
  async run(request: EventRunRequest): Promise<number> {
    this.runs.push(request);
    const st: EventStatus = {
      summary: 1,
      scripts: [
        { name: "00.ctdb", result: 0, beginMs: 1763766145000, endMs: 1763766145250, output: "" },
        { name: "10.interface", result: 1, beginMs: 1763766145250, endMs: 1763766146000, output: "eth9 down\n" },
        { name: "20.x", result: -13, beginMs: 0, endMs: 0, output: "" },
      ],
    };
    this.statuses.set(`${request.component}/${request.event}`, st);
    return st.summary;
  }
  status(component: string, event: string): EventStatus | { error: number } {
    return this.statuses.get(`${component}/${event}`) ?? { error: 22 };
  }
  async setScriptEnabled(): Promise<number> {
    return 0;
  }
}

describe("event cli against our server", () => {
  let base: string;
  let server: EventServer;
  let backend: MemoryBackend;

  before(async () => {
    base = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-evcli-"));
    await fsp.mkdir(path.join(base, "run"));
    await fsp.mkdir(path.join(base, "events", "legacy"), { recursive: true });
    await fsp.mkdir(path.join(base, "share", "events", "legacy"), { recursive: true });
    await fsp.writeFile(path.join(base, "share", "events", "legacy", "00.ctdb.script"), "", { mode: 0o755 });
    await fsp.writeFile(path.join(base, "share", "events", "legacy", "01.reclock.script"), "", { mode: 0o755 });
    await fsp.writeFile(path.join(base, "events", "legacy", "60.mine.script"), "", { mode: 0o644 });
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

  function ctx(json: boolean, extra: Partial<CliContext> = {}) {
    const out = { stdout: "", stderr: "" };
    const c: CliContext = {
      env: { CTDB_TEST_MODE: "yes", CTDB_BASE: base },
      stdout: (s) => {
        out.stdout += s;
      },
      stderr: (s) => {
        out.stderr += s;
      },
      machineReadable: null,
      json,
      timeoutSec: 10,
      pnnOption: undefined,
      ...extra,
    };
    return { c, out };
  }

  it("text: never run, run, status, scriptstatus", async () => {
    let { c, out } = ctx(false);
    assert.equal(await eventCommand(["status", "legacy", "monitor"], c), 22);
    assert.equal(out.stdout, "Event monitor has never run in legacy\n");

    ({ c, out } = ctx(false));
    assert.equal(await eventCommand(["run", "15", "legacy", "monitor", "x"], c), 8);
    assert.equal(out.stdout, "Event monitor in legacy failed\n");
    assert.deepEqual(backend.runs.at(-1), {
      component: "legacy",
      event: "monitor",
      args: ["x"],
      timeoutSec: 15,
      runAll: false,
    });

    ({ c, out } = ctx(false, { machineReadable: { separator: "|" } }));
    assert.equal(await eventCommand(["status", "legacy", "monitor"], c), 1);
    const expected =
      "00.ctdb              OK         0.250 Fri Nov 21 23:02:25 2025\n" +
      "10.interface         ERROR      0.750 Fri Nov 21 23:02:25 2025\n" +
      "  OUTPUT: eth9 down\n\n" +
      "20.x                 CANNOT RUN (Permission denied)\n" +
      "  OUTPUT: \n";
    assert.equal(out.stdout, expected); // -X changes nothing, as with ctdb-event

    ({ c, out } = ctx(false));
    assert.equal(await scriptstatusCommand([], c), 0);
    assert.equal(out.stdout, expected);
  });

  it("--json: status, errors, run and script commands", async () => {
    let { c, out } = ctx(true);
    assert.equal(await eventCommand(["status", "legacy", "monitor"], c), 1);
    const st = JSON.parse(out.stdout);
    assert.equal(st.component, "legacy");
    assert.equal(st.summary, 1);
    assert.deepEqual(
      st.scripts.map((s: { name: string; status: string; result: number }) => [s.name, s.status, s.result]),
      [
        ["00.ctdb", "OK", 0],
        ["10.interface", "ERROR", 1],
        ["20.x", "CANNOT RUN", -13],
      ],
    );
    assert.equal(st.scripts[1].output, "eth9 down\n");
    assert.equal(st.scripts[1].duration, 0.75);
    assert.equal(st.scripts[0].begin, 1763766145);
    assert.equal(st.scripts[2].error, "Permission denied");

    ({ c, out } = ctx(true));
    assert.equal(await eventCommand(["status", "legacy", "startup"], c), 22);
    assert.deepEqual(JSON.parse(out.stdout), {
      component: "legacy",
      event: "startup",
      result: 22,
      error: "Event startup has never run in legacy",
    });

    ({ c, out } = ctx(true));
    assert.equal(await eventCommand(["run", "5", "legacy", "takeip", "eth0", "10.0.0.1", "24"], c), 8);
    assert.deepEqual(JSON.parse(out.stdout), {
      component: "legacy",
      event: "takeip",
      args: ["eth0", "10.0.0.1", "24"],
      timeout: 5,
      result: 8,
      error: "Event takeip in legacy failed",
    });

    ({ c, out } = ctx(true));
    assert.equal(await eventCommand(["script", "enable", "legacy", "01.reclock"], c), 0);
    assert.deepEqual(JSON.parse(out.stdout), {
      component: "legacy",
      script: "01.reclock",
      action: "enable",
      result: 0,
    });

    ({ c, out } = ctx(true));
    assert.equal(await eventCommand(["script", "list", "legacy"], c), 0);
    assert.deepEqual(JSON.parse(out.stdout), {
      component: "legacy",
      scripts: [
        { name: "00.ctdb", enabled: false, provided: true },
        { name: "01.reclock", enabled: true, provided: true },
        { name: "60.mine", enabled: false, provided: false },
      ],
    });

    ({ c, out } = ctx(true));
    assert.equal(await eventCommand(["script", "enable", "legacy", "99.none"], c), 2);
    assert.equal(JSON.parse(out.stdout).error, "Script 99.none does not exist in legacy");
  });

  it("text: script list after enabling, and a missing daemon", async () => {
    let { c, out } = ctx(false);
    assert.equal(await eventCommand(["script", "list", "legacy"], c), 0);
    assert.equal(out.stdout, "  00.ctdb\n* 01.reclock\n\n  60.mine\n");

    const empty = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-evcli-"));
    try {
      ({ c, out } = ctx(false, { env: { CTDB_TEST_MODE: "yes", CTDB_BASE: empty } }));
      assert.equal(await eventCommand(["status", "legacy", "monitor"], c), 5);
      assert.equal(
        out.stderr,
        `socket connect failed - ${empty}/run/eventd.socket\nFailed to initialize event client, ret=5\n`,
      );
      ({ c, out } = ctx(true, { env: { CTDB_TEST_MODE: "yes", CTDB_BASE: empty } }));
      assert.equal(await eventCommand(["run", "1", "legacy", "monitor"], c), 5);
      assert.equal(JSON.parse(out.stdout).error, "Failed to connect to the event daemon");
    } finally {
      await fsp.rm(empty, { recursive: true, force: true });
    }
  });

  it("refuses a node option like ctdb", async () => {
    const { c, out } = ctx(false, { pnnOption: "1" });
    assert.equal(await eventCommand(["status", "legacy", "monitor"], c), 1);
    assert.equal(out.stderr, "Cannot specify node for command event\n");
    assert.equal(out.stdout, "");
  });
});
