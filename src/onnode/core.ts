// `tandem onnode`: which nodes a NODES specification names and what runs on
// each, as CTDB's onnode decides them. Pure; run.ts does the processes.

export interface OnnodeOptions {
  current: boolean;
  nodesFile: string | undefined;
  namesOk: boolean;
  parallel: boolean;
  quiet: boolean;
  verbose: boolean;
  push: boolean;
  stdin: boolean;
}

export type Parsed = { ok: true; options: OnnodeOptions; nodespec: string; command: string } | { ok: false; usage: true; message?: string };

/** Options as onnode's getopts reads them: clustered short options, -f takes an argument, stops at the first word. */
export function parseOnnodeArgs(argv: readonly string[]): Parsed {
  const options: OnnodeOptions = { current: false, nodesFile: undefined, namesOk: false, parallel: false, quiet: false, verbose: false, push: false, stdin: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      i++;
      break;
    }
    if (!word.startsWith("-") || word === "-") break;
    for (let j = 1; j < word.length; j++) {
      const c = word[j]!;
      switch (c) {
        case "c":
          options.current = true;
          break;
        case "n":
          options.namesOk = true;
          break;
        case "p":
          options.parallel = true;
          break;
        case "q":
          options.quiet = true;
          break;
        case "v":
          options.verbose = true;
          break;
        case "P":
          options.push = true;
          break;
        case "i":
          options.stdin = true;
          break;
        case "f": {
          const rest = word.slice(j + 1);
          if (rest !== "") options.nodesFile = rest;
          else {
            const next = argv[++i];
            if (next === undefined) return { ok: false, usage: true, message: "option -f needs a nodes file" };
            options.nodesFile = next;
          }
          j = word.length;
          break;
        }
        case "h":
          return { ok: false, usage: true };
        default:
          return { ok: false, usage: true, message: `unknown option -${c}` };
      }
    }
  }
  const rest = argv.slice(i);
  if (rest.length < 2) return { ok: false, usage: true };
  return { ok: true, options, nodespec: rest[0]!, command: rest.slice(1).join(" ") };
}

/** A nodes file as onnode reads it: comments and spaces dropped; an empty line is a deleted node (null). */
export function readNodesText(text: string): (string | null)[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => {
    const host = line.replace(/#.*/, "").replace(/ /g, "");
    return host === "" ? null : host;
  });
}

export type NodeToken =
  | { kind: "pnn"; pnn: number }
  | { kind: "all" | "any" | "healthy" | "connected" }
  | { kind: "name"; name: string };

const MNEMONICS: Record<string, NodeToken["kind"]> = {
  all: "all",
  any: "any",
  ok: "healthy",
  healthy: "healthy",
  con: "connected",
  connected: "connected",
};

export type SpecResult = { ok: true; tokens: NodeToken[] } | { ok: false; message: string };

/** `0,2-4,ok` → tokens in order (repeats kept, as onnode runs a node once per mention). */
export function parseNodespec(spec: string, namesOk: boolean): SpecResult {
  const tokens: NodeToken[] = [];
  for (const part of spec.split(",")) {
    if (part === "") continue;
    const mnemonic = MNEMONICS[part];
    if (mnemonic !== undefined) {
      tokens.push({ kind: mnemonic } as NodeToken);
      continue;
    }
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range !== null) {
      for (let n = Number(range[1]); n <= Number(range[2]); n++) tokens.push({ kind: "pnn", pnn: n });
      continue;
    }
    if (/^\d+$/.test(part)) {
      tokens.push({ kind: "pnn", pnn: Number(part) });
      continue;
    }
    if (!namesOk) return { ok: false, message: `invalid node specification "${part}" (a node number, a range such as 0-2, all, any, ok or con; names need -n)` };
    tokens.push({ kind: "name", name: part });
  }
  return { ok: true, tokens };
}

export interface NodeState {
  pnn: number;
  /** CTDB node flags; 0 is healthy. */
  flags: number;
}

const DISCONNECTED = 0x1;

export type Resolved = { ok: true; hosts: string[] } | { ok: false; message: string };

/**
 * The hosts to run on. `states` is the cluster's node map (needed for ok/con),
 * `anyPnn` the node `any` chose (needed for any); both are looked up by the
 * shell only when the spec names them.
 */
export function resolveNodes(tokens: NodeToken[], nodes: (string | null)[], nodesFile: string, states: NodeState[] | undefined, anyPnn: number | undefined): Resolved {
  const hosts: string[] = [];
  const nth = (pnn: number): string | { error: string } => {
    const host = nodes[pnn];
    return host === undefined || host === null ? { error: `node ${pnn} does not exist in ${nodesFile}` } : host;
  };
  for (const t of tokens) {
    switch (t.kind) {
      case "pnn": {
        const h = nth(t.pnn);
        if (typeof h !== "string") return { ok: false, message: h.error };
        hosts.push(h);
        break;
      }
      case "name":
        hosts.push(t.name);
        break;
      case "all":
        for (const h of nodes) if (h !== null) hosts.push(h);
        break;
      case "any": {
        if (anyPnn === undefined) return { ok: false, message: "no node answers (any)" };
        const h = nth(anyPnn);
        if (typeof h !== "string") return { ok: false, message: h.error };
        hosts.push(h);
        break;
      }
      case "healthy":
      case "connected": {
        if (states === undefined) return { ok: false, message: "unable to get the status of the nodes" };
        for (const s of states) {
          if (t.kind === "healthy" ? s.flags !== 0 : (s.flags & DISCONNECTED) !== 0) continue;
          const h = nth(s.pnn);
          if (typeof h !== "string") return { ok: false, message: h.error };
          hosts.push(h);
        }
        break;
      }
    }
  }
  return { ok: true, hosts };
}

export function needsStatus(tokens: NodeToken[]): boolean {
  return tokens.some((t) => t.kind === "healthy" || t.kind === "connected");
}

export function needsAny(tokens: NodeToken[]): boolean {
  return tokens.some((t) => t.kind === "any");
}

export interface Plan {
  /** The remote shell and its leading arguments (ONNODE_SSH split into words, then -n when stdin is closed). */
  shell: string[];
  command: string;
  /** Print which node is which: a header (sequential) or a [host] prefix (parallel). */
  label: boolean;
  parallel: boolean;
  /** Keep standard input for the remote command. */
  stdin: boolean;
}

/** ONNODE_SSH split into words as the shell splits it unquoted; ssh when unset. */
export function shellWords(ssh: string | undefined): string[] {
  return (ssh === undefined || ssh === "" ? "ssh" : ssh).split(/\s+/).filter((w) => w !== "");
}

export function plan(options: OnnodeOptions, command: string, hosts: string[], ssh: string | undefined, cwd: string): Plan {
  const words = shellWords(ssh);
  const keepStdin = options.stdin && !options.parallel;
  return {
    shell: keepStdin ? words : [...words, "-n"],
    command: options.current ? `cd ${cwd} && ${command}` : command,
    label: !options.quiet && (options.verbose || hosts.length > 1),
    parallel: options.parallel,
    stdin: keepStdin,
  };
}

/** onnode's exit status: the last non-zero status seen (in node order), else 0. */
export function exitStatus(codes: number[]): number {
  let ret = 0;
  for (const c of codes) if (c !== 0) ret = c;
  return ret;
}
