import assert from "node:assert/strict";
import { test } from "node:test";
import { Operation } from "../../src/protocol/constants.ts";
import { PacketReader, ProtocolError } from "../../src/protocol/framing.ts";
import { encodePacket } from "../../src/protocol/packets.ts";

const base = { generation: 0, destnode: 0, srcnode: 0 };
const p1 = encodePacket({ operation: Operation.REQ_MESSAGE, ...base, reqid: 1, srvid: 5n, data: Buffer.from("hello") });
const p2 = encodePacket({ operation: Operation.REQ_KEEPALIVE, ...base, reqid: 2, version: 1, uptime: 2 });
const p3 = encodePacket({ operation: Operation.REQ_CONTROL, ...base, reqid: 3, opcode: 35, srvid: 0n, clientId: 0, flags: 0, data: Buffer.alloc(3000, 7) });

test("splits concatenated packets delivered in one chunk", () => {
  const r = new PacketReader();
  const out = r.push(Buffer.concat([p1, p2, p3]));
  assert.deepEqual(out, [p1, p2, p3]);
  assert.equal(r.buffered, 0);
});

test("reassembles packets delivered one byte at a time", () => {
  const r = new PacketReader();
  const all = Buffer.concat([p1, p2, p3]);
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i++) out.push(...r.push(all.subarray(i, i + 1)));
  assert.deepEqual(out, [p1, p2, p3]);
});

test("reassembles across irregular chunk boundaries", () => {
  const all = Buffer.concat([p3, p1, p2, p3]);
  for (const size of [5, 13, 31, 33, 100, 1023]) {
    const r = new PacketReader();
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i += size) out.push(...r.push(all.subarray(i, i + size)));
    assert.deepEqual(out, [p3, p1, p2, p3], `chunk ${size}`);
  }
});

test("accepts a length that is not a multiple of 8, as ctdbd does on client sockets", () => {
  const b = Buffer.from(p1.subarray(0, 49));
  b.writeUInt32LE(49, 0);
  const r = new PacketReader();
  assert.deepEqual(r.push(Buffer.concat([b, p2])), [b, p2]);
});

test("rejects bad magic, version, short and oversized lengths; stays failed", () => {
  const bad = (mutate: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(p1);
    mutate(b);
    return b;
  };
  const cases: [Buffer, RegExp][] = [
    [bad((b) => b.writeUInt32LE(0x41414141, 4)), /bad magic 0x41414141/],
    [bad((b) => b.writeUInt32LE(2, 8)), /version 2/],
    [bad((b) => b.writeUInt32LE(0, 0)), /length 0 is shorter/],
    [bad((b) => b.writeUInt32LE(31, 0)), /length 31 is shorter/],
    [bad((b) => b.writeUInt32LE(16 * 1024 * 1024 + 1, 0)), /exceeds/],
  ];
  for (const [buf, re] of cases) {
    const r = new PacketReader();
    assert.throws(() => r.push(buf), (e: unknown) => e instanceof ProtocolError && re.test(e.message));
    assert.throws(() => r.push(p2), ProtocolError);
  }
  // the limit is configurable
  const small = new PacketReader({ maxLength: 64 });
  assert.throws(() => small.push(p3), /exceeds the limit of 64/);
});

test("waits for the rest of a packet without returning partial data", () => {
  const r = new PacketReader();
  assert.deepEqual(r.push(p3.subarray(0, 100)), []);
  assert.equal(r.buffered, 100);
  assert.deepEqual(r.push(p3.subarray(100)), [p3]);
});
