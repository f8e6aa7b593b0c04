import assert from "node:assert/strict";
import { test } from "node:test";
import { ProtocolError } from "../../src/protocol/errors.ts";
import { decodeHeader, encodeHeader, type PacketHeader, verifyHeader } from "../../src/protocol/header.ts";

const h: PacketHeader = {
  length: 64,
  magic: 0x43544442,
  version: 1,
  generation: 0x11223344,
  operation: 7,
  destnode: 0xf0000001,
  srcnode: 0xffffffff,
  reqid: 0x7fffff38,
};

test("header bytes are eight little-endian u32s", () => {
  const b = encodeHeader(h);
  assert.equal(b.toString("hex"), "40000000424454430100000044332211" + "07000000010000f0ffffffff38ffff7f");
  assert.deepEqual(decodeHeader(b), h);
});

test("short header is a ProtocolError", () => {
  assert.throws(() => decodeHeader(Buffer.alloc(31)), ProtocolError);
});

test("verifyHeader rejects bad magic, version and lengths", () => {
  assert.doesNotThrow(() => verifyHeader(h));
  assert.throws(() => verifyHeader({ ...h, magic: 0x12345678 }), /bad magic/);
  assert.throws(() => verifyHeader({ ...h, version: 2 }), /version 2/);
  assert.throws(() => verifyHeader({ ...h, length: 31 }), /shorter/);
  assert.throws(() => verifyHeader({ ...h, length: 1 << 30 }), /exceeds/);
});
