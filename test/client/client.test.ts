import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { ControlError, ControlTimeoutError, CtdbClient } from "../../src/client/client.ts";
import { Control, ControlFlag, CURRENT_NODE, Operation, SRVID_LEADER, UNKNOWN_PNN } from "../../src/protocol/constants.ts";
import type { ReqControl, ReqMessage } from "../../src/protocol/packets.ts";
import { FakeDaemon, type FakeDaemonOptions } from "./fake-daemon.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: FakeDaemonOptions = {}): Promise<{ d: FakeDaemon; c: CtdbClient }> {
  const d = await FakeDaemon.start(opts);
  cleanups.push(() => d.stop());
  const c = await CtdbClient.connect(d.socketPath, { timeoutMs: 2000 });
  cleanups.push(() => c.close());
  return { d, c };
}

function controls(d: FakeDaemon): ReqControl[] {
  return d.received.filter((p): p is ReqControl => p.operation === Operation.REQ_CONTROL);
}

test("connect asks GET_PNN of CURRENT_NODE and keeps the answer", async () => {
  const { d, c } = await setup({ pnn: 3 });
  assert.equal(c.pnn, 3);
  const first = controls(d)[0]!;
  assert.equal(first.opcode, Control.GET_PNN);
  assert.equal(first.destnode, CURRENT_NODE);
  assert.equal(first.srcnode, UNKNOWN_PNN);
});

test("connect failure names the socket", async () => {
  const path = join("/nonexistent-dir-for-tandem-test", "ctdbd.socket");
  await assert.rejects(CtdbClient.connect(path, { timeoutMs: 500 }), (e: Error) => e.message.includes(path));
});

test("controls are matched to replies by reqid, even out of order", async () => {
  const { d, c } = await setup({ pnn: 1 });
  const held: ReqControl[] = [];
  d.handlers.set(Control.GET_DEBUG, (req) => {
    held.push(req);
    return null;
  });
  d.handlers.set(Control.GET_RUNSTATE, (req) => ({ status: 0, data: Buffer.from([req.data[0]!, 0, 0, 0]) }));
  const a = c.control(1, Control.GET_RUNSTATE, Buffer.from([7]));
  const b = c.control(1, Control.GET_RUNSTATE, Buffer.from([9]));
  assert.deepEqual([...(await b).data], [9, 0, 0, 0]);
  assert.deepEqual([...(await a).data], [7, 0, 0, 0]);
  const reqids = controls(d).map((p) => p.reqid);
  for (let i = 1; i < reqids.length; i++) assert.ok(reqids[i]! > reqids[i - 1]!, "reqids increase");
  for (const p of controls(d).slice(1)) assert.equal(p.srcnode, 1, "srcnode is our pnn after connect");
});

test("a failing control returns status and errmsg", async () => {
  const { d, c } = await setup();
  d.handlers.set(Control.SET_DEBUG, () => ({ status: -1, errmsg: "nope" }));
  const r = await c.control(0, Control.SET_DEBUG, Buffer.alloc(4));
  assert.deepEqual(r, { status: -1, data: Buffer.alloc(0), errmsg: "nope" });
});

test("srvid and flags reach the daemon; NOREPLY resolves without a reply", async () => {
  const { d, c } = await setup();
  d.handlers.set(Control.GET_PUBLIC_IPS, () => null);
  const r = await c.control(0, Control.GET_PUBLIC_IPS, undefined, { srvid: 0x55n, flags: ControlFlag.NOREPLY });
  assert.equal(r.status, 0);
  await new Promise((res) => setTimeout(res, 50));
  const last = controls(d).at(-1)!;
  assert.equal(last.opcode, Control.GET_PUBLIC_IPS);
  assert.equal(last.srvid, 0x55n);
  assert.equal(last.flags, ControlFlag.NOREPLY);
});

test("a control with no reply times out with 'control timed out' and the client stays usable", async () => {
  const { d, c } = await setup();
  d.handlers.set(Control.GET_DEBUG, () => null);
  const t0 = Date.now();
  await assert.rejects(c.control(0, Control.GET_DEBUG, undefined, { timeoutMs: 100 }), (e: Error) => {
    assert.ok(e instanceof ControlTimeoutError);
    assert.equal(e.message, "control timed out");
    return true;
  });
  assert.ok(Date.now() - t0 >= 90);
  assert.equal((await c.control(0, Control.GET_PID)).status, 4242);
});

test("closing the client rejects every pending call", async () => {
  const { d, c } = await setup();
  d.handlers.set(Control.GET_DEBUG, () => null);
  const p1 = c.control(0, Control.GET_DEBUG);
  const p2 = c.control(0, Control.GET_DEBUG);
  c.close();
  await assert.rejects(p1, /closed/);
  await assert.rejects(p2, /closed/);
  await assert.rejects(c.control(0, Control.GET_PID), /closed/);
  assert.throws(() => c.sendMessage(0, 1n, Buffer.alloc(0)), /closed/);
});

test("the daemon going away rejects pending calls and fires onDisconnect", async () => {
  const { d, c } = await setup();
  let disconnected = false;
  c.onDisconnect(() => {
    disconnected = true;
  });
  d.handlers.set(Control.SHUTDOWN, (_req, conn) => {
    setTimeout(() => conn.socket.destroy(), 10);
    return null;
  });
  await assert.rejects(c.control(0, Control.SHUTDOWN), /closed/);
  assert.equal(disconnected, true);
  assert.equal(c.closed, true);
});

test("garbage from the daemon closes the connection with a protocol error", async () => {
  const { d, c } = await setup();
  d.handlers.set(Control.GET_DEBUG, (_req, conn) => {
    conn.socket.write(Buffer.from("this is not a ctdb packet at all"));
    return null;
  });
  await assert.rejects(c.control(0, Control.GET_DEBUG), /protocol error.*bad magic/);
});

test("messages are delivered to registered handlers; deregister stops them", async () => {
  const { d, c } = await setup({ pnn: 2 });
  const got: [string, bigint][] = [];
  const srvid = 0xbe00000000000007n;
  await c.registerSrvid(srvid, (data, s) => got.push([data.toString(), s]));
  const reg = controls(d).at(-1)!;
  assert.equal(reg.opcode, Control.REGISTER_SRVID);
  assert.equal(reg.srvid, srvid);
  assert.equal(reg.destnode, 2, "registers with its own pnn like CTDB's client");
  c.sendMessage(CURRENT_NODE, srvid, Buffer.from("one"));
  d.broadcast(srvid, Buffer.from("two"));
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(
    got.map(([t]) => t).sort(),
    ["one", "two"],
  );
  assert.ok(got.every(([, s]) => s === srvid));
  const msg = d.received.find((p): p is ReqMessage => p.operation === Operation.REQ_MESSAGE)!;
  assert.equal(msg.srvid, srvid);
  assert.equal(msg.destnode, CURRENT_NODE);
  await c.deregisterSrvid(srvid);
  assert.equal(controls(d).at(-1)!.opcode, Control.DEREGISTER_SRVID);
  d.broadcast(srvid, Buffer.from("three"));
  // the fake daemon honoured the deregistration; also deliver directly to prove the client dropped the handler
  for (const conn of d.connections) d.message(conn, srvid, Buffer.from("four"));
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(got.length, 2);
});

test("registerSrvid reports a refused registration", async () => {
  const { d, c } = await setup();
  d.handlers.set(Control.REGISTER_SRVID, () => ({ status: -1, errmsg: "refused" }));
  await assert.rejects(c.registerSrvid(9n, () => {}), (e: Error) => e instanceof ControlError && e.status === -1);
});

test("waitForLeader resolves from the LEADER broadcast", async () => {
  const { d, c } = await setup({ leader: 5, leaderIntervalMs: 100 });
  assert.equal(await c.waitForLeader(2000), 5);
  const regs = controls(d).filter((p) => p.opcode === Control.REGISTER_SRVID && p.srvid === SRVID_LEADER);
  assert.equal(regs.length, 1);
  assert.equal(await c.waitForLeader(2000), 5);
  assert.equal(controls(d).filter((p) => p.opcode === Control.REGISTER_SRVID).length, 1, "registered only once");
});

test("waitForLeader ignores UNKNOWN announcements and times out with UNKNOWN_PNN", async () => {
  const { c } = await setup({ leader: UNKNOWN_PNN, leaderIntervalMs: 20 });
  const t0 = Date.now();
  assert.equal(await c.waitForLeader(150), UNKNOWN_PNN);
  assert.ok(Date.now() - t0 >= 140);
});

test("waitForLeader picks up a leader announced later", async () => {
  const { d, c } = await setup();
  const p = c.waitForLeader(2000);
  setTimeout(() => d.broadcast(SRVID_LEADER, Buffer.from([1, 0, 0, 0])), 50);
  assert.equal(await p, 1);
});

test("connect fails cleanly if the peer never answers GET_PNN", async () => {
  const d = await FakeDaemon.start();
  cleanups.push(() => d.stop());
  d.handlers.set(Control.GET_PNN, () => null);
  await assert.rejects(CtdbClient.connect(d.socketPath, { timeoutMs: 100 }), /Failed to connect.*control timed out/);
});

test("connect times out against a socket that accepts but never speaks", async () => {
  const d = await FakeDaemon.start();
  cleanups.push(() => d.stop());
  const path = join(d.dir, "silent.socket");
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  await new Promise<void>((res) => server.listen(path, () => res()));
  cleanups.push(
    () =>
      new Promise<void>((res) => {
        for (const s of accepted) s.destroy();
        server.close(() => res());
      }),
  );
  await assert.rejects(CtdbClient.connect(path, { timeoutMs: 100 }), (e: Error) => e.message.includes(path));
});
