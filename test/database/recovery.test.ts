import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type DbInfo,
  highestSeqnumNode,
  newerCopy,
  REC_FLAG_MIGRATED_WITH_DATA,
  type RecordCopy,
  type RecoveryEffect,
  type RecoveryRequest,
  type RecoveryResult,
  type RecoveryRun,
  startRecovery,
  stepRecovery,
} from "../../src/database/recovery.ts";
import { DbFlag } from "../../src/protocol/constants.ts";

const VOL: DbInfo = { dbId: 0x11, name: "locking.tdb", flags: 0 };
const PERS: DbInfo = { dbId: 0x22, name: "secrets.tdb", flags: DbFlag.PERSISTENT };

function rec(key: string, rsn: number, dmaster: number, data: string): RecordCopy {
  return { key: Buffer.from(key), rsn: BigInt(rsn), dmaster, flags: 0, data: Buffer.from(data) };
}

type Req = RecoveryEffect & { kind: "request" };

/** Drives a run: answers each request with `answer`, breadth first, until it is done. */
function drive(
  nodes: number[],
  answer: (to: number, req: RecoveryRequest) => RecoveryResult | string,
  opts: { contributors?: number[]; leader?: number } = {},
): { run: RecoveryRun; all: RecoveryEffect[]; requests: Req[] } {
  const { run, effects } = startRecovery({
    generation: 77,
    leader: opts.leader ?? nodes[0]!,
    nodes,
    timeoutMs: 1000,
    banSeconds: 300,
    ...(opts.contributors === undefined ? {} : { contributors: opts.contributors }),
  });
  const all = [...effects];
  const requests: Req[] = [];
  let queue = effects;
  while (queue.length > 0) {
    const next: RecoveryEffect[] = [];
    for (const e of queue) {
      if (e.kind !== "request") continue;
      requests.push(e);
      const a = answer(e.to, e.req);
      const fx =
        typeof a === "string"
          ? stepRecovery(run, { kind: "failed", reqId: e.reqId, from: e.to, error: a })
          : stepRecovery(run, { kind: "reply", reqId: e.reqId, from: e.to, result: a });
      all.push(...fx);
      next.push(...fx);
    }
    queue = next;
  }
  return { run, all, requests };
}

/** Nodes holding tables per database; answers like a healthy node. */
function healthy(data: Map<number, Map<number, RecordCopy[]>>, seqnums = new Map<number, bigint>(), dbs = [VOL]) {
  return (to: number, req: RecoveryRequest): RecoveryResult => {
    switch (req.op) {
      case "dbmap":
        return { op: "dbmap", dbs };
      case "attach":
        return { op: "attach" };
      case "freeze":
        return { op: "freeze", seqnum: seqnums.get(to) ?? 0n };
      case "pull":
        return { op: "pull", records: data.get(req.dbId)?.get(to) ?? [] };
      case "push":
        return { op: "push", count: req.records.length };
      case "thaw":
        return { op: "thaw" };
    }
  };
}

function pushed(requests: Req[], to: number, dbId: number): RecordCopy[] {
  const p = requests.find((r) => r.to === to && r.req.op === "push" && r.req.dbId === dbId);
  assert.ok(p !== undefined && p.req.op === "push", `no push to node ${to}`);
  return [...p.req.records].sort((a, b) => a.key.compare(b.key));
}

function done(all: RecoveryEffect[]): RecoveryEffect & { kind: "done" } {
  const d = all.filter((e) => e.kind === "done");
  assert.equal(d.length, 1, "exactly one done");
  return d[0] as RecoveryEffect & { kind: "done" };
}

test("volatile: the highest RSN wins per key, deleted records are dropped, the leader becomes dmaster", () => {
  const data = new Map([
    [
      VOL.dbId,
      new Map([
        [0, [rec("a", 3, 0, "a3"), rec("b", 1, 1, "b1"), rec("gone", 2, 0, "old")]],
        [1, [rec("a", 5, 1, "a5"), rec("b", 1, 0, "b1-stale")]],
        [2, [rec("gone", 4, 2, ""), rec("c", 1, 2, "c1")]],
      ]),
    ],
  ]);
  const { all, requests } = drive([0, 1, 2], healthy(data), { leader: 1 });
  assert.deepEqual(done(all), { kind: "done", ok: true, recovered: 1, failed: 0 });
  for (const to of [0, 1, 2]) {
    const got = pushed(requests, to, VOL.dbId).map((r) => [r.key.toString(), r.data.toString(), Number(r.rsn), r.dmaster, r.flags]);
    assert.deepEqual(got, [
      ["a", "a5", 5, 1, REC_FLAG_MIGRATED_WITH_DATA],
      // equal RSNs: the copy node 1 holds as its own dmaster wins over node 0's stale one
      ["b", "b1", 1, 1, REC_FLAG_MIGRATED_WITH_DATA],
      ["c", "c1", 1, 1, REC_FLAG_MIGRATED_WITH_DATA],
    ]);
  }
  // Order of work per node: freeze, pull, push, thaw — and every node is thawed for the same generation.
  const ops = requests.filter((r) => r.to === 2).map((r) => r.req.op);
  assert.deepEqual(ops, ["dbmap", "freeze", "pull", "push", "thaw"]);
  for (const r of requests) if (r.req.op === "thaw" || r.req.op === "freeze" || r.req.op === "push") assert.equal(r.req.generation, 77);
});

test("equal RSNs: the copy its holder owns wins, whichever reply comes first", () => {
  const own = rec("k", 7, 2, "own");
  const stale = rec("k", 7, 2, "stale");
  assert.equal(newerCopy(own, 2, stale, 0), true);
  assert.equal(newerCopy(stale, 0, own, 2), false);
  // neither owned: lower PNN; a higher RSN always wins
  assert.equal(newerCopy(rec("k", 7, 9, "x"), 0, rec("k", 7, 9, "y"), 1), true);
  assert.equal(newerCopy(rec("k", 7, 9, "x"), 1, rec("k", 7, 9, "y"), 0), false);
  assert.equal(newerCopy(rec("k", 8, 9, "x"), 1, rec("k", 7, 0, "y"), 0), true);
});

test("persistent: the whole database comes from the node with the highest sequence number", () => {
  const data = new Map([
    [
      PERS.dbId,
      new Map([
        [0, [rec("user", 9, 0, "old-but-high-rsn")]],
        [1, [rec("user", 2, 1, "newest"), rec("other", 1, 1, "x")]],
        [2, [rec("user", 1, 2, "older")]],
      ]),
    ],
  ]);
  const seq = new Map([
    [0, 3n],
    [1, 5n],
    [2, 4n],
  ]);
  const { all, requests } = drive([0, 1, 2], healthy(data, seq, [PERS]));
  assert.equal(done(all).ok, true);
  const pulls = requests.filter((r) => r.req.op === "pull").map((r) => r.to);
  assert.deepEqual(pulls, [1]);
  const got = pushed(requests, 2, PERS.dbId).map((r) => [r.key.toString(), r.data.toString(), r.dmaster]);
  // persistent records keep their header: no dmaster rewrite
  assert.deepEqual(got, [
    ["other", "x", 1],
    ["user", "newest", 1],
  ]);
  assert.equal(highestSeqnumNode(new Map([[2, 4n], [1, 4n], [0, 1n]])), 1);
  assert.equal(highestSeqnumNode(new Map()), undefined);
});

test("a node missing a database attaches it before anything is frozen", () => {
  const answer = (to: number, req: RecoveryRequest): RecoveryResult => {
    if (req.op === "dbmap") return { op: "dbmap", dbs: to === 1 ? [] : [VOL, PERS] };
    return healthy(new Map())(to, req);
  };
  const { all, requests } = drive([0, 1], answer);
  assert.equal(done(all).recovered, 2);
  const n1 = requests.filter((r) => r.to === 1).map((r) => r.req.op);
  assert.deepEqual(n1.slice(0, 3), ["dbmap", "attach", "attach"]);
  const attached = requests.filter((r) => r.req.op === "attach").map((r) => (r.req.op === "attach" ? r.req.db.name : ""));
  assert.deepEqual(attached.sort(), ["locking.tdb", "secrets.tdb"]);
});

test("volatile records are pulled only from contributors; the rest are wiped and pushed", () => {
  const data = new Map([[VOL.dbId, new Map([[2, [rec("zombie", 9, 2, "stale")]], [0, [rec("live", 1, 0, "ok")]]])]]);
  const { all, requests } = drive([0, 1, 2], healthy(data), { contributors: [0, 1] });
  assert.equal(done(all).ok, true);
  assert.deepEqual(
    requests.filter((r) => r.req.op === "pull").map((r) => r.to),
    [0, 1],
  );
  assert.deepEqual(
    pushed(requests, 2, VOL.dbId).map((r) => r.key.toString()),
    ["live"],
  );
  // No contributor at all: an empty database is pushed.
  const none = drive([0, 1, 2], healthy(data), { contributors: [] });
  assert.equal(done(none.all).ok, true);
  assert.deepEqual(pushed(none.requests, 1, VOL.dbId), []);
});

test("a database that fails is tried again from the freeze; a node failing every attempt is banned", () => {
  let freezes = 0;
  const flaky = (to: number, req: RecoveryRequest): RecoveryResult | string => {
    if (req.op === "freeze") freezes++;
    if (to === 2 && req.op === "pull") return "I/O error";
    return healthy(new Map())(to, req);
  };
  const { all } = drive([0, 1, 2], flaky);
  assert.equal(freezes, 9, "three attempts, each freezing all three nodes");
  const d = done(all);
  assert.equal(d.ok, false);
  assert.equal(d.failed, 1);
  const bans = all.filter((e) => e.kind === "ban");
  assert.deepEqual(bans, [{ kind: "ban", pnn: 2, seconds: 300, credits: 3 }]);
});

test("one failure, then success: recovered, no ban", () => {
  let failedOnce = false;
  const once = (to: number, req: RecoveryRequest): RecoveryResult | string => {
    if (to === 1 && req.op === "push" && !failedOnce) {
      failedOnce = true;
      return "disk full";
    }
    return healthy(new Map())(to, req);
  };
  const { all } = drive([0, 1], once);
  assert.equal(done(all).ok, true);
  assert.equal(all.filter((e) => e.kind === "ban").length, 0);
  assert.ok(all.some((e) => e.kind === "log" && /attempt 2/.test(e.message)));
});

test("two failures of one node are not enough for a ban", () => {
  let n = 0;
  const twice = (to: number, req: RecoveryRequest): RecoveryResult | string => {
    if (to === 1 && req.op === "thaw" && n++ < 2) return "busy";
    return healthy(new Map())(to, req);
  };
  const { all } = drive([0, 1], twice);
  assert.equal(done(all).ok, true);
  assert.equal(all.filter((e) => e.kind === "ban").length, 0);
});

test("a node lost mid-run voids it without a ban; stale replies are ignored", () => {
  const { run, effects } = startRecovery({ generation: 5, leader: 0, nodes: [0, 1], timeoutMs: 10, banSeconds: 300 });
  const reqs = effects.filter((e): e is Req => e.kind === "request");
  assert.equal(reqs.length, 2);
  // a reply from the wrong node for a request is stale
  assert.deepEqual(stepRecovery(run, { kind: "reply", reqId: reqs[0]!.reqId, from: 1, result: { op: "dbmap", dbs: [] } }), []);
  const fx = stepRecovery(run, { kind: "node-lost", pnn: 1 });
  assert.deepEqual(
    fx.filter((e) => e.kind === "done"),
    [{ kind: "done", ok: false, recovered: 0, failed: 0, reason: "node 1 dropped out of recovery" }],
  );
  assert.equal(fx.filter((e) => e.kind === "ban").length, 0);
  // after the end nothing more happens
  assert.deepEqual(stepRecovery(run, { kind: "reply", reqId: reqs[1]!.reqId, from: 1, result: { op: "dbmap", dbs: [] } }), []);
  // a node outside the run going away changes nothing
  const other = startRecovery({ generation: 6, leader: 0, nodes: [0], timeoutMs: 10, banSeconds: 300 });
  assert.deepEqual(stepRecovery(other.run, { kind: "node-lost", pnn: 3 }), []);
});

test("no databases: done as soon as every dbmap is in; no nodes: failed at once", () => {
  const { all } = drive([0, 1, 2], healthy(new Map(), new Map(), []));
  assert.deepEqual(done(all), { kind: "done", ok: true, recovered: 0, failed: 0 });
  const empty = startRecovery({ generation: 5, leader: 0, nodes: [], timeoutMs: 10, banSeconds: 300 });
  assert.equal(done(empty.effects).ok, false);
});

test("a reply of the wrong kind counts as that node's failure", () => {
  const wrong = (to: number, req: RecoveryRequest): RecoveryResult | string => {
    if (to === 1 && req.op === "freeze") return { op: "thaw" };
    return healthy(new Map())(to, req);
  };
  const { all } = drive([0, 1], wrong);
  assert.equal(done(all).ok, false);
  assert.deepEqual(all.filter((e) => e.kind === "ban").map((e) => (e.kind === "ban" ? e.pnn : -1)), [1]);
});

test("abort ends the run once", () => {
  const { run } = startRecovery({ generation: 5, leader: 0, nodes: [0, 1], timeoutMs: 10, banSeconds: 300 });
  const fx = stepRecovery(run, { kind: "abort", reason: "leader stepped down" });
  assert.equal(done(fx).reason, "leader stepped down");
  assert.deepEqual(stepRecovery(run, { kind: "abort", reason: "again" }), []);
});
