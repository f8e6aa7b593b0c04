// Whole-packet codecs for CTDB's operations (CTDB's protocol_call.c,
// protocol_message.c, protocol_control.c, protocol_keepalive.c,
// protocol_tunnel.c). Encoders round the length up to 8 bytes and zero the
// padding, as CTDB's ctdb_allocate_pkt does; decoders check every length
// field against the bytes actually present and ignore trailing padding.
import { align8, Reader, Writer } from "./codec.ts";
import { CTDB_MAGIC, CTDB_PROTOCOL, HEADER_SIZE, Operation } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { readHeader, verifyHeader, writeHeader } from "./header.ts";

export { ProtocolError };

/** Header fields a packet carries besides length/magic/version/operation. */
export interface PacketBase {
  generation: number;
  destnode: number;
  srcnode: number;
  reqid: number;
}

export interface ReqCall extends PacketBase {
  operation: Operation.REQ_CALL;
  flags: number;
  dbId: number;
  callid: number;
  hopcount: number;
  key: Buffer;
  calldata: Buffer;
}

export interface ReplyCall extends PacketBase {
  operation: Operation.REPLY_CALL;
  status: number;
  data: Buffer;
}

export interface ReqDmaster extends PacketBase {
  operation: Operation.REQ_DMASTER;
  dbId: number;
  rsn: bigint;
  dmaster: number;
  key: Buffer;
  data: Buffer;
}

export interface ReplyDmaster extends PacketBase {
  operation: Operation.REPLY_DMASTER;
  dbId: number;
  rsn: bigint;
  key: Buffer;
  data: Buffer;
}

export interface ReplyError extends PacketBase {
  operation: Operation.REPLY_ERROR;
  status: number;
  errmsg: string;
}

export interface ReqMessage extends PacketBase {
  operation: Operation.REQ_MESSAGE;
  srvid: bigint;
  data: Buffer;
}

export interface ReqControl extends PacketBase {
  operation: Operation.REQ_CONTROL;
  opcode: number;
  srvid: bigint;
  clientId: number;
  flags: number;
  data: Buffer;
}

export interface ReplyControl extends PacketBase {
  operation: Operation.REPLY_CONTROL;
  status: number;
  data: Buffer;
  errmsg: string;
}

export interface ReqKeepalive extends PacketBase {
  operation: Operation.REQ_KEEPALIVE;
  version: number;
  uptime: number;
}

export interface ReqTunnel extends PacketBase {
  operation: Operation.REQ_TUNNEL;
  tunnelId: bigint;
  flags: number;
  data: Buffer;
}

export type Packet =
  | ReqCall
  | ReplyCall
  | ReqDmaster
  | ReplyDmaster
  | ReplyError
  | ReqMessage
  | ReqControl
  | ReplyControl
  | ReqKeepalive
  | ReqTunnel;

// Bytes of an error string on the wire: the text plus a NUL, or nothing for "".
function cstring(s: string): Buffer {
  return s === "" ? Buffer.alloc(0) : Buffer.from(`${s}\0`, "utf8");
}

// Text up to the first NUL (CTDB's strndup semantics).
function fromCstring(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("utf8", 0, nul < 0 ? b.length : nul);
}

function start(p: Packet, bodySize: number): Writer {
  const length = align8(HEADER_SIZE + bodySize);
  const w = new Writer(length);
  writeHeader(w, {
    length,
    magic: CTDB_MAGIC,
    version: CTDB_PROTOCOL,
    generation: p.generation,
    operation: p.operation,
    destnode: p.destnode,
    srcnode: p.srcnode,
    reqid: p.reqid,
  });
  return w;
}

export function encodeReqCall(p: ReqCall): Buffer {
  const w = start(p, 24 + p.key.length + p.calldata.length);
  w.u32(p.flags).u32(p.dbId).u32(p.callid).u32(p.hopcount);
  w.u32(p.key.length).u32(p.calldata.length).bytes(p.key).bytes(p.calldata);
  return w.finish();
}

export function encodeReplyCall(p: ReplyCall): Buffer {
  const w = start(p, 8 + p.data.length);
  w.i32(p.status).u32(p.data.length).bytes(p.data);
  return w.finish();
}

export function encodeReqDmaster(p: ReqDmaster): Buffer {
  const w = start(p, 28 + p.key.length + p.data.length);
  w.u32(p.dbId).zeros(4).u64(p.rsn).u32(p.dmaster);
  w.u32(p.key.length).u32(p.data.length).bytes(p.key).bytes(p.data);
  return w.finish();
}

export function encodeReplyDmaster(p: ReplyDmaster): Buffer {
  const w = start(p, 24 + p.key.length + p.data.length);
  w.u32(p.dbId).zeros(4).u64(p.rsn);
  w.u32(p.key.length).u32(p.data.length).bytes(p.key).bytes(p.data);
  return w.finish();
}

export function encodeReplyError(p: ReplyError): Buffer {
  const msg = cstring(p.errmsg);
  const w = start(p, 8 + msg.length);
  w.i32(p.status).u32(msg.length).bytes(msg);
  return w.finish();
}

export function encodeReqMessage(p: ReqMessage): Buffer {
  const w = start(p, 12 + p.data.length);
  w.u64(p.srvid).u32(p.data.length).bytes(p.data);
  return w.finish();
}

export function encodeReqControl(p: ReqControl): Buffer {
  const w = start(p, 28 + p.data.length);
  w.u32(p.opcode).zeros(4).u64(p.srvid).u32(p.clientId).u32(p.flags);
  w.u32(p.data.length).bytes(p.data);
  return w.finish();
}

/**
 * CTDB's client library reads the reply data only when status is 0 and
 * otherwise reads the error string from the same offset, so a failed reply
 * carries no data (CTDB's protocol_control.c ctdb_reply_control_push).
 */
export function encodeReplyControl(p: ReplyControl): Buffer {
  const data = p.status === 0 ? p.data : Buffer.alloc(0);
  const msg = p.status === 0 ? Buffer.alloc(0) : cstring(p.errmsg);
  const w = start(p, 12 + data.length + msg.length);
  w.i32(p.status).u32(data.length).u32(msg.length).bytes(data).bytes(msg);
  return w.finish();
}

/** The REPLY_CONTROL answering `req`: same reqid, addressed back to its sender. */
export function replyControlFor(
  req: ReqControl,
  srcnode: number,
  reply: { status: number; data?: Buffer; errmsg?: string; generation?: number },
): ReplyControl {
  return {
    operation: Operation.REPLY_CONTROL,
    generation: reply.generation ?? 0,
    destnode: req.srcnode,
    srcnode,
    reqid: req.reqid,
    status: reply.status,
    data: reply.data ?? Buffer.alloc(0),
    errmsg: reply.errmsg ?? "",
  };
}

export function encodeReqKeepalive(p: ReqKeepalive): Buffer {
  const w = start(p, 8);
  w.u32(p.version).u32(p.uptime);
  return w.finish();
}

export function encodeReqTunnel(p: ReqTunnel): Buffer {
  const w = start(p, 16 + p.data.length);
  w.u64(p.tunnelId).u32(p.flags).u32(p.data.length).bytes(p.data);
  return w.finish();
}

export function encodePacket(p: Packet): Buffer {
  switch (p.operation) {
    case Operation.REQ_CALL:
      return encodeReqCall(p);
    case Operation.REPLY_CALL:
      return encodeReplyCall(p);
    case Operation.REQ_DMASTER:
      return encodeReqDmaster(p);
    case Operation.REPLY_DMASTER:
      return encodeReplyDmaster(p);
    case Operation.REPLY_ERROR:
      return encodeReplyError(p);
    case Operation.REQ_MESSAGE:
      return encodeReqMessage(p);
    case Operation.REQ_CONTROL:
      return encodeReqControl(p);
    case Operation.REPLY_CONTROL:
      return encodeReplyControl(p);
    case Operation.REQ_KEEPALIVE:
      return encodeReqKeepalive(p);
    case Operation.REQ_TUNNEL:
      return encodeReqTunnel(p);
  }
}

const OP_NAMES: Record<number, string> = {
  0: "REQ_CALL",
  1: "REPLY_CALL",
  2: "REQ_DMASTER",
  3: "REPLY_DMASTER",
  4: "REPLY_ERROR",
  5: "REQ_MESSAGE",
  7: "REQ_CONTROL",
  8: "REPLY_CONTROL",
  9: "REQ_KEEPALIVE",
  10: "REQ_TUNNEL",
};

/**
 * Decodes one whole packet (as split by PacketReader). Validates the header,
 * requires `length` to fit inside `buf`, and checks every inner length field.
 */
export function decodePacket(buf: Buffer): Packet {
  if (buf.length < HEADER_SIZE) {
    throw new ProtocolError(`packet of ${buf.length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  }
  const h = readHeader(new Reader(buf, "packet header"));
  verifyHeader(h, Number.MAX_SAFE_INTEGER);
  if (h.length > buf.length) {
    throw new ProtocolError(`packet header claims ${h.length} bytes but only ${buf.length} are present`);
  }
  const name = OP_NAMES[h.operation];
  if (name === undefined) {
    throw new ProtocolError(`unknown operation ${h.operation}`);
  }
  const r = new Reader(buf, name, HEADER_SIZE, h.length);
  const base: PacketBase = { generation: h.generation, destnode: h.destnode, srcnode: h.srcnode, reqid: h.reqid };
  switch (h.operation as Operation) {
    case Operation.REQ_CALL: {
      const flags = r.u32("flags");
      const dbId = r.u32("db_id");
      const callid = r.u32("callid");
      const hopcount = r.u32("hopcount");
      const keylen = r.u32("keylen");
      const calldatalen = r.u32("calldatalen");
      const key = r.bytes(keylen, "key");
      const calldata = r.bytes(calldatalen, "calldata");
      return { operation: Operation.REQ_CALL, ...base, flags, dbId, callid, hopcount, key, calldata };
    }
    case Operation.REPLY_CALL: {
      const status = r.i32("status");
      const data = r.bytes(r.u32("datalen"), "data");
      return { operation: Operation.REPLY_CALL, ...base, status, data };
    }
    case Operation.REQ_DMASTER: {
      const dbId = r.u32("db_id");
      r.skip(4, "padding");
      const rsn = r.u64("rsn");
      const dmaster = r.u32("dmaster");
      const keylen = r.u32("keylen");
      const datalen = r.u32("datalen");
      const key = r.bytes(keylen, "key");
      const data = r.bytes(datalen, "data");
      return { operation: Operation.REQ_DMASTER, ...base, dbId, rsn, dmaster, key, data };
    }
    case Operation.REPLY_DMASTER: {
      const dbId = r.u32("db_id");
      r.skip(4, "padding");
      const rsn = r.u64("rsn");
      const keylen = r.u32("keylen");
      const datalen = r.u32("datalen");
      const key = r.bytes(keylen, "key");
      const data = r.bytes(datalen, "data");
      return { operation: Operation.REPLY_DMASTER, ...base, dbId, rsn, key, data };
    }
    case Operation.REPLY_ERROR: {
      const status = r.i32("status");
      const msg = r.bytes(r.u32("msglen"), "msg");
      return { operation: Operation.REPLY_ERROR, ...base, status, errmsg: fromCstring(msg) };
    }
    case Operation.REQ_MESSAGE: {
      const srvid = r.u64("srvid");
      const data = r.bytes(r.u32("datalen"), "data");
      return { operation: Operation.REQ_MESSAGE, ...base, srvid, data };
    }
    case Operation.REQ_CONTROL: {
      const opcode = r.u32("opcode");
      r.skip(4, "padding");
      const srvid = r.u64("srvid");
      const clientId = r.u32("client_id");
      const flags = r.u32("flags");
      const data = r.bytes(r.u32("datalen"), "data");
      return { operation: Operation.REQ_CONTROL, ...base, opcode, srvid, clientId, flags, data };
    }
    case Operation.REPLY_CONTROL: {
      const status = r.i32("status");
      const datalen = r.u32("datalen");
      const errorlen = r.u32("errorlen");
      // CTDB's daemon writes data then the message; its client library never
      // sends both. Reading them in sequence accepts either producer.
      const data = r.bytes(datalen, "data");
      const errmsg = fromCstring(r.bytes(errorlen, "errmsg"));
      return { operation: Operation.REPLY_CONTROL, ...base, status, data, errmsg };
    }
    case Operation.REQ_KEEPALIVE: {
      const version = r.u32("version");
      const uptime = r.u32("uptime");
      return { operation: Operation.REQ_KEEPALIVE, ...base, version, uptime };
    }
    case Operation.REQ_TUNNEL: {
      const tunnelId = r.u64("tunnel_id");
      const flags = r.u32("flags");
      const data = r.bytes(r.u32("datalen"), "data");
      return { operation: Operation.REQ_TUNNEL, ...base, tunnelId, flags, data };
    }
  }
  throw new ProtocolError(`unknown operation ${h.operation}`);
}
