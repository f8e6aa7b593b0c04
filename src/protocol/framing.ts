// Splits a CTDB byte stream into whole packets.
//
// CTDB's daemon reads client sockets with common/ctdb_io.c: it takes the
// first u32 as the packet size, waits for that many bytes and does not
// require a multiple of 8 (only node-to-node TCP does). We do the same, and
// additionally reject at once what CTDB would only log and drop: a length
// below the header size, an absurd length, a wrong magic or version. The
// caller then closes the connection.
import { CTDB_MAGIC, CTDB_PROTOCOL, HEADER_SIZE, MAX_PACKET_SIZE } from "./constants.ts";
import { ProtocolError } from "./errors.ts";

export { ProtocolError };

export class PacketReader {
  private chunks: Buffer[] = [];
  private total = 0;
  private readonly maxLength: number;
  private failed: ProtocolError | undefined;

  constructor(opts?: { maxLength?: number }) {
    this.maxLength = opts?.maxLength ?? MAX_PACKET_SIZE;
  }

  /** Bytes held back waiting for the rest of a packet. */
  get buffered(): number {
    return this.total;
  }

  /** Adds bytes; returns every packet now complete (each exactly `length` bytes). */
  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.total < 12) break;
      const head = this.peek(12);
      const length = head.readUInt32LE(0);
      const magic = head.readUInt32LE(4);
      const version = head.readUInt32LE(8);
      try {
        if (magic !== CTDB_MAGIC) {
          throw new ProtocolError(`bad magic 0x${magic.toString(16).padStart(8, "0")} in packet header`);
        }
        if (version !== CTDB_PROTOCOL) {
          throw new ProtocolError(`unsupported protocol version ${version} in packet header`);
        }
        if (length < HEADER_SIZE) {
          throw new ProtocolError(`packet length ${length} is shorter than the ${HEADER_SIZE}-byte header`);
        }
        if (length > this.maxLength) {
          throw new ProtocolError(`packet length ${length} exceeds the limit of ${this.maxLength} bytes`);
        }
      } catch (e) {
        this.failed = e as ProtocolError;
        this.chunks = [];
        this.total = 0;
        throw e;
      }
      if (this.total < length) break;
      out.push(this.take(length));
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      result = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - filled);
        c.copy(result, filled, 0, k);
        filled += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.total -= n;
    return result;
  }
}
