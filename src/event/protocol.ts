// Wire format of CTDB's event daemon socket (CTDB's event/event_protocol.c).
//
// Every packet is a 12-byte header {u32 length, u32 version, u32 reqid}
// followed by a u32 command and a command-specific body. Integers are in host
// order, which on every platform CTDB and Tandem support is little-endian.
// Strings are "stringn": a u32 byte count that includes the trailing NUL,
// with 0 standing for a NULL pointer. A timeval is {i64 sec, i64 usec}
// (LP64). There is no padding and `length` is the exact packet size.
//
// The real eventd and ctdb-event leave `version` at 0 on the wire (the
// CTDB_EVENT_PROTOCOL_VERSION constant is defined but never sent), so we
// send 0 and accept any value.

import { Reader as CodecReader, type ReaderErrors } from "../protocol/codec.ts";

export const EVENT_HEADER_SIZE = 12;

export const EventCommand = { run: 1, status: 2, script: 3 } as const;
export type EventCommandName = keyof typeof EventCommand;

/** CTDB_EVENT_RUN_ALL: keep running the remaining scripts after a failure. */
export const EVENT_RUN_ALL = 1;

export const ScriptAction = { disable: 0, enable: 1 } as const;

/** Subset of Linux errno values the event protocol carries. */
export const Errno = {
  ENOENT: 2,
  EIO: 5,
  ENOEXEC: 8,
  ENOMEM: 12,
  ENOTDIR: 20,
  EINVAL: 22,
  EPROTO: 71,
  EMSGSIZE: 90,
  ETIMEDOUT: 110,
  ECANCELED: 125,
} as const;

export interface EventHeader {
  length: number;
  version: number;
  reqid: number;
}

export interface RunRequest {
  cmd: "run";
  component: string | null;
  event: string | null;
  /** Arguments joined by single spaces, or null when there are none. */
  args: string | null;
  timeout: number;
  flags: number;
}

export interface StatusRequest {
  cmd: "status";
  component: string | null;
  event: string | null;
}

export interface ScriptRequest {
  cmd: "script";
  component: string | null;
  script: string | null;
  action: "enable" | "disable";
}

export type EventRequest = RunRequest | StatusRequest | ScriptRequest;

export interface Timeval {
  sec: number;
  usec: number;
}

export interface WireScript {
  name: string | null;
  begin: Timeval;
  end: Timeval;
  /** 0, a script's exit code, or a negative errno. */
  result: number;
  output: string | null;
}

export interface WireStatus {
  summary: number;
  scripts: WireScript[];
}

export interface EventReply {
  cmd: EventCommandName;
  /** 0 or a positive errno. */
  result: number;
  /** Present only for a STATUS reply whose result is 0. */
  status?: WireStatus;
}

export type EventProtocolErrno = "EMSGSIZE" | "EINVAL" | "EPROTO";

/** Raised for any malformed packet; `errno` mirrors what CTDB's decoder returns. */
export class EventProtocolError extends Error {
  readonly errno: EventProtocolErrno;
  constructor(errno: EventProtocolErrno, message: string) {
    super(message);
    this.name = "EventProtocolError";
    this.errno = errno;
  }
}

export function errnoValue(code: EventProtocolErrno): number {
  return Errno[code];
}

const COMMAND_BY_NUMBER = new Map<number, EventCommandName>([
  [1, "run"],
  [2, "status"],
  [3, "script"],
]);

// ---------------------------------------------------------------------------
// Encoding

class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;

  u32(value: number, what: string): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`${what} must be an unsigned 32-bit integer, got ${value}`);
    }
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value, 0);
    this.push(b);
  }

  i32(value: number, what: string): void {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`${what} must be a signed 32-bit integer, got ${value}`);
    }
    const b = Buffer.alloc(4);
    b.writeInt32LE(value, 0);
    this.push(b);
  }

  stringn(value: string | null, what: string): void {
    if (value === null) {
      this.u32(0, what);
      return;
    }
    const bytes = Buffer.from(value, "utf8");
    if (bytes.includes(0)) {
      throw new RangeError(`${what} must not contain a NUL character`);
    }
    this.u32(bytes.length + 1, what);
    this.push(bytes);
    this.push(Buffer.alloc(1));
  }

  timeval(tv: Timeval, what: string): void {
    if (!Number.isSafeInteger(tv.sec) || !Number.isSafeInteger(tv.usec)) {
      throw new RangeError(`${what} must hold integer seconds and microseconds`);
    }
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(tv.sec), 0);
    b.writeBigInt64LE(BigInt(tv.usec), 8);
    this.push(b);
  }

  /** The packet with its length field (first u32) filled in. */
  finish(): Buffer {
    const out = Buffer.concat(this.parts, this.size);
    out.writeUInt32LE(this.size, 0);
    return out;
  }

  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }
}

function writeHeader(w: Writer, reqid: number, version: number): void {
  w.u32(0, "length"); // patched by finish()
  w.u32(version, "version");
  w.u32(reqid, "reqid");
}

export function encodeRequest(reqid: number, request: EventRequest, version = 0): Buffer {
  const w = new Writer();
  writeHeader(w, reqid, version);
  w.u32(EventCommand[request.cmd], "command");
  switch (request.cmd) {
    case "run":
      w.stringn(request.component, "component");
      w.stringn(request.event, "event");
      w.stringn(request.args, "args");
      w.u32(request.timeout, "timeout");
      w.u32(request.flags, "flags");
      break;
    case "status":
      w.stringn(request.component, "component");
      w.stringn(request.event, "event");
      break;
    case "script":
      w.stringn(request.component, "component");
      w.stringn(request.script, "script");
      w.u32(ScriptAction[request.action], "action");
      break;
  }
  return w.finish();
}

export function encodeReply(reqid: number, reply: EventReply, version = 0): Buffer {
  const w = new Writer();
  writeHeader(w, reqid, version);
  w.u32(EventCommand[reply.cmd], "command");
  w.i32(reply.result, "result");
  // Like CTDB, a failed reply carries no body, and only STATUS has one.
  if (reply.result === 0 && reply.cmd === "status") {
    if (reply.status === undefined) {
      throw new RangeError("a successful STATUS reply needs a status");
    }
    w.i32(reply.status.summary, "summary");
    w.i32(reply.status.scripts.length, "number of scripts");
    reply.status.scripts.forEach((s, i) => {
      w.stringn(s.name, `script ${i} name`);
      w.timeval(s.begin, `script ${i} begin`);
      w.timeval(s.end, `script ${i} end`);
      w.i32(s.result, `script ${i} result`);
      w.stringn(s.output, `script ${i} output`);
    });
  }
  return w.finish();
}

// ---------------------------------------------------------------------------
// Decoding

const EVENT_ERRORS: ReaderErrors = {
  truncated: (message) => new EventProtocolError("EMSGSIZE", message),
  invalid: (message) => new EventProtocolError("EINVAL", message),
};

/** The shared bounds-checked reader, raising eventd's errors, plus eventd's own types. */
class Reader extends CodecReader {
  constructor(buf: Buffer, what: string) {
    super(buf, what, 0, buf.length, EVENT_ERRORS);
  }

  /** An i64 that must fit a JavaScript number (a timeval part). */
  safeI64(field: string): number {
    const v = this.i64(field);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.errors.invalid(`${this.what}: ${field} out of range (${v})`);
    }
    return Number(v);
  }

  stringn(field: string): string | null {
    const len = this.u32(`${field} length`);
    if (len === 0) return null;
    this.need(len, field);
    const bytes = this.buf.subarray(this.offset, this.offset + len);
    const nul = bytes.indexOf(0);
    if (nul !== len - 1) {
      throw this.errors.invalid(
        nul === -1
          ? `${this.what}: ${field} (${len} bytes at offset ${this.offset}) is not NUL-terminated`
          : `${this.what}: ${field} (${len} bytes at offset ${this.offset}) has a NUL at byte ${nul}`,
      );
    }
    this.offset += len;
    return bytes.subarray(0, len - 1).toString("utf8");
  }

  timeval(field: string): Timeval {
    const sec = this.safeI64(`${field} seconds`);
    const usec = this.safeI64(`${field} microseconds`);
    return { sec, usec };
  }
}

export function decodeHeader(buf: Buffer, what = "event packet"): EventHeader {
  const r = new Reader(buf, what);
  const length = r.u32("length");
  const version = r.u32("version");
  const reqid = r.u32("reqid");
  if (length !== buf.length) {
    throw new EventProtocolError(
      "EMSGSIZE",
      `${what}: header length ${length} does not match packet size ${buf.length}`,
    );
  }
  return { length, version, reqid };
}

function readCommand(r: Reader, what: string): EventCommandName {
  const n = r.u32("command");
  const cmd = COMMAND_BY_NUMBER.get(n);
  if (cmd === undefined) {
    throw new EventProtocolError("EINVAL", `${what}: unknown command ${n}`);
  }
  return cmd;
}

/**
 * Decode one whole request packet. Bytes after the body are ignored, as
 * CTDB's decoder does.
 */
export function decodeRequest(buf: Buffer): { header: EventHeader; request: EventRequest } {
  const what = "event request";
  const header = decodeHeader(buf, what);
  const r = new Reader(buf, what);
  r.offset = EVENT_HEADER_SIZE;
  const cmd = readCommand(r, what);
  let request: EventRequest;
  switch (cmd) {
    case "run": {
      const component = r.stringn("component");
      const event = r.stringn("event");
      const args = r.stringn("args");
      const timeout = r.u32("timeout");
      const flags = r.u32("flags");
      request = { cmd, component, event, args, timeout, flags };
      break;
    }
    case "status": {
      const component = r.stringn("component");
      const event = r.stringn("event");
      request = { cmd, component, event };
      break;
    }
    case "script": {
      const component = r.stringn("component");
      const script = r.stringn("script");
      const action = r.u32("action");
      if (action !== 0 && action !== 1) {
        throw new EventProtocolError("EINVAL", `${what}: unknown script action ${action}`);
      }
      request = { cmd, component, script, action: action === 1 ? "enable" : "disable" };
      break;
    }
  }
  return { header, request };
}

export function decodeReply(buf: Buffer): { header: EventHeader; reply: EventReply } {
  const what = "event reply";
  const header = decodeHeader(buf, what);
  const r = new Reader(buf, what);
  r.offset = EVENT_HEADER_SIZE;
  const cmd = readCommand(r, what);
  const result = r.i32("result");
  const reply: EventReply = { cmd, result };
  if (result === 0 && cmd === "status") {
    const summary = r.i32("summary");
    const count = r.i32("number of scripts");
    if (count < 0) {
      throw new EventProtocolError("EINVAL", `${what}: negative number of scripts ${count}`);
    }
    // Each script needs at least 4+16+16+4+4 bytes; refuse absurd counts
    // before allocating anything.
    if (count * 44 > buf.length - r.offset) {
      throw new EventProtocolError(
        "EMSGSIZE",
        `${what} truncated: ${count} scripts cannot fit in ${buf.length - r.offset} bytes`,
      );
    }
    const scripts: WireScript[] = [];
    for (let i = 0; i < count; i++) {
      const name = r.stringn(`script ${i} name`);
      const begin = r.timeval(`script ${i} begin`);
      const end = r.timeval(`script ${i} end`);
      const res = r.i32(`script ${i} result`);
      const output = r.stringn(`script ${i} output`);
      scripts.push({ name, begin, end, result: res, output });
    }
    reply.status = { summary, scripts };
  }
  return { header, reply };
}

// ---------------------------------------------------------------------------
// Framing

/**
 * Splits a byte stream into packets using the leading u32 length. Throws
 * EventProtocolError for a length that cannot be a packet (shorter than the
 * header or longer than `maxLength`); the stream is unusable after that.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingSize = 0;

  constructor(private readonly maxLength: number) {}

  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingSize += chunk.length;
    }
    const frames: Buffer[] = [];
    while (this.pendingSize >= 4) {
      const head = this.peek4();
      const length = head.readUInt32LE(0);
      if (length < EVENT_HEADER_SIZE) {
        throw new EventProtocolError(
          "EPROTO",
          `packet length ${length} is shorter than the ${EVENT_HEADER_SIZE}-byte header`,
        );
      }
      if (length > this.maxLength) {
        throw new EventProtocolError(
          "EMSGSIZE",
          `packet length ${length} exceeds the limit of ${this.maxLength} bytes`,
        );
      }
      if (this.pendingSize < length) break;
      const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      frames.push(Buffer.from(all.subarray(0, length)));
      const rest = all.subarray(length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingSize = rest.length;
    }
    return frames;
  }

  /** Bytes received but not yet part of a whole packet. */
  get buffered(): number {
    return this.pendingSize;
  }

  private peek4(): Buffer {
    const first = this.pending[0]!;
    if (first.length >= 4) return first;
    const joined = Buffer.concat(this.pending);
    this.pending = [joined];
    return joined;
  }
}
