// A small seeded PRNG (splitmix32) so that a simulation replays exactly from
// its seed. Not for anything secret.

export class Prng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** A uniform integer in [0, n); 0 when n <= 1. */
  int(n: number): number {
    if (n <= 1) return 0;
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new Error("pick from an empty array");
    return arr[this.int(arr.length)] as T;
  }

  /** An independent generator derived from this one, so adding draws in one place does not shift another. */
  fork(): Prng {
    return new Prng(this.nextU32() ^ 0x5bd1e995);
  }
}
