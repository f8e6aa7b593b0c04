import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  appendTimeline,
  changes,
  finishedSince,
  resultName,
  type StatusInput,
  statusDoc,
  type TakeoverRecord,
  takeoverDocs,
} from "../../src/observe/status.ts";

function input(over: Partial<StatusInput> = {}): StatusInput {
  return {
    pnn: 0,
    nowMs: 10_000,
    startedMs: 4_500,
    nodes: [
      { pnn: 0, address: "127.0.0.1", flags: 0 },
      { pnn: 1, address: "127.0.0.2", flags: 0x04 },
      { pnn: 2, address: "127.0.0.3", flags: 0x01 | 0x02 },
    ],
    leader: 0,
    generation: 7,
    recoveryMode: 0,
    runstate: 5,
    lock: { description: "/x/lock", held: true },
    events: new Map(),
    addresses: [],
    ...over,
  };
}

describe("status document", () => {
  it("nodes with ctdb's state words, the leader and this node marked", () => {
    const d = statusDoc(input());
    assert.deepEqual(
      d.nodes.map((n) => [n.pnn, n.state, n.flags, n.leader, n.thisNode]),
      [
        [0, "OK", [], true, true],
        [1, "DISABLED", ["DISABLED"], false, false],
        [2, "DISCONNECTED|UNHEALTHY|INACTIVE", ["DISCONNECTED", "UNHEALTHY", "INACTIVE"], false, false],
      ],
    );
    assert.equal(d.runstate, "RUNNING");
    assert.equal(d.recoveryMode, "NORMAL");
    assert.equal(d.uptimeSec, 5);
    assert.equal(statusDoc(input({ leader: 0xffffffff })).leader, null);
    assert.equal(statusDoc(input({ recoveryMode: 1 })).recoveryMode, "RECOVERY");
  });

  it("events in the order a node meets them, with durations and result words", () => {
    const events = new Map([
      ["monitor", { summary: 1, scripts: [{ name: "10.a", result: 1, beginMs: 100, endMs: 150, output: "boom\n" }, { name: "20.b", result: -8, beginMs: 150, endMs: 150, output: "" }] }],
      ["custom", { summary: 0, scripts: [] }],
      ["startup", { summary: 0, scripts: [{ name: "10.a", result: 0, beginMs: 10, endMs: 30, output: "" }] }],
    ]);
    const d = statusDoc(input({ events }));
    assert.deepEqual(d.events.map((e) => [e.event, e.status, e.durationMs]), [["startup", "OK", 20], ["monitor", "ERROR", 50], ["custom", "OK", 0]]);
    assert.deepEqual(d.events[1]?.scripts.map((s) => [s.name, s.status, s.durationMs, s.output]), [["10.a", "ERROR", 50, "boom\n"], ["20.b", "DISABLED", 0, ""]]);
  });

  it("result words", () => {
    assert.deepEqual([0, 1, 255, -110, -125, -8, -2].map(resultName), ["OK", "ERROR", "ERROR", "TIMEDOUT", "CANCELLED", "DISABLED", "ERROR"]);
  });

  it("changes between two looks, in words", () => {
    const a = statusDoc(input());
    assert.deepEqual(changes(undefined, a), []);
    assert.deepEqual(changes(a, a), []);
    const b = statusDoc(
      input({
        nowMs: 11_000,
        leader: 2,
        generation: 8,
        runstate: 6,
        nodes: [
          { pnn: 0, address: "127.0.0.1", flags: 0x01 },
          { pnn: 1, address: "127.0.0.2", flags: 0x04 },
          { pnn: 2, address: "127.0.0.3", flags: 0 },
        ],
      }),
    );
    assert.deepEqual(changes(a, b), [
      { atMs: 11_000, text: "Leader: node 0 → node 2" },
      { atMs: 11_000, text: "Node 0: OK → DISCONNECTED|INACTIVE" },
      { atMs: 11_000, text: "Node 2: DISCONNECTED|UNHEALTHY|INACTIVE → OK" },
      { atMs: 11_000, text: "Recovery: generation 8" },
      { atMs: 11_000, text: "This node: RUNNING → SHUTDOWN" },
    ]);
    const c = statusDoc(input({ leader: 0xffffffff }));
    assert.deepEqual(changes(a, c).map((e) => e.text), ["Leader: node 0 → none"]);
    const p1 = statusDoc(input({ addresses: [{ address: "10.0.0.9", pnn: 1 }] }));
    const p2 = statusDoc(input({ addresses: [{ address: "10.0.0.9", pnn: -1 }] }));
    assert.deepEqual(changes(p1, p2).map((e) => e.text), ["10.0.0.9: node 1 → none"]);
  });

  it("the timeline keeps the newest entries", () => {
    const entries = Array.from({ length: 5 }, (_, i) => ({ atMs: i, text: String(i) }));
    assert.deepEqual(appendTimeline(entries.slice(0, 3), entries.slice(3), 4).map((e) => e.text), ["1", "2", "3", "4"]);
    assert.deepEqual(appendTimeline([], entries.slice(0, 2), 4).map((e) => e.text), ["0", "1"]);
  });
});

describe("takeover runs", () => {
  const run = (n: number, over: Partial<TakeoverRecord> = {}): TakeoverRecord => ({
    run: n,
    leader: 0,
    reasons: ["recovery"],
    startedMs: 1000 * n,
    finishedMs: 1000 * n + 40,
    result: "ok",
    error: undefined,
    released: [],
    taken: [],
    ...over,
  });

  it("newest first, wall-clock starts, what moved in order at offsets from the start", () => {
    const records = [
      run(1),
      run(2, {
        released: [{ address: "198.51.100.1", pnn: 1, ms: 2012.34 }],
        taken: [
          { address: "198.51.100.1", pnn: 2, ms: 2030 },
          { address: "198.51.100.2", pnn: 0, ms: 2005 },
        ],
      }),
      run(3, { result: "running", finishedMs: undefined }),
    ];
    const docs = takeoverDocs(records, 1_700_000_000_000, 2);
    assert.deepEqual(docs.map((d) => [d.run, d.result, d.durationMs, d.startedMs]), [
      [3, "RUNNING", null, 1_700_000_003_000],
      [2, "OK", 40, 1_700_000_002_000],
    ]);
    assert.deepEqual(docs[1]?.steps, [
      { afterMs: 5, text: "198.51.100.2 taken by node 0" },
      { afterMs: 12.3, text: "198.51.100.1 released by node 1" },
      { afterMs: 30, text: "198.51.100.1 taken by node 2" },
    ]);
  });

  it("each finished run is counted once", () => {
    const records = [run(1), run(2, { result: "failed" }), run(3, { result: "running", finishedMs: undefined })];
    assert.deepEqual(finishedSince(records, 0).map((r) => r.run), [1, 2]);
    assert.deepEqual(finishedSince(records, 2).map((r) => r.run), []);
    assert.deepEqual(finishedSince([...records.slice(0, 2), run(3)], 2).map((r) => r.run), [3]);
  });
});
