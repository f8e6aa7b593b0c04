// ip / ipinfo / setifacelink / gratarp / getdebug / setdebug / ban against
// the in-memory daemon, with CTDB's tool test expectations as data.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareAddresses, mergePublicIps, parseDebugLevel } from "../../src/cli/format/ip.ts";
import { fakeState, runWithFake } from "./fake-daemon.ts";

const V4 = [
  { address: "10.0.0.33", pnn: 2 },
  { address: "10.0.0.31", pnn: 0 },
  { address: "10.0.0.32", pnn: 1 },
];

describe("ip (ctdb.ip.00x)", () => {
  it("no addresses", async () => {
    assert.equal((await runWithFake(["ip"], fakeState())).stdout, "Public IPs on node 0\n");
    assert.equal((await runWithFake(["ip", "all"], fakeState())).stdout, "Public IPs on ALL nodes\n");
  });

  it("sorted list with owners; -X; bad argument", async () => {
    const st = () => fakeState({ publicIps: { 0: V4 } });
    assert.equal((await runWithFake(["ip"], st())).stdout, "Public IPs on node 0\n10.0.0.31 0\n10.0.0.32 1\n10.0.0.33 2\n");
    assert.equal((await runWithFake(["-X", "ip"], st())).stdout, "|Public IP|Node|\n|10.0.0.31|0|\n|10.0.0.32|1|\n|10.0.0.33|2|\n");
    const bad = await runWithFake(["ip", "some"], st());
    assert.equal(bad.rc, 1);
    assert.ok(bad.stdout.endsWith("\n  ip              [all]                        show public ips\n"));
  });

  it("all nodes, verbose, with an unassigned address and IPv6", async () => {
    const list = [
      { address: "10.0.0.31", pnn: 0 },
      { address: "fd00::5357:5f01", pnn: 2 },
      { address: "10.0.0.32", pnn: -1 >>> 0 },
      { address: "fd00::5357:5f02", pnn: 1 },
      { address: "10.0.0.33", pnn: 2 },
      { address: "fd00::5357:5f03", pnn: 0 },
    ];
    const st = fakeState({ publicIps: { 0: list, 1: list, 2: list } });
    const r = await runWithFake(["-v", "ip", "all"], st);
    assert.equal(
      r.stdout,
      "Public IPs on ALL nodes\n" +
        "10.0.0.31 node[0] active[eth2] available[eth2,eth1] configured[eth2,eth1]\n" +
        "10.0.0.32 node[-1] active[] available[] configured[]\n" +
        "10.0.0.33 node[2] active[eth2] available[eth2,eth1] configured[eth2,eth1]\n" +
        "fd00::5357:5f01 node[2] active[eth2] available[eth2,eth1] configured[eth2,eth1]\n" +
        "fd00::5357:5f02 node[1] active[eth2] available[eth2,eth1] configured[eth2,eth1]\n" +
        "fd00::5357:5f03 node[0] active[eth2] available[eth2,eth1] configured[eth2,eth1]\n",
    );
    const x = await runWithFake(["-X", "-v", "ip", "all"], fakeState({ publicIps: { 0: list, 1: list, 2: list } }));
    assert.ok(x.stdout.startsWith("|Public IP|Node|ActiveInterfaces|AvailableInterfaces|ConfiguredInterfaces|\n|10.0.0.31|0|eth2|eth2,eth1|eth2,eth1|\n|10.0.0.32|-1||||\n"));
  });

  it("merge: a node's own claim wins, other mentions only add unassigned entries", () => {
    const merged = mergePublicIps([
      { pnn: 0, ips: [{ address: "10.0.0.1", pnn: 1 }, { address: "10.0.0.2", pnn: 0 }] },
      { pnn: 1, ips: [{ address: "10.0.0.1", pnn: 1 }, { address: "10.0.0.3", pnn: 2 }] },
    ]);
    assert.deepEqual(
      merged.sort((a, b) => compareAddresses(a.address, b.address)),
      [
        { address: "10.0.0.1", pnn: 1 },
        { address: "10.0.0.2", pnn: 0 },
        { address: "10.0.0.3", pnn: 0xffffffff },
      ],
    );
    assert.ok(compareAddresses("10.0.0.9", "10.0.0.10") < 0);
    assert.ok(compareAddresses("fd00::1", "10.0.0.1") > 0);
  });
});

describe("ipinfo (ctdb.ipinfo.00x)", () => {
  it("unknown address", async () => {
    const r = await runWithFake(["ipinfo", "10.0.0.31"], fakeState());
    assert.deepEqual([r.rc, r.stdout, r.stderr], [1, "Node 0 does not know about IP 10.0.0.31\n", "Control GET_PUBLIC_IP_INFO failed, ret=-1\n"]);
  });

  it("IPv4 and IPv6 details", async () => {
    const st = fakeState({ publicIps: { 0: [...V4, { address: "fd00::5357:5f02", pnn: 1 }] } });
    assert.equal(
      (await runWithFake(["ipinfo", "10.0.0.32"], st)).stdout,
      "Public IP[10.0.0.32] info on node 0\nIP:10.0.0.32\nCurrentNode:1\nNumInterfaces:2\n" +
        "Interface[1]: Name:eth2 Link:up References:2 (active)\nInterface[2]: Name:eth1 Link:up References:4\n",
    );
    assert.match((await runWithFake(["ipinfo", "fd00::5357:5f02"], st)).stdout, /^Public IP\[fd00::5357:5f02\] info on node 0\n/);
    const bad = await runWithFake(["ipinfo", "10.0.0"], st);
    assert.deepEqual([bad.rc, bad.stderr], [1, "Invalid IP address 10.0.0\n"]);
  });
});

describe("setifacelink (ctdb.setifacelink.00x)", () => {
  it("toggles a link; unknown interface", async () => {
    const st = fakeState({ ifaces: [{ name: "eth2", linkState: 1, references: 2 }, { name: "eth1", linkState: 0, references: 4 }] });
    assert.deepEqual(await runWithFake(["setifacelink", "eth1", "up"], st), { rc: 0, stdout: "", stderr: "" });
    assert.equal((await runWithFake(["ifaces"], st)).stdout, "Interfaces on node 0\nname:eth2 link:up references:2\nname:eth1 link:up references:4\n");
    await runWithFake(["setifacelink", "eth2", "down"], st);
    assert.equal((await runWithFake(["ifaces"], st)).stdout, "Interfaces on node 0\nname:eth2 link:down references:2\nname:eth1 link:up references:4\n");
    const bad = await runWithFake(["setifacelink", "eth0", "down"], st);
    assert.deepEqual([bad.rc, bad.stdout], [1, "Interface eth0 not configured on node 0\n"]);
    const long = await runWithFake(["setifacelink", "a".repeat(17), "down"], st);
    assert.deepEqual([long.rc, long.stderr], [1, `Interface name '${"a".repeat(17)}' too long\n`]);
  });
});

describe("debug level (ctdb.setdebug.00x)", () => {
  it("parses names, prefixes and numbers as CTDB does", () => {
    const cases: [string, number | null][] = [
      ["ERROR", 0],
      ["ERR", 0],
      ["warn", 1],
      ["NOTICE", 3],
      ["INFO", 5],
      ["DEBUG", 10],
      ["0", 0],
      ["2", 2],
      ["10", 10],
      ["42", null],
      ["foobar", null],
    ];
    for (const [s, want] of cases) assert.equal(parseDebugLevel(s), want, s);
  });

  it("setdebug / getdebug round trip and refusals", async () => {
    const st = fakeState();
    for (const [level, name] of [["ERROR", "ERROR"], ["2", "WARNING"], ["4", "NOTICE"], ["7", "INFO"], ["DEBUG", "DEBUG"], ["WARN", "WARNING"]]) {
      assert.deepEqual(await runWithFake(["setdebug", level!], st), { rc: 0, stdout: "", stderr: "" });
      assert.equal((await runWithFake(["getdebug"], st)).stdout, `${name}\n`);
    }
    const bad = await runWithFake(["setdebug", "foobar"], st);
    assert.deepEqual([bad.rc, bad.stderr], [1, "Invalid debug level 'foobar'. Valid levels are:\n\tERROR | WARNING | NOTICE | INFO | DEBUG\n"]);
  });
});

describe("ban / unban / gratarp", () => {
  it("ban then unban", async () => {
    const st = fakeState();
    assert.deepEqual(await runWithFake(["ban", "4"], st), { rc: 0, stdout: "", stderr: "" });
    const n = await runWithFake(["nodestatus", "all"], st);
    assert.equal(n.rc, 8);
    assert.match(n.stdout, /pnn:0 192.168.20.41 {4}BANNED\|INACTIVE \(THIS NODE\)\n/);
    assert.equal((await runWithFake(["ban", "4"], st)).stderr, "Node 0 is already banned\n");
    assert.equal((await runWithFake(["unban"], st)).rc, 0);
    assert.equal((await runWithFake(["nodestatus"], st)).rc, 0);
    assert.equal((await runWithFake(["unban"], st)).stderr, "Node 0 is not banned\n");
    const zero = await runWithFake(["ban", "0"], st);
    assert.deepEqual([zero.rc, zero.stderr], [22, "Ban time cannot be zero\n"]);
  });

  it("gratarp sends the canonical address", async () => {
    const st = fakeState();
    assert.equal((await runWithFake(["gratarp", "FD00::1", "eth0"], st)).rc, 0);
    assert.ok(st.calls.includes("garp:fd00::1:eth0"));
  });
});
