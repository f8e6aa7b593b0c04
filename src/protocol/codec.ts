// Bounds-checked little-endian cursor primitives shared by the packet and
// data-type codecs. CTDB memcpy's host-order integers; every deployment we
// interoperate with is little-endian, so LE is the wire order here.
import { ProtocolError } from "./errors.ts";

/** How a reader reports bytes that run out, or a value that cannot be. */
export interface ReaderErrors {
  truncated(message: string): Error;
  invalid(message: string): Error;
}

const PROTOCOL_ERRORS: ReaderErrors = {
  truncated: (message) => new ProtocolError(message),
  invalid: (message) => new ProtocolError(message),
};

export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;
  readonly what: string;
  protected readonly errors: ReaderErrors;

  constructor(buf: Buffer, what: string, offset = 0, end = buf.length, errors: ReaderErrors = PROTOCOL_ERRORS) {
    this.buf = buf;
    this.what = what;
    this.offset = offset;
    this.end = Math.min(end, buf.length);
    this.errors = errors;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  need(n: number, field: string): void {
    if (n < 0 || this.end - this.offset < n) {
      throw this.errors.truncated(
        `${this.what}: truncated ${field}: need ${n} bytes at offset ${this.offset}, only ${Math.max(0, this.end - this.offset)} left`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    const v = this.buf.readUInt8(this.offset);
    this.offset += 1;
    return v;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  i32(field: string): number {
    this.need(4, field);
    const v = this.buf.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }

  i64(field: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigInt64LE(this.offset);
    this.offset += 8;
    return v;
  }

  f64(field: string): number {
    this.need(8, field);
    const v = this.buf.readDoubleLE(this.offset);
    this.offset += 8;
    return v;
  }

  bool(field: string): boolean {
    const v = this.u8(field);
    if (v > 1) throw this.errors.invalid(`${this.what}: ${field} must be 0 or 1, got ${v}`);
    return v === 1;
  }

  /** A copy of the next n bytes (copies so callers never pin a large read buffer). */
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = Buffer.from(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return v;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.offset += n;
  }

  /** Checks that `count` elements of `size` bytes each can still follow. */
  needArray(count: number, size: number, field: string): void {
    if (count * size > this.remaining) {
      throw this.errors.truncated(
        `${this.what}: ${field} claims ${count} entries of ${size} bytes but only ${this.remaining} bytes follow`,
      );
    }
  }
}

export class Writer {
  readonly buf: Buffer;
  offset = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  u8(v: number): this {
    this.buf.writeUInt8(v, this.offset);
    this.offset += 1;
    return this;
  }

  u16(v: number): this {
    this.buf.writeUInt16LE(v, this.offset);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    this.buf.writeUInt32LE(v >>> 0, this.offset);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    this.buf.writeInt32LE(v | 0, this.offset);
    this.offset += 4;
    return this;
  }

  u64(v: bigint): this {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.offset);
    this.offset += 8;
    return this;
  }

  i64(v: bigint): this {
    this.buf.writeBigInt64LE(BigInt.asIntN(64, v), this.offset);
    this.offset += 8;
    return this;
  }

  f64(v: number): this {
    this.buf.writeDoubleLE(v, this.offset);
    this.offset += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  zeros(n: number): this {
    this.buf.fill(0, this.offset, this.offset + n);
    this.offset += n;
    return this;
  }

  /** Zero-fills whatever is left (alignment padding) and returns the buffer. */
  finish(): Buffer {
    this.buf.fill(0, this.offset);
    this.offset = this.buf.length;
    return this.buf;
  }
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}
