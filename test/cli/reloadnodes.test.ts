// reloadnodes with the scenarios and combined output of CTDB's
// ctdb.reloadnodes.0xx tool tests, as data.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NodeEntry } from "../../src/cli/format/nodemap.ts";
import { fakeState, runWithFake } from "./fake-daemon.ts";

const A = ["192.168.20.41", "192.168.20.42", "192.168.20.43", "192.168.20.44", "192.168.20.45", "192.168.20.46"];

interface Case {
  name: string;
  file: string;
  flags: number[];
  current?: number;
  /** Nodes file served by node 1, when it differs (null: the control fails). */
  node1File?: NodeEntry[] | null;
  rc: number;
  output: string;
  reloads: boolean;
}

const cases: Case[] = [
  { name: "001 no change", file: `${A[0]}\n${A[1]}\n${A[2]}\n`, flags: [0, 0, 0], rc: 0, output: "No change in nodes file, skipping unnecessary reload\n", reloads: false },
  {
    name: "002 inconsistent file on 1",
    file: `${A[0]}\n${A[1]}\n${A[2]}\n`,
    flags: [0, 0, 0],
    node1File: [
      { pnn: 0, address: A[0]!, flags: 0 },
      { pnn: 1, address: "0.0.0.0", flags: 0x10 },
      { pnn: 2, address: A[2]!, flags: 0 },
    ],
    rc: 1,
    output: "ERROR: Nodes file on node 1 differs from current node (0)\n",
    reloads: false,
  },
  {
    name: "003 missing file on 1",
    file: `${A[0]}\n${A[1]}\n${A[2]}\n`,
    flags: [0, 0, 0],
    node1File: null,
    rc: 1,
    output: "Control GET_NODES_FILE failed, ret=-1\nERROR: Failed to get nodes file from node 1\n",
    reloads: false,
  },
  { name: "011 add a node", file: `${A.slice(0, 4).join("\n")}\n`, flags: [0, 0, 0], rc: 0, output: "Node 3 is NEW\n", reloads: true },
  { name: "012 delete last node", file: `${A[0]}\n${A[1]}\n#${A[2]}\n`, flags: [0, 0, 1], rc: 0, output: "Node 2 is DELETED\n", reloads: true },
  {
    name: "013 delete connected last node",
    file: `${A[0]}\n${A[1]}\n#${A[2]}\n`,
    flags: [0, 0, 0],
    rc: 1,
    output: "Node 2 is DELETED\nERROR: Node 2 is still connected\nERROR: Nodes will not be reloaded due to previous error\n",
    reloads: false,
  },
  { name: "014 delete first node", file: `#${A[0]}\n${A[1]}\n${A[2]}\n`, flags: [1, 0, 0], current: 2, rc: 0, output: "Node 0 is DELETED\n", reloads: true },
  {
    name: "015 delete connected first node",
    file: `#${A[0]}\n${A[1]}\n${A[2]}\n`,
    flags: [0, 0, 0],
    current: 2,
    rc: 1,
    output: "Node 0 is DELETED\nERROR: Node 0 is still connected\nERROR: Nodes will not be reloaded due to previous error\n",
    reloads: false,
  },
  { name: "016 delete middle node", file: `${A[0]}\n#${A[1]}\n${A[2]}\n`, flags: [0, 1, 0], rc: 0, output: "Node 1 is DELETED\n", reloads: true },
  { name: "018 add 3 nodes", file: `${A.join("\n")}\n`, flags: [0, 0, 0], rc: 0, output: "Node 3 is NEW\nNode 4 is NEW\nNode 5 is NEW\n", reloads: true },
  {
    name: "019 delete middle, add 2",
    file: `${A[0]}\n#${A[1]}\n${A[2]}\n${A[3]}\n${A[4]}\n`,
    flags: [0, 1, 0],
    rc: 0,
    output: "Node 1 is DELETED\nNode 3 is NEW\nNode 4 is NEW\n",
    reloads: true,
  },
  {
    name: "021 one disconnected, add a node",
    file: `${A.slice(0, 4).join("\n")}\n`,
    flags: [0, 1, 0],
    rc: 0,
    output: "WARNING: Node 1 is disconnected. You MUST fix this node manually!\nNode 3 is NEW\n",
    reloads: true,
  },
  { name: "023 undelete middle", file: `${A[0]}\n${A[1]}\n${A[2]}\n`, flags: [0, 0x11, 0], rc: 0, output: "Node 1 is UNDELETED\n", reloads: true },
  {
    name: "024 middle node remains deleted",
    file: `${A[0]}\n#${A[1]}\n${A[2]}\n`,
    flags: [0, 0x11, 0],
    rc: 0,
    output: "No change in nodes file, skipping unnecessary reload\n",
    reloads: false,
  },
  {
    name: "changed address",
    file: `${A[0]}\n${A[5]}\n${A[2]}\n`,
    flags: [0, 0, 0],
    rc: 1,
    output: `Node 1 has changed IP address (was ${A[1]}, now ${A[5]})\nERROR: Nodes will not be reloaded due to previous error\n`,
    reloads: false,
  },
];

describe("reloadnodes (ctdb.reloadnodes.0xx)", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tandem-cli-reloadnodes-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(c.name, async () => {
      writeFileSync(join(dir, "nodes"), c.file);
      // The daemons serve the file as parsed, unless the case says otherwise.
      const fileNodes: NodeEntry[] = c.file
        .trim()
        .split("\n")
        .map((line, pnn) => (line.startsWith("#") ? { pnn, address: "0.0.0.0", flags: 0x10 } : { pnn, address: line, flags: 0 }));
      const nodes = c.flags.map((flags, pnn) => ({ pnn, address: (flags & 0x10) !== 0 ? "0.0.0.0" : A[pnn]!, flags }));
      const nodesFiles: Record<number, NodeEntry[] | null> = {};
      for (const n of nodes) nodesFiles[n.pnn] = fileNodes;
      if (c.node1File !== undefined) nodesFiles[1] = c.node1File;
      const st = fakeState({ pnn: c.current ?? 0, nodes, nodesFiles });
      const r = await runWithFake(["reloadnodes"], st, { CTDB_BASE: dir });
      assert.equal(r.both, c.output);
      assert.equal(r.rc, c.rc);
      assert.equal(st.calls.some((x) => x.startsWith("reloadNodesFile:")), c.reloads);
      if (c.reloads) {
        const connected = nodes.filter((n) => (n.flags & 1) === 0).map((n) => n.pnn).join(",");
        assert.ok(st.calls.includes(`disable-recoveries:${connected}:20`));
        assert.ok(st.calls.includes(`disable-recoveries:${connected}:0`));
      }
    });
  }
});
