// Node-to-node framing. Tandem's own wire format (CTDB's is free to differ here):
//   u32 length (whole frame, little-endian) | u32 magic "TNDM" | u8 version |
//   u8 channel | u16 reserved (0) | payload
// Channels: HELLO and CLUSTER carry JSON; CTDB carries a raw CTDB packet so
// controls and messages are forwarded between nodes exactly as clients sent them;
// DATABASE carries the binary database messages (src/database/wire.ts).

export const FRAME_MAGIC = 0x4d444e54; // "TNDM" read as little-endian bytes
export const FRAME_VERSION = 1;
export const FRAME_HEADER = 12;
export const MAX_FRAME = 64 * 1024 * 1024;

export const Channel = { HELLO: 1, CLUSTER: 2, CTDB: 3, DATABASE: 4 } as const;
export type ChannelId = (typeof Channel)[keyof typeof Channel];

export class FrameError extends Error {}

export function encodeFrame(channel: ChannelId, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  frame.writeUInt32LE(frame.length, 0);
  frame.writeUInt32LE(FRAME_MAGIC, 4);
  frame.writeUInt8(FRAME_VERSION, 8);
  frame.writeUInt8(channel, 9);
  frame.writeUInt16LE(0, 10);
  payload.copy(frame, FRAME_HEADER);
  return frame;
}

export function encodeJsonFrame(channel: ChannelId, value: unknown): Buffer {
  return encodeFrame(channel, Buffer.from(JSON.stringify(value)));
}

export interface Frame {
  channel: ChannelId;
  payload: Buffer;
}

/** Splits a byte stream into frames; throws FrameError on anything malformed. */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Frame[] = [];
    while (this.pendingBytes >= FRAME_HEADER) {
      const head = this.peek(FRAME_HEADER);
      const length = head.readUInt32LE(0);
      if (head.readUInt32LE(4) !== FRAME_MAGIC) throw new FrameError("bad frame magic");
      if (head.readUInt8(8) !== FRAME_VERSION) throw new FrameError(`unsupported frame version ${head.readUInt8(8)}`);
      if (length < FRAME_HEADER || length > MAX_FRAME) throw new FrameError(`bad frame length ${length}`);
      const channel = head.readUInt8(9);
      if (channel !== Channel.HELLO && channel !== Channel.CLUSTER && channel !== Channel.CTDB && channel !== Channel.DATABASE) {
        throw new FrameError(`unknown frame channel ${channel}`);
      }
      if (this.pendingBytes < length) break;
      const whole = this.take(length);
      frames.push({ channel, payload: whole.subarray(FRAME_HEADER) });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.pending[0]!.length < n) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = all.length > n ? [all.subarray(n)] : [];
    this.pendingBytes -= n;
    return all.subarray(0, n);
  }
}
