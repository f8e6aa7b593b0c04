// Helpers the tool starts (ctdb_natgw, ctdb_lvs, and whatever they start) run
// in a process group of their own, so that when the tool gives up (-T) or is
// interrupted it can end all of them at once, as ctdb ends its own group.
// Node cannot put the tool itself in a new group (no setpgid), so each helper
// gets one.

const groups = new Set<number>();

export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

/** False once endGroups() has ended the group: what it does after that is not reported. */
export function isTracked(pgid: number): boolean {
  return groups.has(pgid);
}

export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
}

/** Sends SIGTERM to every tracked group still there; returns how many were signalled. */
export function endGroups(): number {
  let n = 0;
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGTERM");
      n++;
    } catch {
      // the group is already gone
    }
  }
  groups.clear();
  return n;
}
