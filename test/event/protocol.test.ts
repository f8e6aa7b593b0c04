import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EventProtocolError,
  type EventReply,
  type EventRequest,
  FrameReader,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
} from "../../src/event/protocol.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// Packets captured between CTDB 4.17's ctdb-event tool and ctdb-eventd
// (Debian 4.17.12, x86_64). The tool's first reqid is 0x7fffff38 and both
// sides leave the header's version at 0.
const REAL = {
  statusReq: hex(
    "27000000 00000000 38ffff7f 02000000 07000000 6c656761637900 08000000 6d6f6e69746f7200",
  ),
  statusNeverRan: hex("14000000 00000000 38ffff7f 02000000 16000000"),
  runReq: hex(
    "33000000 00000000 38ffff7f 01000000 07000000 6c656761637900 08000000 6d6f6e69746f7200" +
      "00000000 0a000000 00000000",
  ),
  runReqArgs: hex(
    "37000000 00000000 38ffff7f 01000000 07000000 6c656761637900 08000000 73746172747570 00" +
      "04000000 78207900 0a000000 00000000",
  ),
  runFailed: hex("14000000 00000000 38ffff7f 01000000 08000000"),
  statusReply: hex(
    "a4000000 00000000 38ffff7f 02000000 00000000 03000000 02000000" +
      "06000000 30312e6f6b00 0a23026b00000000 db070b0000000000 0a23026b00000000 2a130b0000000000" +
      "00000000 0f000000 68656c6c6f206d6f6e69746f720a00" +
      "08000000 30322e6661696c00 0a23026b00000000 3f130b0000000000 0a23026b00000000 881b0b0000000000" +
      "03000000 13000000 626164207468696e67206d6f6e69746f720a00",
  ),
};

const REQID = 0x7fffff38;

describe("event protocol: packets of the real ctdb-event and eventd", () => {
  it("decodes and re-encodes a STATUS request", () => {
    const { header, request } = decodeRequest(REAL.statusReq);
    assert.deepEqual(header, { length: 0x27, version: 0, reqid: REQID });
    assert.deepEqual(request, { cmd: "status", component: "legacy", event: "monitor" });
    assert.deepEqual(encodeRequest(REQID, request), REAL.statusReq);
  });

  it("decodes a RUN request without arguments (NULL args string)", () => {
    const { request } = decodeRequest(REAL.runReq);
    assert.deepEqual(request, {
      cmd: "run",
      component: "legacy",
      event: "monitor",
      args: null,
      timeout: 10,
      flags: 0,
    });
    assert.deepEqual(encodeRequest(REQID, request), REAL.runReq);
  });

  it("decodes a RUN request with space-joined arguments", () => {
    const { request } = decodeRequest(REAL.runReqArgs);
    assert.equal(request.cmd, "run");
    assert.equal(request.cmd === "run" && request.args, "x y");
    assert.equal(request.cmd === "run" && request.event, "startup");
    assert.deepEqual(encodeRequest(REQID, request), REAL.runReqArgs);
  });

  it("encodes failed replies with no body, exactly as eventd does", () => {
    assert.deepEqual(encodeReply(REQID, { cmd: "status", result: 22 }), REAL.statusNeverRan);
    assert.deepEqual(encodeReply(REQID, { cmd: "run", result: 8 }), REAL.runFailed);
    assert.deepEqual(decodeReply(REAL.runFailed).reply, { cmd: "run", result: 8 });
  });

  it("decodes and re-encodes a STATUS reply with two scripts", () => {
    const { header, reply } = decodeReply(REAL.statusReply);
    assert.equal(header.reqid, REQID);
    assert.equal(header.length, 0xa4);
    assert.equal(reply.result, 0);
    assert.equal(reply.status?.summary, 3);
    assert.deepEqual(reply.status?.scripts, [
      {
        name: "01.ok",
        begin: { sec: 0x6b02230a, usec: 0x0b07db },
        end: { sec: 0x6b02230a, usec: 0x0b132a },
        result: 0,
        output: "hello monitor\n",
      },
      {
        name: "02.fail",
        begin: { sec: 0x6b02230a, usec: 0x0b133f },
        end: { sec: 0x6b02230a, usec: 0x0b1b88 },
        result: 3,
        output: "bad thing monitor\n",
      },
    ]);
    assert.deepEqual(encodeReply(header.reqid, reply), REAL.statusReply);
  });
});

describe("event protocol: hand-built vectors", () => {
  it("encodes a SCRIPT enable request", () => {
    const expected = hex(
      "26000000 00000000 05000000 03000000" + // length 38, version 0, reqid 5, cmd 3
        "04000000 61626300" + // "abc"
        "06000000 31302e6970 00" + // "10.ip"
        "01000000", // enable
    );
    const req: EventRequest = { cmd: "script", component: "abc", script: "10.ip", action: "enable" };
    assert.deepEqual(encodeRequest(5, req), expected);
    assert.deepEqual(decodeRequest(expected).request, req);
  });

  it("encodes an empty string as length 1 and NULL as length 0", () => {
    const req: EventRequest = { cmd: "status", component: "", event: null };
    assert.deepEqual(encodeRequest(1, req), hex("19000000 00000000 01000000 02000000 01000000 00 00000000"));
    assert.deepEqual(decodeRequest(encodeRequest(1, req)).request, req);
  });

  it("encodes negative results, timevals and NULL output", () => {
    const reply: EventReply = {
      cmd: "status",
      result: 0,
      status: {
        summary: -110,
        scripts: [{ name: "a", begin: { sec: 1, usec: 2 }, end: { sec: -1, usec: 999999 }, result: -110, output: null }],
      },
    };
    const expected = hex(
      "4a000000 00000000 07000000 02000000 00000000 92ffffff 01000000" +
        "02000000 6100 0100000000000000 0200000000000000 ffffffffffffffff 3f420f0000000000" +
        "92ffffff 00000000",
    );
    assert.deepEqual(encodeReply(7, reply), expected);
    assert.deepEqual(decodeReply(expected).reply, reply);
  });

  it("round-trips UTF-8 text and a RUN_ALL request", () => {
    const req: EventRequest = {
      cmd: "run",
      component: "légacy",
      event: "takeip",
      args: "eth0 10.0.0.1 24",
      timeout: 30,
      flags: 1,
    };
    assert.deepEqual(decodeRequest(encodeRequest(0xffffffff, req)).request, req);
    assert.equal(decodeRequest(encodeRequest(0xffffffff, req)).header.reqid, 0xffffffff);
  });

  it("refuses to encode values the wire cannot carry", () => {
    assert.throws(() => encodeRequest(1, { cmd: "status", component: "a\0b", event: "x" }), /NUL/);
    assert.throws(() => encodeReply(1, { cmd: "run", result: 2 ** 31 }), /signed 32-bit/);
    assert.throws(() => encodeReply(1, { cmd: "status", result: 0 }), /needs a status/);
  });
});

describe("event protocol: malformed input", () => {
  const valid: Buffer[] = [REAL.statusReq, REAL.runReq, REAL.runReqArgs];

  it("every truncation of a valid request is an EventProtocolError", () => {
    for (const pkt of valid) {
      for (let n = 0; n < pkt.length; n++) {
        const cut = Buffer.from(pkt.subarray(0, n));
        if (n >= 4) cut.writeUInt32LE(n, 0); // keep the header consistent
        assert.throws(() => decodeRequest(cut), EventProtocolError, `length ${n}`);
      }
    }
  });

  it("every truncation of a valid STATUS reply is an EventProtocolError", () => {
    const pkt = REAL.statusReply;
    for (let n = 0; n < pkt.length; n++) {
      const cut = Buffer.from(pkt.subarray(0, n));
      if (n >= 4) cut.writeUInt32LE(n, 0);
      assert.throws(() => decodeReply(cut), EventProtocolError, `length ${n}`);
    }
  });

  it("names what is wrong", () => {
    const badCmd = Buffer.from(REAL.statusReq);
    badCmd.writeUInt32LE(9, 12);
    assert.throws(() => decodeRequest(badCmd), /unknown command 9/);

    const lenMismatch = Buffer.from(REAL.statusReq);
    lenMismatch.writeUInt32LE(100, 0);
    assert.throws(() => decodeRequest(lenMismatch), /header length 100 does not match packet size 39/);

    const noNul = Buffer.from(REAL.statusReq);
    noNul[26] = 0x41; // last byte of "legacy\0"
    assert.throws(() => decodeRequest(noNul), /component .* not NUL-terminated/);

    const innerNul = Buffer.from(REAL.statusReq);
    innerNul[22] = 0;
    assert.throws(() => decodeRequest(innerNul), /component .* has a NUL at byte 2/);

    const hugeString = Buffer.from(REAL.statusReq);
    hugeString.writeUInt32LE(0xfffffff0, 16);
    assert.throws(() => decodeRequest(hugeString), (e: unknown) => {
      return e instanceof EventProtocolError && e.errno === "EMSGSIZE" && /truncated component/.test(e.message);
    });

    const badAction = encodeRequest(1, { cmd: "script", component: "c", script: "s", action: "enable" });
    badAction.writeUInt32LE(2, badAction.length - 4);
    assert.throws(() => decodeRequest(badAction), /unknown script action 2/);

    const negCount = Buffer.from(REAL.statusReply);
    negCount.writeInt32LE(-1, 24);
    assert.throws(() => decodeReply(negCount), /negative number of scripts/);

    const bigCount = Buffer.from(REAL.statusReply);
    bigCount.writeInt32LE(0x7fffffff, 24);
    assert.throws(() => decodeReply(bigCount), /cannot fit/);

    const hugeTime = Buffer.from(REAL.statusReply);
    hugeTime.writeBigInt64LE(2n ** 62n, 38);
    assert.throws(() => decodeReply(hugeTime), /out of range/);
  });

  it("ignores bytes after the body, as CTDB's decoder does", () => {
    const longer = Buffer.concat([REAL.statusReq, Buffer.alloc(5)]);
    longer.writeUInt32LE(longer.length, 0);
    assert.deepEqual(decodeRequest(longer).request, decodeRequest(REAL.statusReq).request);
  });

  it("random corruption never escapes as anything but EventProtocolError", () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 0x100000000;
    };
    for (let i = 0; i < 3000; i++) {
      const src = [REAL.statusReq, REAL.runReqArgs, REAL.statusReply][i % 3]!;
      const pkt = Buffer.from(src);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) pkt[Math.floor(rnd() * pkt.length)] = Math.floor(rnd() * 256);
      for (const decode of [decodeRequest, decodeReply]) {
        try {
          decode(pkt);
        } catch (e) {
          assert.ok(e instanceof EventProtocolError, `unexpected ${String(e)}`);
        }
      }
    }
  });
});

describe("FrameReader", () => {
  it("reassembles packets split at every byte and several per chunk", () => {
    const stream = Buffer.concat([REAL.statusReq, REAL.runReq, REAL.statusReply]);
    const fr = new FrameReader(4096);
    const out: Buffer[] = [];
    for (const b of stream) out.push(...fr.push(Buffer.from([b])));
    assert.deepEqual(out, [REAL.statusReq, REAL.runReq, REAL.statusReply]);
    assert.equal(fr.buffered, 0);

    const fr2 = new FrameReader(4096);
    const all = fr2.push(Buffer.concat([stream, REAL.runReq.subarray(0, 7)]));
    assert.equal(all.length, 3);
    assert.equal(fr2.buffered, 7);
    assert.deepEqual(fr2.push(REAL.runReq.subarray(7)), [REAL.runReq]);
  });

  it("rejects impossible lengths", () => {
    assert.throws(() => new FrameReader(4096).push(hex("0b000000")), /shorter than the 12-byte header/);
    assert.throws(() => new FrameReader(4096).push(hex("01100000")), /exceeds the limit of 4096/);
  });
});
