import assert from "node:assert/strict";
import { test } from "node:test";
import { ProtocolError } from "../../src/protocol/errors.ts";
import * as T from "../../src/protocol/types.ts";

const hex = (b: Buffer): string => b.toString("hex");
const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

function roundTrip<V>(enc: (v: V) => Buffer, dec: (b: Buffer) => V, v: V, expectedHex?: string): void {
  const b = enc(v);
  if (expectedHex !== undefined) assert.equal(hex(b), expectedHex.replace(/\s+/g, ""));
  assert.deepEqual(dec(b), v);
  // every proper prefix of a fixed encoding is rejected cleanly
  for (let n = 0; n < b.length; n++) {
    try {
      dec(b.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `prefix ${n}: ${String(e)}`);
    }
  }
}

test("basic integers", () => {
  roundTrip(T.encodeU32, T.decodeU32, 0xdeadbeef, "efbeadde");
  roundTrip(T.encodeI32, T.decodeI32, -2, "feffffff");
  roundTrip(T.encodeU64, T.decodeU64, 0xf101000000000000n, "00000000000001f1");
  roundTrip(T.encodeDouble, T.decodeDouble, 1.5, "000000000000f83f");
  assert.throws(() => T.decodeU32(Buffer.alloc(3)), ProtocolError);
});

test("string and stringn", () => {
  assert.equal(hex(T.encodeString("ab")), "616200");
  assert.equal(hex(T.encodeString(null)), "");
  assert.equal(T.decodeString(Buffer.alloc(0)), "");
  assert.equal(T.decodeString(h("61620063")), "ab");
  assert.equal(T.decodeString(Buffer.from("no-nul")), "no-nul");
  roundTrip(T.encodeStringn, T.decodeStringn, "eth0", "05000000 6574683000");
  assert.throws(() => T.decodeStringn(h("09000000 6574683000")), /truncated string/);
});

test("timeval is two 64-bit fields", () => {
  roundTrip(T.encodeTimeval, T.decodeTimeval, { sec: 1700000000, usec: 250000 }, "00f1536500000000 90d0030000000000");
});

test("sock_addr: IPv4 is sockaddr_in in a 28-byte union, port in network order", () => {
  assert.equal(
    hex(T.encodeSockAddr("192.168.1.10", 4379)),
    "0200" + "111b" + "c0a8010a" + "00".repeat(20),
  );
  assert.equal(T.decodeSockAddr(T.encodeSockAddr("10.0.0.1")), "10.0.0.1");
  assert.deepEqual(T.decodeSockAddrWithPort(T.encodeSockAddr("10.0.0.1", 445)), { addr: "10.0.0.1", port: 445 });
});

test("sock_addr: IPv6 is sockaddr_in6", () => {
  assert.equal(
    hex(T.encodeSockAddr("fd00::1", 80)),
    "0a00" + "0050" + "00000000" + "fd000000000000000000000000000001" + "00000000",
  );
  for (const a of ["fd00::1", "::1", "::", "2001:db8:0:1:1:1:1:1", "fe80::a:b", "::ffff:1.2.3.4", "1::", "2001:db8::1:0:0:1"]) {
    assert.equal(T.decodeSockAddr(T.encodeSockAddr(a)), a);
  }
  // formatting follows inet_ntop: lower case, longest zero run compressed, first on a tie
  assert.equal(T.decodeSockAddr(T.encodeSockAddr("FD00:0:0:0:0:0:0:0001")), "fd00::1");
  assert.equal(T.decodeSockAddr(T.encodeSockAddr("1:0:0:2:0:0:0:3")), "1:0:0:2::3");
  assert.equal(T.decodeSockAddr(T.encodeSockAddr("1:0:0:2:0:0:3:4")), "1::2:0:0:3:4");
  assert.equal(T.decodeSockAddr(T.encodeSockAddr("1:0:2:3:4:5:6:7")), "1:0:2:3:4:5:6:7");
});

test("sock_addr: bad input", () => {
  assert.throws(() => T.encodeSockAddr("300.1.1.1"), RangeError);
  assert.throws(() => T.encodeSockAddr("not-an-ip"), RangeError);
  const b = T.encodeSockAddr("10.0.0.1");
  b.writeUInt16LE(1, 0); // AF_UNIX
  assert.throws(() => T.decodeSockAddr(b), /unknown address family 1/);
  assert.throws(() => T.decodeSockAddr(Buffer.alloc(27)), ProtocolError);
  assert.equal(T.decodeSockAddr(Buffer.alloc(28)), "");
  assert.equal(hex(T.encodeSockAddr("")), "00".repeat(28));
});

test("node_map: u32 num, then {pnn, flags, sock_addr} of 36 bytes", () => {
  const m: T.NodeMap = { nodes: [{ pnn: 0, flags: 0, addr: "10.1.1.1" }, { pnn: 1, flags: 0x21, addr: "10.1.1.2" }] };
  roundTrip(
    T.encodeNodeMap,
    T.decodeNodeMap,
    m,
    "02000000" +
      "00000000 00000000 0200 0000 0a010101" + "00".repeat(20) +
      "01000000 21000000 0200 0000 0a010102" + "00".repeat(20),
  );
  assert.throws(() => T.decodeNodeMap(h("ffffff7f")), /claims 2147483647 entries/);
});

test("vnn_map", () => {
  roundTrip(T.encodeVnnMap, T.decodeVnnMap, { generation: 0x1234, map: [0, 2] }, "34120000 02000000 00000000 02000000");
  assert.throws(() => T.decodeVnnMap(h("34120000 03000000 00000000")), /claims 3 entries/);
});

test("uptime: four timevals", () => {
  const u: T.Uptime = {
    currentTime: { sec: 4, usec: 0 },
    ctdbdStartTime: { sec: 1, usec: 2 },
    lastRecoveryStarted: { sec: 2, usec: 0 },
    lastRecoveryFinished: { sec: 3, usec: 500000 },
  };
  roundTrip(
    T.encodeUptime,
    T.decodeUptime,
    u,
    "0400000000000000 0000000000000000 0100000000000000 0200000000000000" +
      "0200000000000000 0000000000000000 0300000000000000 20a1070000000000",
  );
});

test("var_list: payload length then names joined by ':' with one NUL", () => {
  roundTrip(T.encodeVarList, T.decodeVarList, ["Ab", "C"], "05000000 41623a4300");
  roundTrip(T.encodeVarList, T.decodeVarList, [], "00000000");
  assert.throws(() => T.decodeVarList(h("09000000 41623a4300")), ProtocolError);
});

test("tunable (SET_TUNABLE) and GET_TUNABLE request", () => {
  roundTrip(T.encodeTunable, T.decodeTunable, { name: "EnableBans", value: 0 }, "00000000 0b000000 456e61626c6542616e7300");
  assert.equal(hex(T.encodeGetTunableRequest("EnableBans")), "0b000000456e61626c6542616e7300");
  assert.equal(T.decodeGetTunableRequest(T.encodeGetTunableRequest("X")), "X");
});

test("tunable_list: 62 u32 values", () => {
  const values = Array.from({ length: 62 }, (_, i) => i * 3);
  const b = T.encodeTunableList(values);
  assert.equal(b.length, 248);
  assert.equal(b.readUInt32LE(4 * 61), 183);
  assert.deepEqual(T.decodeTunableList(b), values);
  assert.throws(() => T.decodeTunableList(b.subarray(0, 244)), /value\[61\]/);
  assert.throws(() => T.encodeTunableList([1, 2]), RangeError);
});

test("iface_list: name[18], u16 link_state, u32 references (24 bytes each)", () => {
  roundTrip(
    T.encodeIfaceList,
    T.decodeIfaceList,
    [{ name: "eth0", linkState: 1, references: 3 }],
    "01000000" + "65746830" + "00".repeat(14) + "0100" + "03000000",
  );
  assert.throws(() => T.encodeIface({ name: "x".repeat(18), linkState: 0, references: 0 }), RangeError);
  assert.equal(T.decodeIface(T.encodeIface({ name: "x".repeat(17), linkState: 0, references: 0 })).name, "x".repeat(17));
});

test("public_ip_list and public_ip_info", () => {
  const list: T.PublicIpList = [{ pnn: 1, addr: "192.0.2.1" }, { pnn: 0xffffffff, addr: "2001:db8::5" }];
  roundTrip(T.encodePublicIpList, T.decodePublicIpList, list);
  assert.equal(
    hex(T.encodePublicIpList(list.slice(0, 1))),
    "01000000" + "01000000" + "02000000c0000201" + "00".repeat(20),
  );
  const info: T.PublicIpInfo = {
    ip: { pnn: 2, addr: "192.0.2.1" },
    activeIdx: 0,
    ifaces: [{ name: "eth1", linkState: 0, references: 1 }],
  };
  const b = T.encodePublicIpInfo(info);
  assert.equal(b.length, 32 + 4 + 4 + 24);
  roundTrip(T.encodePublicIpInfo, T.decodePublicIpInfo, info);
});

test("addr_info: sock_addr, u32 mask, stringn iface", () => {
  roundTrip(
    T.encodeAddrInfo,
    T.decodeAddrInfo,
    { addr: "192.0.2.7", mask: 24, iface: "eth0" },
    "0200 0000 c0000207" + "00".repeat(20) + "18000000" + "05000000 6574683000",
  );
});

test("connection and tickle_list keep ports", () => {
  const c: T.Connection = { src: { addr: "192.0.2.1", port: 445 }, dst: { addr: "198.51.100.9", port: 50000 } };
  const b = T.encodeConnection(c);
  assert.equal(b.length, 56);
  assert.equal(hex(b.subarray(28, 36)), "0200c350c6336409");
  roundTrip(T.encodeConnection, T.decodeConnection, c);
  roundTrip(T.encodeTickleList, T.decodeTickleList, { addr: { addr: "192.0.2.1", port: 0 }, conns: [c, c] });
});

test("small fixed structs", () => {
  roundTrip(T.encodeBanState, T.decodeBanState, { pnn: 1, time: 300 }, "01000000 2c010000");
  roundTrip(T.encodeNodeFlagChange, T.decodeNodeFlagChange, { pnn: 2, newFlags: 4, oldFlags: 0 }, "02000000 04000000 00000000");
  roundTrip(T.encodeTransdb, T.decodeTransdb, { dbId: 0x11, tid: 2 }, "11000000 02000000");
  roundTrip(T.encodeDbidMap, T.decodeDbidMap, [{ dbId: 0xaabbccdd, flags: 1 }], "01000000 ddccbbaa 01 000000");
  roundTrip(T.encodePulldbExt, T.decodePulldbExt, { dbId: 1, lmaster: 0xffffffff, srvid: 2n }, "01000000 ffffffff 0200000000000000");
  roundTrip(T.encodeTraverseStart, T.decodeTraverseStart, { dbId: 1, reqid: 2, srvid: 3n }, "01000000 02000000 0300000000000000");
  roundTrip(
    T.encodeTraverseStart,
    T.decodeTraverseStartExt,
    { dbId: 1, reqid: 2, srvid: 3n, withEmptyRecords: true },
    "01000000 02000000 0300000000000000 01 00000000000000",
  );
  roundTrip(
    T.encodeLtdbHeader,
    T.decodeLtdbHeader,
    { rsn: 5n, dmaster: 1, reserved1: 0, flags: 0x10000 },
    "0500000000000000 01000000 00000000 00000100 00000000",
  );
  roundTrip(T.encodePidSrvid, T.decodePidSrvid, { pid: 1234, srvid: 0xce01000000000000n }, "d2040000 00000000000001ce");
});

test("message payloads: srvid_message, disable_message, election", () => {
  roundTrip(T.encodeSrvidMessage, T.decodeSrvidMessage, { pnn: 1, srvid: 0xce01000100000000n }, "01000000 00000000 00000000010001ce");
  roundTrip(
    T.encodeDisableMessage,
    T.decodeDisableMessage,
    { pnn: 0, srvid: 7n, timeout: 60 },
    "00000000 00000000 0700000000000000 3c000000 00000000",
  );
  roundTrip(
    T.encodeElectionMessage,
    T.decodeElectionMessage,
    { numConnected: 3, priorityTime: { sec: 10, usec: 20 }, pnn: 1, nodeFlags: 0 },
    "03000000 00000000 0a00000000000000 1400000000000000 01000000 00000000",
  );
});

test("traverse_start_ext rejects a bool other than 0/1", () => {
  const b = T.encodeTraverseStart({ dbId: 1, reqid: 2, srvid: 3n, withEmptyRecords: false });
  b[16] = 2;
  assert.throws(() => T.decodeTraverseStartExt(b), /must be 0 or 1/);
});
