// CTDB's hash of a key: Bob Jenkins' lookup3 `hashlittle` with initial value
// 0, which TDB exports as tdb_jenkins_hash and CTDB uses for database ids
// (the name with its trailing NUL) and for a key's location master. Pure, so
// that the migration core and the simulator derive the same lmaster as the
// daemon; a test checks it against libtdb's own function.

const rot = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export function jenkinsHash(key: Uint8Array): number {
  let length = key.length;
  let a = (0xdeadbeef + length) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  while (length > 12) {
    a = (a + (key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24))) >>> 0;
    b = (b + (key[i + 4]! | (key[i + 5]! << 8) | (key[i + 6]! << 16) | (key[i + 7]! << 24))) >>> 0;
    c = (c + (key[i + 8]! | (key[i + 9]! << 8) | (key[i + 10]! << 16) | (key[i + 11]! << 24))) >>> 0;
    // mix(a, b, c)
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    length -= 12;
    i += 12;
  }
  if (length === 0) return c;
  // The last 1..12 bytes, little-endian into c, b, a (lookup3's byte-wise tail).
  const k = (n: number) => key[i + n]!;
  if (length >= 12) c = (c + (k(11) << 24)) >>> 0;
  if (length >= 11) c = (c + (k(10) << 16)) >>> 0;
  if (length >= 10) c = (c + (k(9) << 8)) >>> 0;
  if (length >= 9) c = (c + k(8)) >>> 0;
  if (length >= 8) b = (b + (k(7) << 24)) >>> 0;
  if (length >= 7) b = (b + (k(6) << 16)) >>> 0;
  if (length >= 6) b = (b + (k(5) << 8)) >>> 0;
  if (length >= 5) b = (b + k(4)) >>> 0;
  if (length >= 4) a = (a + (k(3) << 24)) >>> 0;
  if (length >= 3) a = (a + (k(2) << 16)) >>> 0;
  if (length >= 2) a = (a + (k(1) << 8)) >>> 0;
  a = (a + k(0)) >>> 0;
  // final(a, b, c)
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  return c;
}

/** A database's id: the hash of its name including the trailing NUL, as CTDB computes it. */
export function dbIdOf(name: string): number {
  return jenkinsHash(Buffer.from(`${name}\0`, "utf8"));
}

/** The location master of a key: the vnnmap entry its hash selects (CTDB's ctdb_lmaster). */
export function lmasterOf(key: Uint8Array, vnnmap: readonly number[]): number {
  if (vnnmap.length === 0) throw new Error("empty vnnmap: no node can be a location master");
  return vnnmap[jenkinsHash(key) % vnnmap.length]!;
}
