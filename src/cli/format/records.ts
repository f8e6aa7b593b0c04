/** Record dumps of `catdb` (and the wire record it arrives in). Pure. */

export interface LtdbHeader {
  rsn: bigint;
  dmaster: number;
  flags: number;
}

export interface TraverseRecord {
  reqid: number;
  key: Buffer;
  /** Value including CTDB's 24-byte record header. */
  data: Buffer;
}

/** A ctdb_rec_data: u32 total length, u32 reqid, u32 key length, u32 data length, key, data. Null if malformed. */
export function decodeRecData(buf: Buffer): TraverseRecord | null {
  if (buf.length < 16) return null;
  const len = buf.readUInt32LE(0);
  if (len > buf.length || len < 16) return null;
  const reqid = buf.readUInt32LE(4);
  const klen = buf.readUInt32LE(8);
  const dlen = buf.readUInt32LE(12);
  if (len - 16 < klen || len - 16 - klen < dlen) return null;
  return { reqid, key: buf.subarray(16, 16 + klen), data: buf.subarray(16 + klen, 16 + klen + dlen) };
}

export const LTDB_HEADER_SIZE = 24;

export function splitHeader(data: Buffer): { header: LtdbHeader; value: Buffer } | null {
  if (data.length < LTDB_HEADER_SIZE) return null;
  return {
    header: { rsn: data.readBigUInt64LE(0), dmaster: data.readUInt32LE(8), flags: data.readUInt32LE(16) },
    value: data.subarray(LTDB_HEADER_SIZE),
  };
}

/** Printable ASCII except '"' and '\' as is, everything else as \XX. */
export function quoteBytes(b: Buffer): string {
  let out = "";
  for (const c of b) {
    out += c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\${c.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const REC_FLAGS: readonly [number, string][] = [
  [0x00010000, "MIGRATED_WITH_DATA"],
  [0x00020000, "VACUUM_MIGRATED"],
  [0x00040000, "AUTOMATIC"],
  [0x01000000, "RO_HAVE_DELEGATIONS"],
  [0x02000000, "RO_HAVE_READONLY"],
  [0x04000000, "RO_REVOKING_READONLY"],
  [0x08000000, "RO_REVOKE_COMPLETE"],
];

export function formatRecord(key: Buffer, header: LtdbHeader, value: Buffer): string {
  let out = `key(${key.length}) = "${quoteBytes(key)}"\n`;
  out += `dmaster: ${header.dmaster >>> 0}\nrsn: ${header.rsn}\n`;
  out += `flags: 0x${(header.flags >>> 0).toString(16).padStart(8, "0")}`;
  for (const [bit, name] of REC_FLAGS) if ((header.flags & bit) !== 0) out += ` ${name}`;
  out += `\ndata(${value.length}) = "${quoteBytes(value)}"\n\n`;
  return out;
}
