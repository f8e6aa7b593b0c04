import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CtdbClient } from "../../src/client/client.ts";
import * as C from "../../src/client/controls.ts";
import { Control, ControlFlag, Operation } from "../../src/protocol/constants.ts";
import type { ReqControl } from "../../src/protocol/packets.ts";
import * as T from "../../src/protocol/types.ts";
import { FakeDaemon } from "./fake-daemon.ts";

let d: FakeDaemon;
let c: CtdbClient;

before(async () => {
  d = await FakeDaemon.start({ pnn: 1, pid: 31337 });
  c = await CtdbClient.connect(d.socketPath, { timeoutMs: 2000 });
});
after(async () => {
  c.close();
  await d.stop();
});

function lastRequest(opcode: number): ReqControl {
  const r = d.received.filter((p): p is ReqControl => p.operation === Operation.REQ_CONTROL && p.opcode === opcode).at(-1);
  assert.ok(r, `no ${opcode} request`);
  return r;
}

const reply = (data: Buffer) => () => ({ status: 0, data });

test("status-valued controls: GET_PNN, PING, GET_PID, GET_RECMODE", async () => {
  d.handlers.set(Control.PING, () => ({ status: 4 }));
  d.handlers.set(Control.GET_RECMODE, () => ({ status: 1 }));
  assert.equal(await C.getPnn(c, 1), 1);
  assert.equal(await C.ping(c, 1), 4);
  assert.equal(await C.getPid(c, 1), 31337);
  assert.equal(await C.getRecmode(c, 1), 1);
  d.handlers.set(Control.PING, () => ({ status: -1, errmsg: "down" }));
  await assert.rejects(C.ping(c, 1), (e: unknown) => e instanceof C.ControlError && e.status === -1 && e.errmsg === "down" && e.opcode === Control.PING);
});

test("data-returning controls decode their replies", async () => {
  const nodemap: T.NodeMap = { nodes: [{ pnn: 0, flags: 0, addr: "10.0.0.1" }, { pnn: 1, flags: 1, addr: "10.0.0.2" }] };
  d.handlers.set(Control.GET_NODEMAP, reply(T.encodeNodeMap(nodemap)));
  d.handlers.set(Control.GET_RUNSTATE, reply(T.encodeU32(5)));
  d.handlers.set(Control.GETVNNMAP, reply(T.encodeVnnMap({ generation: 77, map: [0, 1] })));
  const uptime: T.Uptime = {
    currentTime: { sec: 100, usec: 1 },
    ctdbdStartTime: { sec: 50, usec: 0 },
    lastRecoveryStarted: { sec: 60, usec: 0 },
    lastRecoveryFinished: { sec: 61, usec: 0 },
  };
  d.handlers.set(Control.UPTIME, reply(T.encodeUptime(uptime)));
  d.handlers.set(Control.GET_CAPABILITIES, reply(T.encodeU32(0x30003)));
  d.handlers.set(Control.GET_RECLOCK_FILE, reply(T.encodeString("/cluster/lock")));
  d.handlers.set(Control.LIST_TUNABLES, reply(T.encodeVarList(["A", "B"])));
  d.handlers.set(Control.GET_ALL_TUNABLES, reply(T.encodeTunableList(new Array(62).fill(9))));
  d.handlers.set(Control.GET_IFACES, reply(T.encodeIfaceList([{ name: "eth0", linkState: 1, references: 2 }])));
  d.handlers.set(Control.GET_DEBUG, reply(T.encodeU32(5)));
  assert.deepEqual(await C.getNodemap(c, 1), nodemap);
  assert.equal(await C.getRunstate(c, 1), 5);
  assert.deepEqual(await C.getVnnmap(c, 1), { generation: 77, map: [0, 1] });
  assert.deepEqual(await C.getUptime(c, 1), uptime);
  assert.equal(await C.getCapabilities(c, 1), 0x30003);
  assert.equal(await C.getReclockFile(c, 1), "/cluster/lock");
  assert.deepEqual(await C.listTunables(c, 1), ["A", "B"]);
  assert.deepEqual(await C.getAllTunables(c, 1), new Array(62).fill(9));
  assert.deepEqual(await C.getIfaces(c, 1), [{ name: "eth0", linkState: 1, references: 2 }]);
  assert.equal(await C.getDebug(c, 1), 5);
  d.handlers.set(Control.GET_RECLOCK_FILE, reply(Buffer.alloc(0)));
  assert.equal(await C.getReclockFile(c, 1), "");
});

test("tunables: request payloads and SET_TUNABLE status passthrough", async () => {
  d.handlers.set(Control.GET_TUNABLE, (req) => {
    const name = T.decodeGetTunableRequest(req.data);
    return name === "EnableBans" ? { status: 0, data: T.encodeU32(1) } : { status: -1 };
  });
  assert.equal(await C.getTunable(c, 0, "EnableBans"), 1);
  assert.equal(lastRequest(Control.GET_TUNABLE).destnode, 0);
  await assert.rejects(C.getTunable(c, 0, "Nope"), C.ControlError);
  d.handlers.set(Control.SET_TUNABLE, (req) => {
    const t = T.decodeTunable(req.data);
    return { status: t.name === "VerifyRecoveryLock" ? 1 : t.name === "Nope" ? -1 : 0 };
  });
  assert.equal(await C.setTunable(c, 1, "MonitorInterval", 20), 0);
  assert.deepEqual(T.decodeTunable(lastRequest(Control.SET_TUNABLE).data), { name: "MonitorInterval", value: 20 });
  assert.equal(await C.setTunable(c, 1, "VerifyRecoveryLock", 0), 1);
  assert.equal(await C.setTunable(c, 1, "Nope", 0), -1);
});

test("node state controls succeed on 0 and throw ControlError otherwise", async () => {
  const ops: [number, (c: CtdbClient, dest: number) => Promise<void>][] = [
    [Control.DISABLE_NODE, C.disableNode],
    [Control.ENABLE_NODE, C.enableNode],
    [Control.STOP_NODE, C.stopNode],
    [Control.CONTINUE_NODE, C.continueNode],
    [Control.SHUTDOWN, C.shutdown],
  ];
  for (const [op, fn] of ops) {
    d.handlers.set(op, () => ({ status: 0 }));
    await fn(c, 1);
    assert.equal(lastRequest(op).destnode, 1);
    d.handlers.set(op, () => ({ status: -1, errmsg: "no" }));
    await assert.rejects(fn(c, 1), (e: unknown) => e instanceof C.ControlError && e.opcode === op);
  }
  d.handlers.set(Control.SET_DEBUG, () => ({ status: 0 }));
  await C.setDebug(c, 1, 3);
  assert.equal(T.decodeU32(lastRequest(Control.SET_DEBUG).data), 3);
});

test("getPublicIps passes flags in the control header", async () => {
  d.handlers.set(Control.GET_PUBLIC_IPS, (req) => ({
    status: 0,
    data: T.encodePublicIpList(req.flags & ControlFlag.PUBLIC_IP_ONLY_AVAILABLE ? [] : [{ pnn: 1, addr: "192.0.2.1" }]),
  }));
  assert.deepEqual(await C.getPublicIps(c, 1), [{ pnn: 1, addr: "192.0.2.1" }]);
  assert.deepEqual(await C.getPublicIps(c, 1, ControlFlag.PUBLIC_IP_ONLY_AVAILABLE), []);
  assert.equal(lastRequest(Control.GET_PUBLIC_IPS).flags, ControlFlag.PUBLIC_IP_ONLY_AVAILABLE);
});

test("a malformed reply payload surfaces as ProtocolError, not a crash", async () => {
  d.handlers.set(Control.GET_NODEMAP, reply(T.encodeU32(3)));
  await assert.rejects(C.getNodemap(c, 1), T.ProtocolError);
  // the connection is still fine afterwards
  assert.equal(await C.getPnn(c, 1), 1);
});

test("per-call timeouts apply to wrappers", async () => {
  d.handlers.set(Control.GET_RUNSTATE, () => null);
  await assert.rejects(C.getRunstate(c, 1, 50), /control timed out/);
});
