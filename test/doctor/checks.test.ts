import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkClocks,
  checkEventScripts,
  checkLockExcludes,
  checkLockTiming,
  checkNodesFiles,
  checkPublicAddresses,
  checkSharedKey,
  checkTransportVersions,
  checkTunables,
  diagnose,
  type Facts,
  type Finding,
  type LockFacts,
  type NodeFacts,
} from "../../src/doctor/checks.ts";

const nodesFile = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((address, pnn) => ({ pnn, address, deleted: false }));
const tunables = { MonitorInterval: 15, KeepaliveInterval: 5, KeepaliveLimit: 5 };

function node(pnn: number, over: Partial<NodeFacts> = {}): NodeFacts {
  return {
    pnn,
    address: nodesFile[pnn]!.address,
    nodesFile,
    tunables,
    clock: { offsetMs: 3, rttMs: 2 },
    info: { sharedKey: false, transport: "1.1" },
    ...over,
  };
}

const lock: LockFacts = {
  setting: "/cluster/.ctdb/reclock",
  requireMajority: true,
  probe: { first: "contended" },
  leader: 0,
  recheckSec: 5,
  leaderTimeoutSec: 5,
};

function facts(over: Partial<Facts> = {}): Facts {
  return {
    nodesFilePath: "/etc/ctdb/nodes",
    localNodes: nodesFile,
    configErrors: [],
    lock,
    nodes: [node(0), node(1), node(2)],
    publicAddressesFile: "/etc/ctdb/public_addresses",
    publicAddresses: [{ address: "192.0.2.10", prefix: 24, family: 4, interfaces: ["eth0"] }],
    hostInterfaces: ["lo", "eth0"],
    scriptDir: "/etc/ctdb/events/legacy",
    scripts: [{ file: "10.interface.script", executable: true, interpreter: "/bin/sh", interpreterOk: true }],
    localSharedKey: false,
    tandemConfFile: "/etc/ctdb/tandem.conf",
    ...over,
  };
}

const subjects = (fs: Finding[]) => fs.map((f) => `${f.check} ${f.subject}`);

describe("doctor checks", () => {
  test("a healthy cluster has no findings and is ok", () => {
    assert.deepEqual(diagnose(facts()), { ok: true, findings: [] });
  });

  const lockCases: { name: string; lock: Partial<LockFacts>; want: RegExp | null }[] = [
    { name: "contended while a leader holds it", lock: {}, want: null },
    { name: "held then refused, no leader", lock: { probe: { first: "held", second: "contended" }, leader: undefined }, want: null },
    { name: "held twice", lock: { probe: { first: "held", second: "held" }, leader: undefined }, want: /does not exclude: two processes/ },
    { name: "held although a leader holds it", lock: { probe: { first: "held", second: "contended" }, leader: 2 }, want: /node 2 leads and holds it/ },
    { name: "cannot be taken", lock: { probe: { first: "error", reason: "No such file" } }, want: /could not be taken from this host: No such file/ },
    { name: "no lock, majority required", lock: { setting: undefined, probe: undefined }, want: null },
    { name: "no lock, majority not required", lock: { setting: undefined, probe: undefined, requireMajority: false }, want: /split brain/ },
  ];
  for (const c of lockCases) {
    test(`lock: ${c.name}`, () => {
      const found = checkLockExcludes({ ...lock, ...c.lock });
      if (c.want === null) assert.deepEqual(found, []);
      else {
        assert.equal(found.length, 1);
        assert.match(found[0]!.message, c.want);
      }
    });
  }

  const timingCases: { name: string; recheck: number; leaderTimeout: number; t?: Record<string, number>; want: RegExp | null }[] = [
    { name: "defaults (5 s, 5 s, 25 s)", recheck: 5, leaderTimeout: 5, want: null },
    { name: "recheck longer than the leader timeout", recheck: 10, leaderTimeout: 5, want: /every 10 s, longer than the leader timeout \(5 s\)/ },
    { name: "recheck longer than keepalives", recheck: 10, leaderTimeout: 30, t: { KeepaliveInterval: 2, KeepaliveLimit: 3 }, want: /KeepaliveInterval × KeepaliveLimit \(6 s\)/ },
    { name: "recheck equal to the shorter bound", recheck: 6, leaderTimeout: 30, t: { KeepaliveInterval: 2, KeepaliveLimit: 3 }, want: null },
  ];
  for (const c of timingCases) {
    test(`lock timing: ${c.name}`, () => {
      const found = checkLockTiming({ ...lock, recheckSec: c.recheck, leaderTimeoutSec: c.leaderTimeout }, c.t ?? tunables);
      if (c.want === null) assert.deepEqual(found, []);
      else assert.match(found[0]!.message, c.want);
    });
  }

  test("nodes file: the node whose file differs is named, with the first difference", () => {
    const other = nodesFile.map((n) => (n.pnn === 2 ? { ...n, address: "10.0.0.9" } : n));
    const found = checkNodesFiles(facts({ nodes: [node(0), node(1), node(2, { nodesFile: other })] }));
    assert.deepEqual(subjects(found), ["nodes-file node 2 (10.0.0.3)"]);
    assert.match(found[0]!.message, /node 2 is 10\.0\.0\.9 there and 10\.0\.0\.3 here/);
    const shorter = checkNodesFiles(facts({ nodes: [node(1, { nodesFile: nodesFile.slice(0, 2) })] }));
    assert.match(shorter[0]!.message, /node 2 is missing there/);
    const deleted = checkNodesFiles(facts({ nodes: [node(1, { nodesFile: nodesFile.map((n) => (n.pnn === 1 ? { ...n, deleted: true } : n)) })] }));
    assert.match(deleted[0]!.message, /node 1 is \(deleted\) there/);
  });

  test("tunables: the odd node out is named, with the value the others have", () => {
    const found = checkTunables(facts({ nodes: [node(0), node(1, { tunables: { ...tunables, MonitorInterval: 30 } }), node(2)] }));
    assert.deepEqual(subjects(found), ["tunables node 1 (10.0.0.2)"]);
    assert.match(found[0]!.message, /MonitorInterval is 30 there but 15 on nodes 0, 2; set it everywhere with: tandem setvar --all-nodes MonitorInterval/);
  });

  test("tunables: a tie names the later group; an unreachable node is left out", () => {
    const found = checkTunables(facts({ nodes: [node(0), node(1, { tunables: { ...tunables, MonitorInterval: 30 } }), node(2, { tunables: undefined, unreachable: "x" })] }));
    assert.deepEqual(subjects(found), ["tunables node 1 (10.0.0.2)"]);
  });

  const addressCases: { name: string; addr: Facts["publicAddresses"][number]; want: RegExp | null }[] = [
    { name: "valid", addr: { address: "192.0.2.10", prefix: 24, family: 4, interfaces: ["eth0"] }, want: null },
    { name: "missing interface", addr: { address: "192.0.2.10", prefix: 24, family: 4, interfaces: ["eth7"] }, want: /interface eth7, which this host does not have/ },
    { name: "a node address", addr: { address: "10.0.0.2", prefix: 24, family: 4, interfaces: ["eth0"] }, want: /also a node address/ },
    { name: "host prefix", addr: { address: "2001:db8::5", prefix: 128, family: 6, interfaces: ["eth0"] }, want: /prefix \/128/ },
    { name: "no interface", addr: { address: "192.0.2.10", prefix: 24, family: 4, interfaces: [] }, want: /names no interface/ },
  ];
  for (const c of addressCases) {
    test(`public addresses: ${c.name}`, () => {
      const found = checkPublicAddresses(facts({ publicAddresses: [c.addr] }));
      if (c.want === null) assert.deepEqual(found, []);
      else {
        assert.match(found[0]!.message, c.want);
        assert.match(found[0]!.subject, /^\/etc\/ctdb\/public_addresses: /);
      }
    });
  }

  test("public addresses: a duplicate is named", () => {
    const a = { address: "192.0.2.10", prefix: 24, family: 4 as const, interfaces: ["eth0"] };
    assert.match(checkPublicAddresses(facts({ publicAddresses: [a, a] }))[0]!.message, /more than once/);
  });

  test("event scripts: missing interpreter and missing #! are errors, a disabled script only a note", () => {
    const found = checkEventScripts(
      facts({
        scripts: [
          { file: "01.a.script", executable: true, interpreter: "/usr/bin/nope", interpreterOk: false },
          { file: "02.b.script", executable: true },
          { file: "03.c.script", executable: false },
          { file: "04.d.script", executable: true, interpreter: "/bin/sh", interpreterOk: true },
        ],
      }),
    );
    assert.deepEqual(
      found.map((f) => [f.severity, f.subject]),
      [
        ["error", "/etc/ctdb/events/legacy/01.a.script"],
        ["error", "/etc/ctdb/events/legacy/02.b.script"],
        ["note", "/etc/ctdb/events/legacy/03.c.script"],
      ],
    );
    assert.equal(diagnose(facts({ scripts: [{ file: "03.c.script", executable: false }] })).ok, true);
  });

  const clockCases: { name: string; clock: { offsetMs: number; rttMs: number }; want: RegExp | null }[] = [
    { name: "within a second", clock: { offsetMs: 900, rttMs: 10 }, want: null },
    { name: "ahead", clock: { offsetMs: 2500, rttMs: 10 }, want: /2\.5 s ahead of/ },
    { name: "behind", clock: { offsetMs: -1600, rttMs: 10 }, want: /1\.6 s behind/ },
    { name: "uncertainty from a slow round trip favours the node", clock: { offsetMs: 1100, rttMs: 400 }, want: null },
  ];
  for (const c of clockCases) {
    test(`clocks: ${c.name}`, () => {
      const found = checkClocks(facts({ nodes: [node(0), node(1, { clock: c.clock })] }));
      if (c.want === null) assert.deepEqual(found, []);
      else {
        assert.deepEqual(subjects(found), ["clocks node 1 (10.0.0.2)"]);
        assert.match(found[0]!.message, c.want);
      }
    });
  }

  test("shared key: on some nodes only is named; on all or none is fine", () => {
    const keyed = (pnn: number) => node(pnn, { info: { sharedKey: true, transport: "1.1" } });
    assert.deepEqual(checkSharedKey(facts({ nodes: [keyed(0), keyed(1), keyed(2)] })), []);
    const found = checkSharedKey(facts({ nodes: [keyed(0), node(1), keyed(2)] }));
    assert.equal(found[0]!.subject, "node 1");
    assert.match(found[0]!.message, /has no shared key in tandem.conf while nodes 0, 2 have one/);
  });

  test("versions: different majors are named, different minors are fine", () => {
    const v = (pnn: number, transport: string) => node(pnn, { info: { sharedKey: false, transport } });
    assert.deepEqual(checkTransportVersions(facts({ nodes: [v(0, "1.1"), v(1, "1.0"), v(2, "1.4")] })), []);
    assert.match(checkTransportVersions(facts({ nodes: [v(0, "1.1"), v(1, "2.0"), v(2, "1.1")] }))[0]!.message, /nodes 0, 2 speak 1\.x, node 1 speaks 2\.x/);
  });

  test("an unreachable node is a warning and makes the result not ok", () => {
    const r = diagnose(facts({ nodes: [node(0), { pnn: 1, address: "10.0.0.2", unreachable: "disconnected from this node" }, node(2)] }));
    assert.equal(r.ok, false);
    assert.deepEqual(subjects(r.findings), ["reachable node 1 (10.0.0.2)"]);
    assert.doesNotMatch(r.findings[0]!.message, /shared key/);
    const keyed = diagnose(facts({ localSharedKey: true, nodes: [node(0), { pnn: 1, address: "10.0.0.2", unreachable: "disconnected from this node" }] }));
    assert.match(keyed.findings[0]!.message, /this node has a shared key in \/etc\/ctdb\/tandem.conf: a node without it, or with another, is kept out/);
  });
});
