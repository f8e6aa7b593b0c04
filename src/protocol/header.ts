// struct ctdb_req_header: eight u32 fields, 32 bytes, at the start of every packet.
import { Reader, type Writer } from "./codec.ts";
import { CTDB_MAGIC, CTDB_PROTOCOL, HEADER_SIZE, MAX_PACKET_SIZE } from "./constants.ts";
import { ProtocolError } from "./errors.ts";

export interface PacketHeader {
  length: number;
  magic: number;
  version: number;
  generation: number;
  operation: number;
  destnode: number;
  srcnode: number;
  reqid: number;
}

export { HEADER_SIZE };

export function writeHeader(w: Writer, h: PacketHeader): void {
  w.u32(h.length).u32(h.magic).u32(h.version).u32(h.generation);
  w.u32(h.operation).u32(h.destnode).u32(h.srcnode).u32(h.reqid);
}

export function encodeHeader(h: PacketHeader): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE);
  b.writeUInt32LE(h.length >>> 0, 0);
  b.writeUInt32LE(h.magic >>> 0, 4);
  b.writeUInt32LE(h.version >>> 0, 8);
  b.writeUInt32LE(h.generation >>> 0, 12);
  b.writeUInt32LE(h.operation >>> 0, 16);
  b.writeUInt32LE(h.destnode >>> 0, 20);
  b.writeUInt32LE(h.srcnode >>> 0, 24);
  b.writeUInt32LE(h.reqid >>> 0, 28);
  return b;
}

export function readHeader(r: Reader): PacketHeader {
  return {
    length: r.u32("header.length"),
    magic: r.u32("header.magic"),
    version: r.u32("header.version"),
    generation: r.u32("header.generation"),
    operation: r.u32("header.operation"),
    destnode: r.u32("header.destnode"),
    srcnode: r.u32("header.srcnode"),
    reqid: r.u32("header.reqid"),
  };
}

/** Parses the 32-byte header without judging it; see verifyHeader. */
export function decodeHeader(buf: Buffer): PacketHeader {
  return readHeader(new Reader(buf, "packet header"));
}

/** Throws ProtocolError unless length, magic and version are acceptable. */
export function verifyHeader(h: PacketHeader, maxLength = MAX_PACKET_SIZE): void {
  if (h.magic !== CTDB_MAGIC) {
    throw new ProtocolError(`bad magic 0x${h.magic.toString(16).padStart(8, "0")} (expected 0x43544442 "CTDB")`);
  }
  if (h.version !== CTDB_PROTOCOL) {
    throw new ProtocolError(`unsupported protocol version ${h.version} (expected ${CTDB_PROTOCOL})`);
  }
  if (h.length < HEADER_SIZE) {
    throw new ProtocolError(`packet length ${h.length} is shorter than the ${HEADER_SIZE}-byte header`);
  }
  if (h.length > maxLength) {
    throw new ProtocolError(`packet length ${h.length} exceeds the limit of ${maxLength} bytes`);
  }
}
