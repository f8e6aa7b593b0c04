/**
 * State shared by the daemon commands of one `tandem` run, and the helpers
 * ctdb's tool builds its commands from: the cached node map (fetched from a
 * better node when this one is banned), -n validation, node-list parsing,
 * the UNKNOWN rule, the partially-online check, and leader lookup.
 */
import { commandUsageText } from "./commands-table.ts";
import type { CliContext } from "./context.ts";
import { type Daemon, DaemonFailure } from "./daemon.ts";
import { NODE_FLAGS, prettyFlags, UNKNOWN_PNN } from "./format/common.ts";
import { applyUnknown, type NodeEntry, needsIfaceCheck, partiallyOnline, type ShownNode } from "./format/nodemap.ts";
import { smbStrtoul } from "./args.ts";

export class Session {
  /** The node the command addresses (-n, else the local node). */
  cmdPnn: number;
  /** -v was given. */
  verbose = false;
  /** All of standard input, for commands that read lists from it. */
  readStdin: () => Promise<string> = readAllStdin;
  private nodemap: NodeEntry[] | null = null;

  constructor(
    readonly ctx: CliContext,
    readonly daemon: Daemon,
  ) {
    this.cmdPnn = daemon.pnn;
  }

  get pnn(): number {
    return this.daemon.pnn;
  }

  get timeoutMs(): number {
    return this.ctx.timeoutSec * 1000;
  }

  out(s: string): void {
    this.ctx.stdout(s);
  }

  err(s: string): void {
    this.ctx.stderr(s);
  }

  /** Print the command's usage and return ctdb's exit code for it. */
  usage(command: string): number {
    this.out(commandUsageText(command));
    return 1;
  }

  /**
   * The node map, cached unless `force`. If this node is banned its view may
   * be stale, so ask the next node that is neither deleted nor disconnected.
   * Returns null after printing ctdb's message on failure.
   */
  async getNodemap(force: boolean): Promise<NodeEntry[] | null> {
    if (force) this.nodemap = null;
    if (this.nodemap !== null) return this.nodemap;
    let current = this.pnn;
    // Bounded so that a cluster of nodes which each claim the next one is banned cannot loop forever.
    for (let attempts = 0; attempts < 1024; attempts++) {
      let nodemap: NodeEntry[];
      try {
        nodemap = await this.daemon.getNodemap(current);
      } catch (e) {
        if (!(e instanceof DaemonFailure)) throw e;
        this.err(`Failed to get nodemap from node ${current >>> 0}\n`);
        return null;
      }
      const node = nodemap.find((n) => n.pnn === current);
      if (node === undefined || (node.flags & NODE_FLAGS.BANNED) === 0) {
        this.nodemap = nodemap;
        return nodemap;
      }
      const count = nodemap.length;
      do {
        current = count === 0 ? this.pnn : (current + 1) % count;
        const n = nodemap.find((x) => x.pnn === current);
        if (n !== undefined && (n.flags & (NODE_FLAGS.DELETED | NODE_FLAGS.DISCONNECTED)) === 0) break;
      } while (current !== this.pnn);
      if (current === this.pnn) {
        this.err("Warning: All nodes are banned.\n");
        return null;
      }
    }
    this.err("Warning: All nodes are banned.\n");
    return null;
  }

  /** -n PNN must name an existing node that is neither disconnected nor deleted. */
  async verifyPnn(pnn: number): Promise<boolean> {
    if (pnn === -1) return false;
    const nodemap = await this.getNodemap(false);
    if (nodemap === null) return false;
    const want = pnn >>> 0;
    const node = nodemap.find((n) => n.pnn >>> 0 === want);
    if (node === undefined) {
      this.err(`Node ${want} does not exist\n`);
      return false;
    }
    if ((node.flags & (NODE_FLAGS.DISCONNECTED | NODE_FLAGS.DELETED)) !== 0) {
      this.err(`Node ${want} has status ${prettyFlags(node.flags)}\n`);
      return false;
    }
    return true;
  }

  /**
   * "all", a comma-separated PNN list, or (undefined) the addressed node.
   * Returns null after printing ctdb's message for a bad list.
   */
  async parseNodestring(nodestring: string | undefined): Promise<NodeEntry[] | null> {
    const nodemap = await this.getNodemap(false);
    if (nodemap === null) return null;
    if (nodestring === undefined) {
      const n = nodemap.find((x) => x.pnn === this.cmdPnn);
      return n === undefined ? [] : [n];
    }
    if (nodestring === "all") return [...nodemap];
    const out: NodeEntry[] = [];
    for (const tok of nodestring.split(",").filter((t) => t !== "")) {
      const r = smbStrtoul(tok);
      if (!r.ok) {
        this.err(`Invalid node ${tok}\n`);
        return null;
      }
      const pnn = Number(BigInt.asUintN(32, r.value));
      const node = nodemap.find((n) => n.pnn >>> 0 === pnn);
      if (node === undefined) {
        this.err(`Node ${pnn} does not exist\n`);
        return null;
      }
      out.push(node);
    }
    return out;
  }

  /** Apply the UNKNOWN rule using the addressed node's runstate; null (after ctdb's message) on failure. */
  async nodemapUnknown(nodes: readonly NodeEntry[]): Promise<NodeEntry[] | null> {
    let runstate: number;
    try {
      runstate = await this.daemon.getRunstate(this.cmdPnn);
    } catch (e) {
      if (!(e instanceof DaemonFailure)) throw e;
      // ctdb prints this to stdout, without a newline.
      this.out("Unable to get runstate");
      return null;
    }
    return applyUnknown(nodes, runstate, this.cmdPnn);
  }

  /** Add the partially-online marker, asking each flag-free node for its interfaces. */
  async shown(nodes: readonly NodeEntry[]): Promise<ShownNode[]> {
    const out: ShownNode[] = [];
    for (const n of nodes) {
      let links: number[] | null = null;
      if (needsIfaceCheck(n) && (n.flags & NODE_FLAGS.DELETED) === 0) {
        try {
          links = (await this.daemon.getIfaces(n.pnn)).map((i) => i.linkState);
        } catch (e) {
          if (!(e instanceof DaemonFailure)) throw e;
          links = null;
        }
      }
      out.push({ ...n, partiallyOnline: partiallyOnline(n, links) });
    }
    return out;
  }

  /** The leader from the broadcast, UNKNOWN when none arrives within -t seconds. */
  async getLeader(): Promise<number> {
    try {
      return await this.daemon.waitForLeader(this.timeoutMs);
    } catch (e) {
      if (!(e instanceof DaemonFailure)) throw e;
      return UNKNOWN_PNN;
    }
  }
}

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Run a control, turning a DaemonFailure into ctdb's exit code. */
export async function attempt<T>(f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; ret: number }> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    if (e instanceof DaemonFailure) return { ok: false, ret: e.ret };
    throw e;
  }
}
