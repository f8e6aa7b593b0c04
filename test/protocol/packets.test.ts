import assert from "node:assert/strict";
import { test } from "node:test";
import { Control, CURRENT_NODE, Operation, SRVID_LEADER, UNKNOWN_PNN } from "../../src/protocol/constants.ts";
import {
  decodePacket,
  encodePacket,
  encodeReplyControl,
  encodeReqControl,
  encodeReqMessage,
  type Packet,
  ProtocolError,
  type ReqControl,
  replyControlFor,
} from "../../src/protocol/packets.ts";

const base = { generation: 5, destnode: 1, srcnode: 2, reqid: 99 };

// Bytes the real ctdb 4.17 tool sent for its first control (GET_PNN), captured from `ctdb pnn`.
const REAL_GET_PNN =
  "4000000042445443010000000000000007000000010000f0ffffffff38ffff7f" +
  "2300000000000000000000000000000000000000000000000000000000000000";
// ... and for REGISTER_SRVID(LEADER) to pnn 2.
const REAL_REGISTER_LEADER =
  "4000000042445443010000000000000007000000020000000200000039ffff7f" +
  "170000000000000000000000000001f100000000000000000000000000000000";

test("REQ_CONTROL encodes byte for byte like the ctdb tool", () => {
  const get = encodeReqControl({
    operation: Operation.REQ_CONTROL,
    generation: 0,
    destnode: CURRENT_NODE,
    srcnode: UNKNOWN_PNN,
    reqid: 0x7fffff38,
    opcode: Control.GET_PNN,
    srvid: 0n,
    clientId: 0,
    flags: 0,
    data: Buffer.alloc(0),
  });
  assert.equal(get.toString("hex"), REAL_GET_PNN);
  const reg = encodeReqControl({
    operation: Operation.REQ_CONTROL,
    generation: 0,
    destnode: 2,
    srcnode: 2,
    reqid: 0x7fffff39,
    opcode: Control.REGISTER_SRVID,
    srvid: SRVID_LEADER,
    clientId: 0,
    flags: 0,
    data: Buffer.alloc(0),
  });
  assert.equal(reg.toString("hex"), REAL_REGISTER_LEADER);
  const p = decodePacket(Buffer.from(REAL_REGISTER_LEADER, "hex"));
  assert.equal(p.operation, Operation.REQ_CONTROL);
  if (p.operation === Operation.REQ_CONTROL) {
    assert.equal(p.opcode, Control.REGISTER_SRVID);
    assert.equal(p.srvid, SRVID_LEADER);
    assert.equal(p.data.length, 0);
  }
});

test("REPLY_CONTROL: data when status is 0, only the message otherwise", () => {
  const okPkt = encodeReplyControl({
    operation: Operation.REPLY_CONTROL,
    ...base,
    status: 0,
    data: Buffer.from([1, 2, 3, 4, 5]),
    errmsg: "ignored",
  });
  // 32 header + status + datalen + errorlen + 5 data = 49 -> 56
  assert.equal(okPkt.length, 56);
  assert.equal(okPkt.readUInt32LE(0), 56);
  assert.equal(okPkt.subarray(32).toString("hex"), "00000000" + "05000000" + "00000000" + "0102030405" + "00000000000000");
  const fail = encodeReplyControl({
    operation: Operation.REPLY_CONTROL,
    ...base,
    status: -1,
    data: Buffer.from([9, 9]),
    errmsg: "no",
  });
  assert.equal(fail.subarray(32).toString("hex"), "ffffffff" + "00000000" + "03000000" + "6e6f00" + "00");
  const d = decodePacket(fail);
  assert.deepEqual(d, { operation: Operation.REPLY_CONTROL, ...base, status: -1, data: Buffer.alloc(0), errmsg: "no" });
});

test("REPLY_CONTROL from a ctdbd that sends data and then a message decodes both", () => {
  const b = Buffer.alloc(56);
  b.writeUInt32LE(56, 0);
  b.writeUInt32LE(0x43544442, 4);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(Operation.REPLY_CONTROL, 16);
  b.writeInt32LE(-5, 32);
  b.writeUInt32LE(2, 36);
  b.writeUInt32LE(3, 40);
  Buffer.from([7, 8, 0x68, 0x69, 0]).copy(b, 44);
  const p = decodePacket(b);
  assert.ok(p.operation === Operation.REPLY_CONTROL);
  assert.deepEqual([...p.data], [7, 8]);
  assert.equal(p.errmsg, "hi");
});

test("REQ_MESSAGE layout: srvid at 32, datalen at 40, data at 44", () => {
  const m = encodeReqMessage({ operation: Operation.REQ_MESSAGE, ...base, srvid: SRVID_LEADER, data: Buffer.from([3, 0, 0, 0]) });
  assert.equal(m.length, 48);
  assert.equal(m.subarray(32).toString("hex"), "00000000000001f1" + "04000000" + "03000000");
});

const samples: Packet[] = [
  { operation: Operation.REQ_CALL, ...base, flags: 1, dbId: 0xdeadbeef, callid: 0xff000001, hopcount: 3, key: Buffer.from("k"), calldata: Buffer.from("cd") },
  { operation: Operation.REPLY_CALL, ...base, status: -2, data: Buffer.from("reply") },
  { operation: Operation.REQ_DMASTER, ...base, dbId: 7, rsn: 0x1234567890n, dmaster: 3, key: Buffer.from("key"), data: Buffer.from("value") },
  { operation: Operation.REPLY_DMASTER, ...base, dbId: 7, rsn: 1n, key: Buffer.from("key"), data: Buffer.alloc(0) },
  { operation: Operation.REPLY_ERROR, ...base, status: -1, errmsg: "bad thing" },
  { operation: Operation.REQ_MESSAGE, ...base, srvid: 0xce01123400000001n, data: Buffer.from("payload") },
  { operation: Operation.REQ_CONTROL, ...base, opcode: 48, srvid: 0n, clientId: 7, flags: 0x10001, data: Buffer.from("abc") },
  { operation: Operation.REPLY_CONTROL, ...base, status: 0, data: Buffer.from("xyz"), errmsg: "" },
  { operation: Operation.REPLY_CONTROL, ...base, status: 3, data: Buffer.alloc(0), errmsg: "" },
  { operation: Operation.REQ_KEEPALIVE, ...base, version: 0x00040011, uptime: 1234 },
  { operation: Operation.REQ_TUNNEL, ...base, tunnelId: 0xffffffff00000000n, flags: 1, data: Buffer.from("t") },
];

test("every operation round-trips, lengths are multiples of 8 and padding is zero", () => {
  for (const p of samples) {
    const b = encodePacket(p);
    assert.equal(b.length % 8, 0, Operation[p.operation]);
    assert.equal(b.readUInt32LE(0), b.length);
    assert.deepEqual(decodePacket(b), p, Operation[p.operation]);
  }
  // keepalive is exactly 40 bytes as in CTDB
  assert.equal(encodePacket(samples[9]!).length, 40);
  // padding is zero even though allocUnsafe is used
  for (let i = 0; i < 50; i++) {
    const b = encodePacket(samples[5]!); // 32+12+7 = 51 -> 56
    assert.deepEqual([...b.subarray(51)], [0, 0, 0, 0, 0]);
  }
});

test("malformed packets raise ProtocolError, never anything else", () => {
  const good = encodePacket(samples[6]!);
  const cases: [string, Buffer, RegExp][] = [
    ["empty", Buffer.alloc(0), /shorter/],
    ["truncated header", good.subarray(0, 20), /shorter/],
    ["bad magic", Buffer.from(good).fill(0, 4, 8), /bad magic/],
    ["length beyond buffer", good.subarray(0, 48), /claims 64 bytes/],
    ["length below header", (() => { const b = Buffer.from(good); b.writeUInt32LE(16, 0); return b; })(), /shorter/],
    ["unknown operation", (() => { const b = Buffer.from(good); b.writeUInt32LE(6, 16); return b; })(), /unknown operation 6/],
    ["lying datalen", (() => { const b = Buffer.from(good); b.writeUInt32LE(1000, 56); return b; })(), /truncated data/],
    ["huge datalen", (() => { const b = Buffer.from(good); b.writeUInt32LE(0xffffffff, 56); return b; })(), /truncated data/],
    ["datalen past length field", (() => { const b = Buffer.from(good); b.writeUInt32LE(60, 0); b.writeUInt32LE(4, 56); return b; })(), /truncated data/],
  ];
  for (const [name, buf, re] of cases) {
    assert.throws(() => decodePacket(buf), (e: unknown) => e instanceof ProtocolError && re.test(e.message), name);
  }
});

test("random corruption of valid packets never escapes as a non-ProtocolError", () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(encodePacket(samples[rnd(samples.length)]!));
    const flips = 1 + rnd(4);
    for (let j = 0; j < flips; j++) b[rnd(b.length)] = rnd(256);
    const cut = rnd(3) === 0 ? b.subarray(0, rnd(b.length + 1)) : b;
    try {
      decodePacket(cut);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
    }
  }
});

test("replyControlFor echoes reqid and addresses the sender", () => {
  const req = samples[6] as ReqControl;
  const r = replyControlFor(req, 9, { status: -1, errmsg: "x", generation: 4 });
  assert.deepEqual(r, {
    operation: Operation.REPLY_CONTROL,
    generation: 4,
    destnode: req.srcnode,
    srcnode: 9,
    reqid: req.reqid,
    status: -1,
    data: Buffer.alloc(0),
    errmsg: "x",
  });
});
