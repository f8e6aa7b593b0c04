// Raw packets a failover needs, built and read as bytes (no I/O here):
// gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6) that
// tell a link an address now lives at this interface's MAC, and bare TCP
// segments — the "tickle" ACK with seq 0 / ack 0 that makes a peer answer
// with its real sequence numbers, and the RST built from that answer.
//
// Field values follow what CTDB puts on the wire (its clients and switches
// have seen these for years): ARP request then reply, both broadcast; NA to
// all-nodes with the Override flag and a target link-layer address option,
// hop limit 255; TCP window 1234, which is also how a capture recognises
// segments we sent ourselves.

import { formatIPv6, parseIPv4, parseIPv6 } from "../../net/ip.ts";

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const TICKLE_WINDOW = 1234;
const IPPROTO_TCP = 6;
const IPPROTO_ICMPV6 = 58;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

export interface Endpoint {
  address: string;
  port: number;
}

/** An IP literal as bytes, or an error naming it. */
export function addressBytes(address: string): Uint8Array {
  const b = address.includes(":") ? parseIPv6(address) : parseIPv4(address);
  if (b === undefined) throw new Error(`not an IP address: ${address}`);
  return b;
}

/** "aa:bb:cc:dd:ee:ff" → 6 bytes. */
export function parseMac(mac: string): Uint8Array {
  const parts = mac.trim().split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: ${mac}`);
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** The Internet checksum (RFC 1071) of the concatenated parts. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    for (const byte of p) {
      if (odd === undefined) {
        odd = byte;
      } else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f.writeUInt16BE(type, 12);
  f.set(payload, 14);
  return f;
}

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Two Ethernet frames, ARP request and ARP reply, each announcing `ip` at `mac`. */
export function gratuitousArp(mac: Uint8Array, ip: string): Buffer[] {
  const ipb = addressBytes(ip);
  if (ipb.length !== 4) throw new Error(`gratuitous ARP is for IPv4, not ${ip}`);
  return [1, 2].map((op) => {
    const a = Buffer.alloc(28);
    a.writeUInt16BE(1, 0); // Ethernet
    a.writeUInt16BE(ETH_P_IP, 2);
    a[4] = 6;
    a[5] = 4;
    a.writeUInt16BE(op, 6);
    a.set(mac, 8);
    a.set(ipb, 14);
    // A request asks for no one's hardware address; a reply names ours.
    if (op === 2) a.set(mac, 18);
    a.set(ipb, 24);
    return ethernet(BROADCAST, mac, ETH_P_ARP, a);
  });
}

function pseudoHeader6(src: Uint8Array, dst: Uint8Array, length: number, next: number): Uint8Array {
  const p = Buffer.alloc(40);
  p.set(src, 0);
  p.set(dst, 16);
  p.writeUInt32BE(length, 32);
  p[39] = next;
  return p;
}

function ipv6Header(src: Uint8Array, dst: Uint8Array, payloadLength: number, next: number, hopLimit: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLength, 4);
  h[6] = next;
  h[7] = hopLimit;
  h.set(src, 8);
  h.set(dst, 24);
  return h;
}

const ALL_NODES = addressBytes("ff02::1");
const ALL_NODES_MAC = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);

/** One Ethernet frame: an unsolicited neighbour advertisement of `ip` at `mac`. */
export function neighbourAdvertisement(mac: Uint8Array, ip: string): Buffer {
  const ipb = addressBytes(ip);
  if (ipb.length !== 16) throw new Error(`neighbour advertisement is for IPv6, not ${ip}`);
  const na = Buffer.alloc(32);
  na[0] = 136; // neighbour advertisement
  na[4] = 0x20; // Override: replace what neighbours have cached
  na.set(ipb, 8);
  na[24] = 2; // target link-layer address option, 8 bytes
  na[25] = 1;
  na.set(mac, 26);
  na.writeUInt16BE(inetChecksum(pseudoHeader6(ipb, ALL_NODES, na.length, IPPROTO_ICMPV6), na), 2);
  return ethernet(ALL_NODES_MAC, mac, ETH_P_IPV6, Buffer.concat([ipv6Header(ipb, ALL_NODES, na.length, IPPROTO_ICMPV6, 255), na]));
}

/**
 * An IP packet (header included) carrying a bare TCP segment from `src` to
 * `dst`: an ACK, or with `rst` a RST|ACK. Sent on a raw IP socket.
 */
export function tcpSegment(dst: Endpoint, src: Endpoint, seq: number, ack: number, rst: boolean): Buffer {
  const s = addressBytes(src.address);
  const d = addressBytes(dst.address);
  if (s.length !== d.length) throw new Error(`${src.address} and ${dst.address} are of different families`);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(src.port, 0);
  tcp.writeUInt16BE(dst.port, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = TCP_ACK | (rst ? TCP_RST : 0);
  tcp.writeUInt16BE(TICKLE_WINDOW, 14);
  if (s.length === 4) {
    const pseudo = Buffer.alloc(12);
    pseudo.set(s, 0);
    pseudo.set(d, 4);
    pseudo[9] = IPPROTO_TCP;
    pseudo.writeUInt16BE(tcp.length, 10);
    tcp.writeUInt16BE(inetChecksum(pseudo, tcp), 16);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + tcp.length, 2);
    ip[8] = 255;
    ip[9] = IPPROTO_TCP;
    ip.set(s, 12);
    ip.set(d, 16);
    ip.writeUInt16BE(inetChecksum(ip), 10);
    return Buffer.concat([ip, tcp]);
  }
  tcp.writeUInt16BE(inetChecksum(pseudoHeader6(s, d, tcp.length, IPPROTO_TCP), tcp), 16);
  return Buffer.concat([ipv6Header(s, d, tcp.length, IPPROTO_TCP, 64), tcp]);
}

export interface TcpPacket {
  src: Endpoint;
  dst: Endpoint;
  seq: number;
  ack: number;
  rst: boolean;
  ackFlag: boolean;
  window: number;
}

/** A TCP segment inside an Ethernet frame (IPv4, or IPv6 without extension headers); undefined otherwise. */
export function parseTcpFrame(frame: Uint8Array): TcpPacket | undefined {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 14) return undefined;
  const type = b.readUInt16BE(12);
  let off: number;
  let src: string;
  let dst: string;
  if (type === ETH_P_IP) {
    if (b.length < 34 || b[14]! >> 4 !== 4 || b[23] !== IPPROTO_TCP) return undefined;
    // A fragment past the first carries no TCP header.
    if ((b.readUInt16BE(20) & 0x1fff) !== 0) return undefined;
    off = 14 + (b[14]! & 0x0f) * 4;
    src = [...b.subarray(26, 30)].join(".");
    dst = [...b.subarray(30, 34)].join(".");
  } else if (type === ETH_P_IPV6) {
    if (b.length < 54 || b[14]! >> 4 !== 6 || b[20] !== IPPROTO_TCP) return undefined;
    off = 54;
    src = formatIPv6(b.subarray(22, 38));
    dst = formatIPv6(b.subarray(38, 54));
  } else {
    return undefined;
  }
  if (b.length < off + 20) return undefined;
  const flags = b[off + 13]!;
  return {
    src: { address: src, port: b.readUInt16BE(off) },
    dst: { address: dst, port: b.readUInt16BE(off + 2) },
    seq: b.readUInt32BE(off + 4),
    ack: b.readUInt32BE(off + 8),
    rst: (flags & TCP_RST) !== 0,
    ackFlag: (flags & TCP_ACK) !== 0,
    window: b.readUInt16BE(off + 14),
  };
}
