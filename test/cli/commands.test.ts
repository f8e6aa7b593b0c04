// main() end to end against an in-memory daemon, with the scenarios and
// expected outputs of CTDB's own tool tests (tests/UNIT/tool/ctdb.*.sh)
// written here as data.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeState, runWithFake } from "./fake-daemon.ts";

const HEADER = "|Node|IP|Disconnected|Unknown|Banned|Disabled|Unhealthy|Stopped|Inactive|PartiallyOnline|ThisNode|\n";

describe("status (ctdb.status.00x)", () => {
  it("all ok, 3 nodes", async () => {
    const st = fakeState();
    const r = await runWithFake(["status"], st);
    assert.equal(r.rc, 0);
    assert.equal(r.stderr, "");
    assert.equal(
      r.stdout,
      "Number of nodes:3\n" +
        "pnn:0 192.168.20.41    OK (THIS NODE)\n" +
        "pnn:1 192.168.20.42    OK\n" +
        "pnn:2 192.168.20.43    OK\n" +
        "Generation:654321\nSize:3\nhash:0 lmaster:0\nhash:1 lmaster:1\nhash:2 lmaster:2\n" +
        "Recovery mode:NORMAL (0)\nLeader:0\n",
    );
    const x = await runWithFake(["-X", "status"], fakeState());
    assert.equal(
      x.stdout,
      HEADER +
        "|0|192.168.20.41|0|0|0|0|0|0|0|0|Y|\n|1|192.168.20.42|0|0|0|0|0|0|0|0|N|\n|2|192.168.20.43|0|0|0|0|0|0|0|0|N|\n",
    );
  });

  it("one unhealthy, this node 1, leader 1", async () => {
    const mk = () =>
      fakeState({
        pnn: 1,
        leader: 1,
        nodes: [
          { pnn: 0, address: "192.168.20.41", flags: 0x2 },
          { pnn: 1, address: "192.168.20.42", flags: 0 },
          { pnn: 2, address: "192.168.20.43", flags: 0 },
        ],
      });
    const r = await runWithFake(["status"], mk());
    assert.equal(
      r.stdout,
      "Number of nodes:3\npnn:0 192.168.20.41    UNHEALTHY\npnn:1 192.168.20.42    OK (THIS NODE)\npnn:2 192.168.20.43    OK\n" +
        "Generation:654321\nSize:3\nhash:0 lmaster:0\nhash:1 lmaster:1\nhash:2 lmaster:2\nRecovery mode:NORMAL (0)\nLeader:1\n",
    );
    const x = await runWithFake(["-X", "status"], mk());
    assert.equal(
      x.stdout,
      HEADER +
        "|0|192.168.20.41|0|0|0|0|1|0|0|0|N|\n|1|192.168.20.42|0|0|0|0|0|0|0|0|Y|\n|2|192.168.20.43|0|0|0|0|0|0|0|0|N|\n",
    );
  });

  it("runstate FIRST_RECOVERY hides other nodes as UNKNOWN", async () => {
    const mk = () =>
      fakeState({
        pnn: 1,
        leader: 1,
        runstate: 3,
        nodes: [
          { pnn: 0, address: "192.168.20.41", flags: 0x2 },
          { pnn: 1, address: "192.168.20.42", flags: 0 },
          { pnn: 2, address: "192.168.20.43", flags: 0 },
        ],
      });
    const r = await runWithFake(["status"], mk());
    assert.match(r.stdout, /^Number of nodes:3\npnn:0 192.168.20.41 {4}UNKNOWN\npnn:1 192.168.20.42 {4}OK \(THIS NODE\)\npnn:2 192.168.20.43 {4}UNKNOWN\n/);
    const x = await runWithFake(["-X", "status"], mk());
    assert.equal(
      x.stdout,
      HEADER +
        "|0|192.168.20.41|0|1|0|0|0|0|0|0|N|\n|1|192.168.20.42|0|0|0|0|0|0|0|0|Y|\n|2|192.168.20.43|0|1|0|0|0|0|0|0|N|\n",
    );
  });

  it("-Y uses '|' as CTDB 4.17 does, -x changes the separator", async () => {
    const y = await runWithFake(["-Y", "status"], fakeState());
    assert.ok(y.stdout.startsWith(HEADER));
    const x = await runWithFake(["-x", ":", "-Y", "status"], fakeState());
    assert.ok(x.stdout.startsWith(":Node:IP:Disconnected:"));
    // -x alone does not switch machine-readable output on.
    const plain = await runWithFake(["-x", ":", "status"], fakeState());
    assert.ok(plain.stdout.startsWith("Number of nodes:3\n"));
  });

  it("a link down on a flag-free node shows PARTIALLYONLINE", async () => {
    const st = fakeState({ ifaces: [{ name: "eth0", linkState: 0, references: 1 }, { name: "eth1", linkState: 1, references: 1 }] });
    const r = await runWithFake(["status"], st);
    assert.match(r.stdout, /pnn:0 192.168.20.41 {4}PARTIALLYONLINE \(THIS NODE\)\n/);
    const x = await runWithFake(["-X", "status"], fakeState({ ifaces: [{ name: "eth0", linkState: 0, references: 1 }] }));
    assert.match(x.stdout, /\|0\|192.168.20.41\|0\|0\|0\|0\|0\|0\|0\|1\|Y\|\n/);
  });

  it("deleted nodes are counted but not listed; INVALID generation; RECOVERY mode; no leader", async () => {
    const st = fakeState({
      nodes: [
        { pnn: 0, address: "192.168.20.41", flags: 0 },
        { pnn: 1, address: "0.0.0.0", flags: 0x10 },
        { pnn: 2, address: "192.168.20.43", flags: 0x1 },
      ],
      generation: 1,
      vnnmap: [0],
      recmode: 1,
      leader: 0xffffffff,
    });
    const r = await runWithFake(["status"], st);
    assert.equal(
      r.stdout,
      "Number of nodes:3 (including 1 deleted nodes)\npnn:0 192.168.20.41    OK (THIS NODE)\npnn:2 192.168.20.43    DISCONNECTED|INACTIVE\n" +
        "Generation:INVALID\nSize:1\nhash:0 lmaster:0\nRecovery mode:RECOVERY (1)\nLeader:UNKNOWN\n",
    );
  });

  it("extra arguments print the command usage and exit 1", async () => {
    const r = await runWithFake(["status", "x"], fakeState());
    assert.equal(r.rc, 1);
    assert.match(r.stdout, /\nCommands:\n {2}status {39}show node status\n$/);
  });

  it("--json gives one JSON document", async () => {
    const r = await runWithFake(["--json", "status"], fakeState({ leader: 2 }));
    const j = JSON.parse(r.stdout);
    assert.equal(j.leader, 2);
    assert.equal(j.nodes.length, 3);
    assert.equal(j.nodes[0].thisNode, true);
    assert.equal(j.recoveryMode, "NORMAL");
  });
});

describe("nodestatus (ctdb.nodestatus.00x)", () => {
  const three = (f0: number, f1: number, f2: number) =>
    fakeState({
      pnn: 2,
      leader: 2,
      nodes: [
        { pnn: 0, address: "192.168.20.41", flags: f0 },
        { pnn: 1, address: "192.168.20.42", flags: f1 },
        { pnn: 2, address: "192.168.20.43", flags: f2 },
      ],
    });

  it("all OK", async () => {
    const r = await runWithFake(["nodestatus", "all"], three(0, 0, 0));
    assert.equal(r.rc, 0);
    assert.equal(r.stdout, "Number of nodes:3\npnn:0 192.168.20.41    OK\npnn:1 192.168.20.42    OK\npnn:2 192.168.20.43    OK (THIS NODE)\n");
  });

  it("one disconnected exits 1", async () => {
    const r = await runWithFake(["nodestatus", "all"], three(0, 1, 0));
    assert.equal(r.rc, 1);
    assert.equal(r.stdout, "Number of nodes:3\npnn:0 192.168.20.41    OK\npnn:1 192.168.20.42    DISCONNECTED|INACTIVE\npnn:2 192.168.20.43    OK (THIS NODE)\n");
    const x = await runWithFake(["-X", "nodestatus", "all"], three(0, 1, 0));
    assert.equal(x.rc, 1);
    assert.equal(x.stdout, HEADER + "|0|192.168.20.41|0|0|0|0|0|0|0|0|N|\n|1|192.168.20.42|1|0|0|0|0|0|1|0|N|\n|2|192.168.20.43|0|0|0|0|0|0|0|0|Y|\n");
  });

  it("current node only, and a queried unhealthy node", async () => {
    const r = await runWithFake(["nodestatus"], three(2, 0, 0));
    assert.equal(r.rc, 0);
    assert.equal(r.stdout, "pnn:2 192.168.20.43    OK (THIS NODE)\n");
    const q = await runWithFake(["nodestatus", "0"], three(2, 0, 0));
    assert.equal(q.rc, 2);
    assert.equal(q.stdout, "pnn:0 192.168.20.41    UNHEALTHY\n");
    const qx = await runWithFake(["-X", "nodestatus", "0"], three(2, 0, 0));
    assert.equal(qx.stdout, HEADER + "|0|192.168.20.41|0|0|0|0|1|0|0|0|N|\n");
  });

  it("disabled+stopped node, lists of nodes", async () => {
    const a = await runWithFake(["nodestatus", "0"], three(0x24, 0, 0));
    assert.equal(a.rc, 36);
    assert.equal(a.stdout, "pnn:0 192.168.20.41    DISABLED|STOPPED|INACTIVE\n");
    const b = await runWithFake(["nodestatus", "0,1"], three(0x24, 0, 0));
    assert.equal(b.rc, 36);
    assert.equal(b.stdout, "pnn:0 192.168.20.41    DISABLED|STOPPED|INACTIVE\npnn:1 192.168.20.42    OK\n");
    const c = await runWithFake(["nodestatus", "1,2"], three(0x24, 0, 0));
    assert.equal(c.rc, 0);
    assert.equal(c.stdout, "pnn:1 192.168.20.42    OK\npnn:2 192.168.20.43    OK (THIS NODE)\n");
  });

  it("runstate INIT: others UNKNOWN, exit 64", async () => {
    const st = three(2, 0, 0);
    st.runstate = 1;
    const r = await runWithFake(["nodestatus", "all"], st);
    assert.equal(r.rc, 64);
    assert.equal(r.stdout, "Number of nodes:3\npnn:0 192.168.20.41    UNKNOWN\npnn:1 192.168.20.42    UNKNOWN\npnn:2 192.168.20.43    OK (THIS NODE)\n");
  });

  it("bad node lists", async () => {
    const a = await runWithFake(["nodestatus", "7"], three(0, 0, 0));
    assert.deepEqual([a.rc, a.stdout, a.stderr], [1, "", "Node 7 does not exist\n"]);
    const b = await runWithFake(["nodestatus", "x"], three(0, 0, 0));
    assert.deepEqual([b.rc, b.stdout, b.stderr], [1, "", "Invalid node x\n"]);
    const c = await runWithFake(["nodestatus", "-1"], three(0, 0, 0));
    assert.equal(c.stderr, "Invalid option -1: unknown option\n");
  });
});

describe("node flag commands (ctdb.disable/enable/stop/continue)", () => {
  it("disable the current node, then nodestatus shows DISABLED", async () => {
    const st = fakeState();
    const r = await runWithFake(["disable"], st);
    assert.deepEqual([r.rc, r.stdout, r.stderr], [0, "", ""]);
    assert.ok(st.calls.includes("disableNode:0"));
    assert.ok(st.calls.includes("takeoverRun"), "asks for a takeover run afterwards");
    const n = await runWithFake(["nodestatus", "all"], st);
    assert.equal(n.rc, 4);
    assert.equal(n.stdout, "Number of nodes:3\npnn:0 192.168.20.41    DISABLED (THIS NODE)\npnn:1 192.168.20.42    OK\npnn:2 192.168.20.43    OK\n");
  });

  it("disable -n 1; already disabled; invalid node", async () => {
    const st = fakeState();
    assert.equal((await runWithFake(["-n", "1", "disable"], st)).rc, 0);
    assert.equal(st.nodes[1]!.flags, 4);
    const again = await runWithFake(["-n", "1", "disable"], st);
    assert.deepEqual([again.rc, again.stdout, again.stderr], [0, "", "Node 1 is already disabled\n"]);
    const bad = await runWithFake(["-n", "4", "disable"], st);
    assert.deepEqual([bad.rc, bad.stderr], [1, "Node 4 does not exist\n"]);
  });

  it("enable, stop, continue and their no-op messages", async () => {
    const st = fakeState({ nodes: [{ pnn: 0, address: "192.168.20.41", flags: 4 }, { pnn: 1, address: "192.168.20.42", flags: 0 }, { pnn: 2, address: "192.168.20.43", flags: 0x20 }] });
    assert.equal((await runWithFake(["enable"], st)).rc, 0);
    assert.equal(st.nodes[0]!.flags, 0);
    assert.equal((await runWithFake(["-n", "1", "enable"], st)).stderr, "Node 1 is not disabled\n");
    assert.equal((await runWithFake(["-n", "2", "stop"], st)).stderr, "Node 2 is already stopped\n");
    assert.equal((await runWithFake(["-n", "1", "continue"], st)).stderr, "Node 1 is not stopped\n");
    assert.equal((await runWithFake(["-n", "1", "stop"], st)).rc, 0);
    const n = await runWithFake(["nodestatus", "all"], st);
    assert.equal(n.rc, 32);
    assert.match(n.stdout, /pnn:1 192.168.20.42 {4}STOPPED\|INACTIVE\n/);
  });

  it("-n naming a disconnected node is refused", async () => {
    const st = fakeState({ nodes: [{ pnn: 0, address: "192.168.20.41", flags: 0 }, { pnn: 1, address: "192.168.20.42", flags: 1 }] });
    const r = await runWithFake(["-n", "1", "disable"], st);
    assert.deepEqual([r.rc, r.stderr], [1, "Node 1 has status DISCONNECTED|INACTIVE\n"]);
  });
});

describe("single-value commands", () => {
  it("pnn, leader, getpid, runstate", async () => {
    assert.equal((await runWithFake(["pnn"], fakeState())).stdout, "0\n");
    assert.equal((await runWithFake(["leader"], fakeState({ leader: 2 }))).stdout, "2\n");
    assert.equal((await runWithFake(["leader"], fakeState({ leader: 0xffffffff }))).stdout, "UNKNOWN\n");
    assert.equal((await runWithFake(["getpid"], fakeState({ pid: 31337 }))).stdout, "31337\n");
    assert.equal((await runWithFake(["runstate"], fakeState())).stdout, "RUNNING\n");
    assert.equal((await runWithFake(["runstate", "RUNNING"], fakeState())).stdout, "RUNNING\n");
    assert.equal((await runWithFake(["runstate", "STARTUP", "RUNNING"], fakeState())).stdout, "RUNNING\n");
    for (const s of ["INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "SHUTDOWN"]) {
      const r = await runWithFake(["runstate", s], fakeState());
      assert.deepEqual([r.rc, r.stdout], [1, "CTDB not in required run state (got RUNNING)\n"]);
    }
    const inv = await runWithFake(["runstate", "foobar"], fakeState());
    assert.deepEqual([inv.rc, inv.stdout], [1, "Invalid run state (foobar)\n"]);
  });

  it("pnn refuses -n for another node", async () => {
    const r = await runWithFake(["-n", "1", "pnn"], fakeState());
    assert.deepEqual([r.rc, r.stderr], [1, "Node cannot be specified for command pnn\n"]);
    assert.equal((await runWithFake(["-n", "0", "pnn"], fakeState())).stdout, "0\n");
  });

  it("getcapabilities, per node and machine-readable", async () => {
    const st = () => fakeState({ capabilities: { 1: 0x30001, 2: 0x30002 } });
    assert.equal((await runWithFake(["getcapabilities"], st())).stdout, "LEADER: YES\nLMASTER: YES\n");
    assert.equal((await runWithFake(["-n", "1", "getcapabilities"], st())).stdout, "LEADER: YES\nLMASTER: NO\n");
    assert.equal((await runWithFake(["-n", "2", "getcapabilities"], st())).stdout, "LEADER: NO\nLMASTER: YES\n");
    assert.equal((await runWithFake(["-X", "getcapabilities"], st())).stdout, "|LEADER|LMASTER|\n|1|1|\n");
  });

  it("getreclock prints nothing without a lock, the setting otherwise", async () => {
    assert.equal((await runWithFake(["getreclock"], fakeState())).stdout, "");
    const r = await runWithFake(["getreclock"], fakeState({ reclock: "/some/place/on/shared/storage" }));
    assert.equal(r.stdout, "/some/place/on/shared/storage\n");
  });

  it("ping and uptime shapes", async () => {
    const p = await runWithFake(["ping"], fakeState());
    assert.match(p.stdout, /^response from 0 time=[0-9]+\.[0-9]{6} sec {2}\(1 clients\)\n$/);
    const u = await runWithFake(["uptime"], fakeState(), { TZ: "UTC" });
    assert.match(
      u.stdout,
      /^Current time of node 0 {8}: {16}[A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]+ [0-9:]{8} [0-9]+\nCtdbd start time {14}: \(000 00:01:40\) .*\nTime of last recovery\/failover: \(000 00:00:49\) .*\nDuration of last recovery\/failover: 1\.500000 seconds\n$/,
    );
  });

  it("ifaces", async () => {
    assert.equal((await runWithFake(["ifaces"], fakeState())).stdout, "Interfaces on node 0\nname:eth2 link:up references:2\nname:eth1 link:up references:4\n");
    assert.equal((await runWithFake(["-X", "ifaces"], fakeState())).stdout, "|Name|LinkStatus|References|\n|eth2|1|2|\n|eth1|1|4|\n");
    assert.equal((await runWithFake(["ifaces"], fakeState({ ifaces: [] }))).stdout, "No interfaces configured on node 0\n");
  });

  it("a control that times out logs like ctdb and exits ETIMEDOUT", async () => {
    const r = await runWithFake(["getpid"], fakeState({ timeouts: new Set(["getPid"]) }));
    assert.deepEqual([r.rc, r.stdout, r.stderr], [110, "", "Control GET_PID failed to node 0, ret=110\n"]);
  });
});

describe("tunables (ctdb.getvar/setvar/listvars)", () => {
  it("listvars prints name = value padded to 26", async () => {
    const r = await runWithFake(["listvars"], fakeState());
    assert.equal(
      r.stdout,
      "SeqnumInterval             = 1000\nControlTimeout             = 60\nKeepaliveInterval          = 5\nRecoverInterval            = 1\nAllowMixedVersions         = 0\n",
    );
  });

  it("getvar matches case-insensitively and echoes the name as given", async () => {
    assert.equal((await runWithFake(["getvar", "RECOVERINTERVAL"], fakeState())).stdout, "RECOVERINTERVAL            = 1\n");
    const bad = await runWithFake(["getvar", "TheQuickBrownFoxJumpsOverTheLazyDog"], fakeState());
    assert.deepEqual([bad.rc, bad.stdout], [1, "No such tunable TheQuickBrownFoxJumpsOverTheLazyDog\n"]);
  });

  it("setvar changes the value; bad names, bad values, obsolete tunables", async () => {
    const st = fakeState({ obsoleteTunables: ["ControlTimeout"] });
    const ok = await runWithFake(["setvar", "recoverinterval", "7"], st);
    assert.deepEqual([ok.rc, ok.stdout, ok.stderr], [0, "", ""]);
    assert.equal((await runWithFake(["getvar", "RecoverInterval"], st)).stdout, "RecoverInterval            = 7\n");
    const bad = await runWithFake(["setvar", "TheQuickBrownFoxJumpsOverTheLazyDog", "42"], st);
    assert.deepEqual([bad.rc, bad.stdout], [1, "No such tunable TheQuickBrownFoxJumpsOverTheLazyDog\n"]);
    const nan = await runWithFake(["setvar", "RecoverInterval", "abc"], st);
    assert.deepEqual([nan.rc, nan.stdout, nan.stderr], [22, "", ""]);
    const hex = await runWithFake(["setvar", "RecoverInterval", "0x10"], st);
    assert.equal(hex.rc, 0);
    assert.equal((await runWithFake(["getvar", "RecoverInterval"], st)).stdout, "RecoverInterval            = 16\n");
    const obs = await runWithFake(["setvar", "ControlTimeout", "5"], st);
    assert.deepEqual([obs.rc, obs.stderr], [0, "Control SET_TUNABLE failed, ret=1\nSetting obsolete tunable variable 'ControlTimeout'\n"]);
    const usage = await runWithFake(["setvar", "RecoverInterval"], st);
    assert.equal(usage.rc, 1);
    assert.match(usage.stdout, / {2}setvar {10}<name> <value> {15}set a tunable variable\n$/);
  });
});

describe("connection failure", () => {
  it("prints ctdb's messages and exits 1", async () => {
    const r = await runWithFake(["status"], null, { CTDB_SOCKET: "/x/ctdbd.socket", CTDB_BASE: "/nonexistent-base" });
    assert.equal(r.rc, 1);
    assert.equal(
      r.stderr,
      'connect() failed, errno=2\nFailed to connect to CTDB daemon (/x/ctdbd.socket)\nFailed to read nodes file "/nonexistent-base/nodes"\nIs this node part of CTDB cluster?\n',
    );
  });
});
