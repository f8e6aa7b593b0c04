import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CommitStatus,
  checkTransactionBase,
  initialCommitState,
  stepCommit,
  transactionSeqnum,
} from "../../src/database/persistent.ts";
import type { RecordCopy } from "../../src/database/recovery.ts";
import { DB_SEQNUM_KEY } from "../../src/protocol/constants.ts";

function seqRec(n: bigint): RecordCopy {
  const data = Buffer.alloc(8);
  data.writeBigUInt64LE(n);
  return { key: Buffer.from(DB_SEQNUM_KEY), rsn: n, dmaster: 0, flags: 0, data };
}
const records = [{ key: Buffer.from("k"), rsn: 1n, dmaster: 0, flags: 0, data: Buffer.from("v") }, seqRec(4n)];

function commit(state = initialCommitState(), over: Partial<{ recovering: boolean; nodes: number[] }> = {}) {
  const fx = stepCommit(state, {
    kind: "commit",
    nowMs: 100,
    commitId: 7,
    dbId: 0x22,
    records,
    recovering: over.recovering ?? false,
    self: 0,
    nodes: over.nodes ?? [0, 1, 2],
    timeoutMs: 1000,
  });
  return { state, fx };
}

test("the other nodes store first, this node last, then the client is answered", () => {
  const { state, fx } = commit();
  assert.deepEqual(
    fx.map((e) => (e.kind === "store" ? `store ${e.to}` : e.kind)),
    ["store 1", "store 2", "wake-at"],
  );
  assert.deepEqual(stepCommit(state, { kind: "stored", nowMs: 101, commitId: 7, from: 1, ok: true }), []);
  const fx2 = stepCommit(state, { kind: "stored", nowMs: 102, commitId: 7, from: 2, ok: true });
  assert.deepEqual(fx2, [{ kind: "store", to: 0, commitId: 7, dbId: 0x22, records }]);
  assert.deepEqual(stepCommit(state, { kind: "stored", nowMs: 103, commitId: 7, from: 0, ok: true }), [
    { kind: "reply", commitId: 7, status: CommitStatus.OK },
  ]);
  assert.equal(state.pending.size, 0);
});

test("a single-node cluster stores at once", () => {
  const { fx } = commit(initialCommitState(), { nodes: [0] });
  assert.equal(fx[0]?.kind === "store" && fx[0].to, 0);
});

test("a node failing to store asks for recovery; the client hears only after it, never from this node's own store", () => {
  const { state } = commit();
  const fx = stepCommit(state, { kind: "stored", nowMs: 101, commitId: 7, from: 1, ok: false, error: "I/O error" });
  assert.deepEqual(fx, [{ kind: "force-recovery", reason: "node 1 failed to store: I/O error" }]);
  assert.deepEqual(stepCommit(state, { kind: "stored", nowMs: 102, commitId: 7, from: 2, ok: true }), [], "no self store after a failure");
  assert.deepEqual(stepCommit(state, { kind: "tick", nowMs: 5000 }), [], "a failed commit waits for the recovery, not the timeout");
  assert.deepEqual(stepCommit(state, { kind: "recovered", nowMs: 6000 }), [
    { kind: "reply", commitId: 7, status: CommitStatus.ENDED_BY_RECOVERY, error: "trans3 commit ended by recovery" },
  ]);
});

test("refused while recovering, while another commit on the database is open, and after a node was lost until recovered", () => {
  const refusedWhile = commit(initialCommitState(), { recovering: true }).fx;
  assert.deepEqual(refusedWhile, [{ kind: "reply", commitId: 7, status: CommitStatus.REFUSED, error: "recovery in progress" }]);
  const { state } = commit();
  const again = stepCommit(state, {
    kind: "commit",
    nowMs: 100,
    commitId: 8,
    dbId: 0x22,
    records,
    recovering: false,
    self: 0,
    nodes: [0, 1],
    timeoutMs: 1000,
  });
  assert.equal(again[0]?.kind === "reply" && again[0].status, CommitStatus.REFUSED);
  const lost = stepCommit(state, { kind: "node-lost", nowMs: 101, pnn: 2 });
  assert.deepEqual(lost, [{ kind: "force-recovery", reason: "node 2 was lost during the commit" }]);
  stepCommit(state, { kind: "recovered", nowMs: 200 });
  const s2 = initialCommitState();
  stepCommit(s2, { kind: "node-lost", nowMs: 1, pnn: 4 });
  const blocked = commit(s2).fx;
  assert.deepEqual(blocked, [{ kind: "reply", commitId: 7, status: CommitStatus.REFUSED, error: "a node was lost: waiting for recovery" }]);
  stepCommit(s2, { kind: "recovered", nowMs: 2 });
  assert.equal(commit(s2).fx[0]?.kind, "store");
});

test("a commit that times out is answered with status 1 and asks for recovery", () => {
  const { state } = commit();
  assert.deepEqual(stepCommit(state, { kind: "tick", nowMs: 1099 }), []);
  assert.deepEqual(stepCommit(state, { kind: "tick", nowMs: 1100 }), [
    { kind: "reply", commitId: 7, status: CommitStatus.TIMEOUT, error: "timeout in ctdb_persistent_state" },
    { kind: "force-recovery", reason: "a persistent commit timed out" },
  ]);
});

test("a node stores a transaction only on top of the sequence number before it", () => {
  assert.equal(transactionSeqnum(records), 4n);
  assert.equal(transactionSeqnum(records.slice(0, 1)), undefined);
  assert.equal(checkTransactionBase(3n, records), undefined);
  assert.equal(checkTransactionBase(4n, records), "database is at sequence number 4, the transaction expects 3");
  assert.equal(checkTransactionBase(2n, records), "database is at sequence number 2, the transaction expects 3");
  assert.equal(checkTransactionBase(9n, records.slice(0, 1)), undefined, "no sequence number record: nothing to check");
});
