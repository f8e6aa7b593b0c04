// Virtual time for the simulator: a min-heap of callbacks ordered by time and,
// for equal times, by the order they were scheduled, so a run is a pure
// function of its seed. Time only moves when the next callback is taken.

interface Entry {
  at: number;
  seq: number;
  run: () => void;
}

export class Scheduler {
  nowMs: number;
  private heap: Entry[] = [];
  private seq = 0;

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Run `run` at virtual time `at` (never earlier than now). */
  at(at: number, run: () => void): void {
    const e: Entry = { at: Math.max(at, this.nowMs), seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Entry;
      if (!less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.nowMs + delayMs, run);
  }

  /** Time of the next callback, or undefined when nothing is scheduled. */
  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Take the next callback, advance the clock to it and run it. */
  runNext(): boolean {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return false;
    const last = h.pop() as Entry;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && less(h[r] as Entry, h[l] as Entry)) c = r;
        if (!less(h[c] as Entry, last)) break;
        h[i] = h[c] as Entry;
        i = c;
      }
      h[i] = last;
    }
    this.nowMs = top.at;
    top.run();
    return true;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
