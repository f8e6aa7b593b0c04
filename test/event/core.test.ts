import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CoreEffect,
  type CoreInput,
  type CoreState,
  type ScriptEntry,
  initialState,
  replyOfSummary,
  scriptResult,
  splitArgs,
  step,
} from "../../src/event/core.ts";
import { ECANCELED, EINTR, ENOENT, ENOEXEC, ETIMEDOUT } from "../../src/event/errno.ts";

// A small driver: feeds inputs, keeps every effect.
class Drive {
  state: CoreState;
  all: CoreEffect[] = [];
  last: CoreEffect[] = [];
  constructor(debug = false) {
    this.state = initialState(debug);
  }
  feed(input: CoreInput): CoreEffect[] {
    const r = step(this.state, input);
    this.state = r.state;
    this.last = r.effects;
    this.all.push(...r.effects);
    return r.effects;
  }
  of<K extends CoreEffect["kind"]>(kind: K, effects = this.last): Extract<CoreEffect, { kind: K }>[] {
    return effects.filter((e): e is Extract<CoreEffect, { kind: K }> => e.kind === kind);
  }
  run(id: number, event: string, nowMs: number, extra: Partial<Extract<CoreInput, { kind: "run" }>> = {}) {
    return this.feed({ kind: "run", id, event, args: [], timeoutSec: 30, runAll: false, nowMs, ...extra });
  }
  listToken(): number {
    const l = this.of("list", this.all);
    assert.ok(l.length > 0, "expected a list effect");
    return l[l.length - 1]!.token;
  }
  list(scripts: ScriptEntry[], nowMs: number) {
    return this.feed({ kind: "listed", token: this.listToken(), nowMs, result: { scripts } });
  }
  spawned(): Extract<CoreEffect, { kind: "spawn" }> {
    const s = this.of("spawn");
    assert.equal(s.length, 1, "expected one spawn");
    return s[0]!;
  }
  exit(code: number, nowMs: number, output = "") {
    const t = this.spawned().token;
    return this.feed({ kind: "script-done", token: t, nowMs, outcome: { kind: "exit", code }, output });
  }
}

const en = (...names: string[]): ScriptEntry[] => names.map((name) => ({ name, enabled: true }));

describe("event core: script results (run_proc + run_event_script_status)", () => {
  const cases: [string, Parameters<typeof scriptResult>[0], number][] = [
    ["exit 0", { kind: "exit", code: 0 }, 0],
    ["exit 1", { kind: "exit", code: 1 }, 1],
    ["exit 63", { kind: "exit", code: 63 }, 63],
    ["exit 64 reads as errno 0 = success", { kind: "exit", code: 64 }, 0],
    ["exit 66 reads as -ENOENT", { kind: "exit", code: 66 }, -ENOENT],
    ["exit 77 reads as EACCES -> -ENOEXEC", { kind: "exit", code: 77 }, -ENOEXEC],
    ["exit 255 stays 255", { kind: "exit", code: 255 }, 255],
    ["signal -> -EINTR", { kind: "signal", signal: "SIGTERM" }, -EINTR],
    ["spawn ENOENT", { kind: "spawn-error", errno: ENOENT }, -ENOENT],
    ["spawn EACCES -> -ENOEXEC", { kind: "spawn-error", errno: 13 }, -ENOEXEC],
  ];
  for (const [name, outcome, want] of cases) {
    it(name, () => assert.equal(scriptResult(outcome), want));
  }
  it("reply mapping", () => {
    assert.equal(replyOfSummary(0), 0);
    assert.equal(replyOfSummary(-ETIMEDOUT), ETIMEDOUT);
    assert.equal(replyOfSummary(3), ENOEXEC);
    assert.equal(replyOfSummary(-ENOENT), ENOEXEC);
  });
  it("arguments are re-split on single spaces like strtok", () => {
    assert.deepEqual(splitArgs(["eth0", "10.0.0.1", "24"]), ["eth0", "10.0.0.1", "24"]);
    assert.deepEqual(splitArgs(["a b", "", "c"]), ["a", "b", "c"]);
    assert.deepEqual(splitArgs([]), []);
  });
});

describe("event core: running an event", () => {
  it("runs scripts in order with [event, ...args], records and replies success", () => {
    const d = new Drive();
    d.feed({ kind: "run", id: 1, event: "takeip", args: ["eth0", "10.0.0.1", "24"], timeoutSec: 30, runAll: false, nowMs: 0 });
    d.list(en("00.a", "10.b"), 1);
    let sp = d.spawned();
    assert.equal(sp.script, "00.a");
    assert.deepEqual(sp.argv, ["takeip", "eth0", "10.0.0.1", "24"]);
    assert.deepEqual(d.of("start-timer"), [{ kind: "start-timer", token: sp.token, atMs: 30000 }]);
    d.exit(0, 5, "hello\n");
    assert.deepEqual(d.of("cancel-timer"), [{ kind: "cancel-timer", token: sp.token }]);
    sp = d.spawned();
    assert.equal(sp.script, "10.b");
    d.exit(0, 9);
    const rec = d.of("record");
    assert.equal(rec.length, 1);
    assert.equal(rec[0]!.event, "takeip");
    assert.deepEqual(rec[0]!.status, {
      summary: 0,
      scripts: [
        { name: "00.a", result: 0, beginMs: 1, endMs: 5, output: "hello\n" },
        { name: "10.b", result: 0, beginMs: 5, endMs: 9, output: "" },
      ],
    });
    assert.deepEqual(d.of("reply"), [{ kind: "reply", id: 1, reply: 0, summary: 0 }]);
    assert.equal(d.state.current, null);
  });

  it("stops at the first failure; later scripts are neither run nor recorded", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list(en("00.a", "10.b", "20.c"), 0);
    d.exit(0, 1);
    d.exit(3, 2, "broken\n");
    assert.equal(d.of("spawn").length, 0);
    const rec = d.of("record")[0]!;
    assert.equal(rec.status.summary, 3);
    assert.deepEqual(
      rec.status.scripts.map((s) => [s.name, s.result]),
      [
        ["00.a", 0],
        ["10.b", 3],
      ],
    );
    assert.deepEqual(d.of("reply"), [{ kind: "reply", id: 1, reply: ENOEXEC, summary: 3 }]);
    assert.ok(d.of("log").some((l) => l.message === "monitor event failed"));
    assert.ok(d.of("log").some((l) => l.message === "10.b: broken"));
  });

  it("RUN_ALL carries on after failures; summary is the last failure", () => {
    const d = new Drive();
    d.run(1, "monitor", 0, { runAll: true });
    d.list(en("00.a", "10.b", "20.c"), 0);
    d.exit(2, 1);
    d.exit(0, 2);
    d.exit(5, 3);
    const rec = d.of("record")[0]!;
    assert.equal(rec.status.summary, 5);
    assert.equal(rec.status.scripts.length, 3);
  });

  it("disabled scripts are recorded as -ENOEXEC and skipped, not failures", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list([{ name: "00.a", enabled: false }, { name: "10.b", enabled: true }], 4);
    assert.equal(d.spawned().script, "10.b");
    d.exit(0, 6);
    const rec = d.of("record")[0]!;
    assert.deepEqual(rec.status.scripts[0], { name: "00.a", result: -ENOEXEC, beginMs: 4, endMs: 4, output: "" });
    assert.equal(rec.status.summary, 0);
    assert.equal(d.of("reply")[0]!.reply, 0);
  });

  it("all scripts disabled: nothing spawned, success recorded", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list([{ name: "00.a", enabled: false }], 0);
    assert.equal(d.of("spawn").length, 0);
    assert.equal(d.of("record")[0]!.status.scripts.length, 1);
    assert.equal(d.of("reply")[0]!.reply, 0);
  });

  it("a dangling symlink fails the event with -ENOENT", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list([{ name: "00.a", enabled: false, statErrno: ENOENT }, ...en("10.b")], 0);
    assert.equal(d.of("spawn").length, 0);
    assert.deepEqual(d.of("reply"), [{ kind: "reply", id: 1, reply: ENOEXEC, summary: -ENOENT }]);
  });

  it("no scripts: empty status recorded, success", () => {
    const d = new Drive();
    d.run(1, "startup", 0);
    d.list([], 0);
    assert.deepEqual(d.of("record")[0]!.status, { summary: 0, scripts: [] });
    assert.equal(d.of("reply")[0]!.reply, 0);
  });

  it("listing failure answers with the errno and records nothing", () => {
    const d = new Drive();
    d.run(1, "startup", 0);
    d.feed({ kind: "listed", token: d.listToken(), nowMs: 0, result: { errno: ENOENT } });
    assert.deepEqual(d.of("reply"), [{ kind: "reply", id: 1, reply: ENOENT, summary: null }]);
    assert.equal(d.of("record").length, 0);
  });
});

describe("event core: timeouts", () => {
  it("one deadline for the whole event, fixed at request time", () => {
    const d = new Drive();
    d.run(1, "monitor", 1000, { timeoutSec: 10 });
    d.list(en("00.a", "10.b"), 1500);
    assert.equal(d.of("start-timer")[0]!.atMs, 11000);
    d.exit(0, 8000);
    assert.equal(d.of("start-timer")[0]!.atMs, 11000);
  });

  it("timeout kills the group (no debug script), records -ETIMEDOUT with partial output", () => {
    const d = new Drive(false);
    d.run(1, "monitor", 0, { timeoutSec: 5 });
    d.list(en("00.a", "10.b"), 0);
    const t = d.spawned().token;
    d.feed({ kind: "timeout", token: t, nowMs: 5000, output: "partial\n", alive: true });
    assert.deepEqual(d.of("kill"), [{ kind: "kill", token: t }]);
    assert.equal(d.of("debug").length, 0);
    assert.equal(d.of("spawn").length, 0, "stops after the timeout");
    const rec = d.of("record")[0]!;
    assert.deepEqual(rec.status.scripts, [{ name: "00.a", result: -ETIMEDOUT, beginMs: 0, endMs: 5000, output: "partial\n" }]);
    assert.deepEqual(d.of("reply"), [{ kind: "reply", id: 1, reply: ETIMEDOUT, summary: -ETIMEDOUT }]);
    // the dying process's exit is stale now
    assert.deepEqual(d.feed({ kind: "script-done", token: t, nowMs: 5001, outcome: { kind: "signal", signal: "SIGKILL" }, output: "" }), []);
  });

  it("with a debug script: debug first, kill after debug-done; one debug at a time", () => {
    const d = new Drive(true);
    d.run(1, "monitor", 0, { timeoutSec: 1 });
    d.list(en("00.a"), 0);
    const t1 = d.spawned().token;
    d.feed({ kind: "timeout", token: t1, nowMs: 1000, output: "", alive: true });
    assert.deepEqual(d.of("debug"), [{ kind: "debug", token: t1, event: "monitor" }]);
    assert.equal(d.of("kill").length, 0);
    assert.equal(d.of("reply")[0]!.reply, ETIMEDOUT);
    // a second hang while the debug script still runs: killed at once
    d.run(2, "startrecovery", 1000, { timeoutSec: 1 });
    d.list(en("00.a"), 1000);
    const t2 = d.spawned().token;
    d.feed({ kind: "timeout", token: t2, nowMs: 2000, output: "", alive: true });
    assert.equal(d.of("debug").length, 0);
    assert.deepEqual(d.of("kill"), [{ kind: "kill", token: t2 }]);
    d.feed({ kind: "debug-done", token: t1, nowMs: 2500 });
    assert.deepEqual(d.of("kill"), [{ kind: "kill", token: t1 }]);
  });

  it("no debug when the hung process is already gone", () => {
    const d = new Drive(true);
    d.run(1, "monitor", 0, { timeoutSec: 1 });
    d.list(en("00.a"), 0);
    const t = d.spawned().token;
    d.feed({ kind: "timeout", token: t, nowMs: 1000, output: "", alive: false });
    assert.equal(d.of("debug").length, 0);
    assert.equal(d.of("kill").length, 1);
  });

  it("timeout 0 means an already expired deadline", () => {
    const d = new Drive();
    d.run(1, "monitor", 7, { timeoutSec: 0 });
    d.list(en("00.a"), 7);
    assert.equal(d.of("start-timer")[0]!.atMs, 7);
  });

  it("RUN_ALL after a timeout starts the next script against the expired deadline", () => {
    const d = new Drive(true);
    d.run(1, "monitor", 0, { timeoutSec: 1, runAll: true });
    d.list(en("00.a", "10.b"), 0);
    const t = d.spawned().token;
    d.feed({ kind: "timeout", token: t, nowMs: 1000, output: "", alive: true });
    assert.equal(d.of("debug").length, 0);
    assert.equal(d.of("kill").length, 1);
    assert.equal(d.spawned().script, "10.b");
    assert.equal(d.of("start-timer")[0]!.atMs, 1000);
  });
});

describe("event core: monitor cancellation and queueing", () => {
  it("a new event cancels a running monitor: kill, ECANCELED, nothing recorded, new event runs", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list(en("00.a", "10.b"), 0);
    d.exit(0, 1);
    const t = d.spawned().token;
    const eff = d.run(2, "takeip", 2, { args: ["eth0", "10.0.0.1", "24"] });
    assert.deepEqual(d.of("kill", eff), [{ kind: "kill", token: t }]);
    assert.deepEqual(d.of("cancel-timer", eff), [{ kind: "cancel-timer", token: t }]);
    assert.deepEqual(d.of("reply", eff), [{ kind: "reply", id: 1, reply: ECANCELED, summary: -ECANCELED }]);
    assert.equal(d.of("record", eff).length, 0);
    assert.equal(d.of("list", eff).length, 1, "takeip starts at once");
    assert.equal(d.state.current?.event, "takeip");
  });

  it("a cancelled monitor leaves the previous monitor status in place", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list(en("00.a"), 0);
    d.exit(0, 1);
    const recorded = d.of("record").length;
    d.run(2, "monitor", 10);
    d.list(en("00.a"), 10);
    d.run(3, "ipreallocated", 11);
    assert.equal(d.all.filter((e) => e.kind === "record").length, recorded);
  });

  it("a monitor during another event is answered ECANCELED at once", () => {
    const d = new Drive();
    d.run(1, "startrecovery", 0);
    d.list(en("00.a"), 0);
    const eff = d.run(2, "monitor", 1);
    assert.deepEqual(eff, [{ kind: "reply", id: 2, reply: ECANCELED, summary: -ECANCELED }]);
    assert.equal(d.state.current?.id, 1);
  });

  it("a monitor during the listing of another event is cancelled too", () => {
    const d = new Drive();
    d.run(1, "recovered", 0);
    const eff = d.run(2, "monitor", 0);
    assert.deepEqual(d.of("reply", eff)[0]!.reply, ECANCELED);
  });

  it("a monitor requested while a monitor runs replaces it", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list(en("00.a"), 0);
    const eff = d.run(2, "monitor", 1);
    assert.equal(d.of("reply", eff)[0]!.id, 1);
    assert.equal(d.state.current?.id, 2);
  });

  it("non-monitor events queue behind each other and run in order", () => {
    const d = new Drive();
    d.run(1, "takeip", 0);
    d.run(2, "releaseip", 0);
    d.run(3, "ipreallocated", 0);
    assert.equal(d.state.queue.length, 2);
    d.list(en("00.a"), 0);
    d.exit(0, 1);
    assert.deepEqual(d.of("reply").map((r) => r.id), [1]);
    assert.equal(d.state.current?.event, "releaseip");
    d.list(en("00.a"), 1);
    d.exit(0, 2);
    assert.equal(d.state.current?.event, "ipreallocated");
  });

  it("stale inputs are ignored", () => {
    const d = new Drive();
    d.run(1, "monitor", 0);
    d.list(en("00.a"), 0);
    assert.deepEqual(d.feed({ kind: "script-done", token: 999, nowMs: 1, outcome: { kind: "exit", code: 0 }, output: "" }), []);
    assert.deepEqual(d.feed({ kind: "timeout", token: 999, nowMs: 1, output: "", alive: true }), []);
    assert.deepEqual(d.feed({ kind: "debug-done", token: 999, nowMs: 1 }), []);
  });
});
