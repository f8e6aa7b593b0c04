// Raw packet bytes: gratuitous ARP, neighbour advertisement, TCP segments and
// the killtcp core, without sockets.
import assert from "node:assert/strict";
import { test } from "node:test";
import { killtcpSeen, killtcpStart, killtcpTick } from "../../src/failover/raw/killtcp.ts";
import {
  gratuitousArp,
  inetChecksum,
  neighbourAdvertisement,
  parseMac,
  parseTcpFrame,
  TICKLE_WINDOW,
  type TcpPacket,
  tcpSegment,
} from "../../src/failover/raw/packets.ts";

const MAC = parseMac("02:00:5e:10:00:01");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("MAC addresses are read strictly", () => {
  assert.equal(hex(MAC), "02005e100001");
  assert.throws(() => parseMac("02:00:5e:10:00"), /not a MAC address/);
  assert.throws(() => parseMac("02:00:5e:10:00:zz"), /not a MAC address/);
});

test("the Internet checksum of RFC 1071's example", () => {
  // RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2, so the checksum is 220d.
  assert.equal(inetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
  // An odd length pads with a zero byte.
  assert.equal(inetChecksum(Uint8Array.from([0x01])), 0xfeff);
});

test("a gratuitous ARP is a broadcast request and reply naming the address at our MAC", () => {
  const [req, rep] = gratuitousArp(MAC, "198.51.100.7");
  assert.equal(
    hex(req!),
    "ffffffffffff02005e100001" + "0806" + "0001" + "0800" + "06" + "04" + "0001" + "02005e100001" + "c6336407" + "000000000000" + "c6336407",
  );
  assert.equal(hex(rep!).slice(0, 28), "ffffffffffff02005e1000010806");
  assert.equal(hex(rep!).slice(40, 44), "0002");
  assert.equal(hex(rep!).slice(64, 76), "02005e100001");
  assert.throws(() => gratuitousArp(MAC, "2001:db8::1"), /for IPv4/);
  assert.throws(() => gratuitousArp(MAC, "198.51.100"), /not an IP address/);
});

test("a neighbour advertisement goes to all nodes, hop limit 255, Override set, with a valid checksum", () => {
  const f = neighbourAdvertisement(MAC, "2001:db8::1");
  assert.equal(hex(f.subarray(0, 14)), "33330000000102005e10000186dd");
  const ip = f.subarray(14, 54);
  assert.equal(ip[0]! >> 4, 6);
  assert.equal(ip.readUInt16BE(4), 32);
  assert.equal(ip[6], 58);
  assert.equal(ip[7], 255);
  assert.equal(hex(ip.subarray(24, 40)), "ff020000000000000000000000000001");
  const icmp = f.subarray(54);
  assert.equal(icmp[0], 136);
  assert.equal(icmp[4], 0x20);
  assert.equal(hex(icmp.subarray(8, 24)), "20010db8000000000000000000000001");
  assert.equal(hex(icmp.subarray(24, 32)), "020102005e100001");
  // Summing the pseudo-header and the message with its checksum gives zero.
  const pseudo = Buffer.alloc(40);
  ip.copy(pseudo, 0, 8, 40);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  assert.equal(inetChecksum(pseudo, icmp), 0);
  assert.throws(() => neighbourAdvertisement(MAC, "198.51.100.1"), /for IPv6/);
});

function frame(ipPacket: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(ipPacket[0]! >> 4 === 6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([eth, ipPacket]);
}

test("TCP segments: tickle ACK and RST, IPv4 and IPv6, read back from a frame", () => {
  const server = { address: "198.51.100.1", port: 445 };
  const client = { address: "198.51.100.254", port: 50000 };
  const tickle = tcpSegment(client, server, 0, 0, false);
  assert.equal(tickle.length, 40);
  assert.equal(inetChecksum(tickle.subarray(0, 20)), 0, "IPv4 header checksum");
  const pseudo = Buffer.concat([tickle.subarray(12, 20), Buffer.from([0, 6, 0, 20])]);
  assert.equal(inetChecksum(pseudo, tickle.subarray(20)), 0, "TCP checksum");
  assert.deepEqual(parseTcpFrame(frame(tickle)), {
    src: server,
    dst: client,
    seq: 0,
    ack: 0,
    rst: false,
    ackFlag: true,
    window: TICKLE_WINDOW,
  });
  const rst = parseTcpFrame(frame(tcpSegment(client, server, 0xfffffffe, 7, true)))!;
  assert.equal(rst.rst, true);
  assert.equal(rst.seq, 0xfffffffe);
  assert.equal(rst.ack, 7);

  const s6 = { address: "2001:db8::1", port: 2049 };
  const c6 = { address: "2001:db8::fe", port: 801 };
  const t6 = tcpSegment(c6, s6, 5, 6, false);
  assert.equal(t6.length, 60);
  const p6 = Buffer.alloc(40);
  t6.copy(p6, 0, 8, 40);
  p6.writeUInt32BE(20, 32);
  p6[39] = 6;
  assert.equal(inetChecksum(p6, t6.subarray(40)), 0, "TCP over IPv6 checksum");
  assert.deepEqual(parseTcpFrame(frame(t6)), { src: s6, dst: c6, seq: 5, ack: 6, rst: false, ackFlag: true, window: TICKLE_WINDOW });
  assert.throws(() => tcpSegment(c6, server, 0, 0, false), /different families/);
});

test("frames that are not TCP, or are cut short, are not read as TCP", () => {
  assert.equal(parseTcpFrame(gratuitousArp(MAC, "198.51.100.1")[0]!), undefined);
  assert.equal(parseTcpFrame(neighbourAdvertisement(MAC, "2001:db8::1")), undefined);
  const f = frame(tcpSegment({ address: "192.0.2.1", port: 1 }, { address: "192.0.2.2", port: 2 }, 0, 0, false));
  assert.equal(parseTcpFrame(f.subarray(0, 40)), undefined);
  assert.equal(parseTcpFrame(Buffer.alloc(5)), undefined);
  // A later fragment carries no TCP header.
  const frag = Buffer.from(f);
  frag.writeUInt16BE(0x0001, 20);
  assert.equal(parseTcpFrame(frag), undefined);
});

test("killtcp core: tickles the dst end, resets it with the numbers it answers with, stops when done or out of attempts", () => {
  const server = { address: "198.51.100.1", port: 445 };
  const client = { address: "198.51.100.254", port: 50000 };
  const other = { address: "198.51.100.253", port: 50001 };
  const st = killtcpStart(
    [
      { src: server, dst: client },
      { src: server, dst: other },
    ],
    3,
  );
  const t1 = killtcpTick(st);
  assert.equal(t1.done, false);
  assert.deepEqual(t1.send, [
    { dst: client, src: server, seq: 0, ack: 0, rst: false },
    { dst: other, src: server, seq: 0, ack: 0, rst: false },
  ]);
  const answer = (from: typeof client, to: typeof client, o: Partial<TcpPacket> = {}): TcpPacket => ({
    src: from,
    dst: to,
    seq: 1000,
    ack: 2000,
    rst: false,
    ackFlag: true,
    window: 64240,
    ...o,
  });
  // Our own tickle, seen on the capture, is not an answer.
  assert.equal(killtcpSeen(st, answer(server, client, { seq: 0, ack: 0, window: TICKLE_WINDOW })), undefined);
  // A segment of another connection is not one either.
  assert.equal(killtcpSeen(st, answer({ ...client, port: 1 }, server)), undefined);
  // Nor a reset, nor a segment without ACK.
  assert.equal(killtcpSeen(st, answer(client, server, { rst: true })), undefined);
  assert.equal(killtcpSeen(st, answer(client, server, { ackFlag: false })), undefined);
  assert.deepEqual(killtcpSeen(st, answer(client, server)), { dst: client, src: server, seq: 2000, ack: 1000, rst: true });
  // Reset once only.
  assert.equal(killtcpSeen(st, answer(client, server)), undefined);
  assert.deepEqual(killtcpTick(st).send, [{ dst: other, src: server, seq: 0, ack: 0, rst: false }]);
  assert.equal(killtcpTick(st).done, false);
  assert.deepEqual(killtcpTick(st), { send: [], done: true });
  assert.throws(() => killtcpStart([{ src: server, dst: { address: "2001:db8::fe", port: 1 } }]), /different address families/);
  assert.deepEqual(killtcpTick(killtcpStart([])), { send: [], done: true });
});
