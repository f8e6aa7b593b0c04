// The inputs of `tandem ipalloc NODESTATES [multi]`, read as CTDB's
// allocator test program (ctdb_takeover_tests ipalloc) reads them, and its
// output. Pure: the caller supplies the environment, standard input and the
// home_nodes text.
//
// - NODESTATES: node flag words, comma-separated, one per PNN (C integer
//   syntax: 0x20, 040, 32).
// - CTDB_IP_ALGORITHM: lcp2 (default) | det | nondet.
// - CTDB_TEST_RUNSTATE: one runstate number per node, comma-separated, or
//   "1" for every node; default RUNNING everywhere.
// - CTDB_SET_NoIPTakeover: non-zero sets NoIPTakeover. CTDB_SET_NoIPFailback
//   does the same for NoIPFailback (our addition; CTDB's program has no way
//   to set it).
// - stdin: lines `IP CURRENT_PNN [ALLOWED_PNN,...]` up to the first empty
//   line; without an allowed list every node lists the address. With
//   `multi`, one such block per node (each node's own view of the current
//   hosts, no allowed lists), blocks separated by an empty line.
// Unlike CTDB, a malformed line is an error naming it, not skipped.

import { parseIpLiteral } from "../../net/ip.ts";
import { Runstate } from "../../protocol/constants.ts";
import { mergeNodeLists, type ReportedIp } from "./merge.ts";
import { type AllocAddress, type AllocNode, type AllocOptions, type HomeNode, IpAllocAlgorithm } from "./types.ts";

export interface WhatIf {
  nodes: AllocNode[];
  addresses: AllocAddress[];
  options: AllocOptions;
}

export type WhatIfResult = { ok: true; value: WhatIf } | { ok: false; message: string };

const ALGORITHMS: Record<string, IpAllocAlgorithm> = {
  lcp2: IpAllocAlgorithm.LCP2,
  det: IpAllocAlgorithm.DETERMINISTIC,
  nondet: IpAllocAlgorithm.NONDETERMINISTIC,
};

/** A C integer literal as strtol(s, NULL, base) reads a whole token; undefined if it is not one. */
export function parseCInteger(s: string, base: 0 | 10): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const sign = m[1] === "-" ? -1 : 1;
  const body = m[2] as string;
  let v: number;
  if (base === 10) {
    if (!/^[0-9]+$/.test(body)) return undefined;
    v = Number.parseInt(body, 10);
  } else if (/^0[xX]/.test(body)) v = Number.parseInt(body.slice(2), 16);
  else if (body.length > 1 && body.startsWith("0")) v = Number.parseInt(body.slice(1), 8);
  else v = Number.parseInt(body, 10);
  return sign * v;
}

function perNodeValues(name: string, text: string, numNodes: number): number[] | string {
  if (text === "1") return new Array<number>(numNodes).fill(1);
  const toks = text.split(",").filter((t) => t !== "");
  const values: number[] = [];
  for (const t of toks) {
    const v = parseCInteger(t, 0);
    if (v === undefined) return `${name}: "${t}" is not a number`;
    values.push(v);
  }
  if (values.length !== numNodes) return `Wrong number of values in ${name} (${values.length} for ${numNodes} nodes)`;
  return values;
}

function readBlock(lines: string[], at: { i: number }, multi: boolean, numNodes: number, known: ReportedIp[][], own: number): string | undefined {
  for (; at.i < lines.length; at.i++) {
    const line = lines[at.i] as string;
    if (line === "") {
      at.i++;
      return undefined;
    }
    const where = `line ${at.i + 1}`;
    const fields = line.split(/[ \t]+/).filter((f) => f !== "");
    const [addrText, pnnText, allowedText] = fields;
    if (addrText === undefined) return `${where}: no address in "${line}"`;
    const ip = parseIpLiteral(addrText);
    if (ip === undefined) return `${where}: bad address "${addrText}"`;
    let pnn = -1;
    if (pnnText !== undefined) {
      const v = parseCInteger(pnnText, 10);
      if (v === undefined) return `${where}: bad current node "${pnnText}"`;
      pnn = v;
    }
    const entry: ReportedIp = { address: ip.text, pnn };
    if (multi) {
      if (allowedText !== undefined) return `${where}: no allowed node list may be given with multi`;
      known[own]?.push(entry);
      continue;
    }
    if (allowedText === undefined || allowedText.startsWith("#")) {
      for (const list of known) list.push(entry);
      continue;
    }
    for (const t of allowedText.split("#")[0]?.split(",").filter((x) => x !== "") ?? []) {
      const n = parseCInteger(t, 10);
      if (n === undefined || n < 0 || n >= numNodes) return `${where}: allowed node "${t}" is not one of the ${numNodes} nodes`;
      known[n]?.push(entry);
    }
  }
  return undefined;
}

export function parseWhatIf(nodestates: string, multi: boolean, env: Record<string, string | undefined>, stdin: string, homeNodes?: readonly HomeNode[]): WhatIfResult {
  const fail = (message: string): WhatIfResult => ({ ok: false, message });
  const flagToks = nodestates.split(",").filter((t) => t !== "");
  const flags: number[] = [];
  for (const t of flagToks) {
    const v = parseCInteger(t, 0);
    if (v === undefined) return fail(`bad node state "${t}" in "${nodestates}"`);
    flags.push(v >>> 0);
  }
  if (flags.length === 0) return fail("no node states given");
  const numNodes = flags.length;

  const algoName = env.CTDB_IP_ALGORITHM;
  const algorithm = algoName === undefined ? IpAllocAlgorithm.LCP2 : ALGORITHMS[algoName];
  if (algorithm === undefined) return fail(`unknown IP algorithm ${algoName} (CTDB_IP_ALGORITHM: lcp2, det or nondet)`);

  let runstates = new Array<number>(numNodes).fill(Runstate.RUNNING);
  if (env.CTDB_TEST_RUNSTATE !== undefined) {
    const r = perNodeValues("CTDB_TEST_RUNSTATE", env.CTDB_TEST_RUNSTATE, numNodes);
    if (typeof r === "string") return fail(r);
    runstates = r;
  }
  const flagOption = (name: string): boolean | string => {
    const t = env[name];
    if (t === undefined) return false;
    const v = parseCInteger(t, 0);
    return v === undefined ? `${name}: "${t}" is not a number` : v !== 0;
  };
  const noIpTakeover = flagOption("CTDB_SET_NoIPTakeover");
  if (typeof noIpTakeover === "string") return fail(noIpTakeover);
  const noIpFailback = flagOption("CTDB_SET_NoIPFailback");
  if (typeof noIpFailback === "string") return fail(noIpFailback);

  const known: ReportedIp[][] = flags.map(() => []);
  const lines = stdin.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.at(-1) === "") lines.pop();
  const at = { i: 0 };
  for (let n = 0; n < (multi ? numNodes : 1); n++) {
    const err = readBlock(lines, at, multi, numNodes, known, n);
    if (err !== undefined) return fail(err);
  }

  const nodes: AllocNode[] = flags.map((f, pnn) => ({ pnn, flags: f, runstate: runstates[pnn] as Runstate }));
  const options: AllocOptions = { algorithm, noIpFailback, noIpTakeover };
  if (homeNodes !== undefined) options.homeNodes = homeNodes;
  return { ok: true, value: { nodes, addresses: mergeNodeLists(known), options } };
}

/** The new map as CTDB's program prints it: `IP PNN` lines in list order. */
export function formatAllocation(map: ReadonlyMap<string, number>): string {
  let out = "";
  for (const [address, pnn] of map) out += `${address} ${pnn}\n`;
  return out;
}
