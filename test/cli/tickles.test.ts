// gettickles / addtickle / deltickle against the in-memory daemon, and the
// address:port and connection-list parsers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConnectionList } from "../../src/cli/commands/tickles.ts";
import { formatIpWithPort, parseCtdbAddressWithPort } from "../../src/cli/ipaddr.ts";
import { fakeState, runWithFake } from "./fake-daemon.ts";

describe("address:port", () => {
  const cases: [string, { address: string; port: number } | null][] = [
    ["10.0.0.1:445", { address: "10.0.0.1", port: 445 }],
    ["[fd00::1]:80", { address: "fd00::1", port: 80 }],
    ["fd00::1:80", { address: "fd00::1", port: 80 }],
    ["10.0.0.1", null],
    ["10.0.0.1:", null],
    ["10.0.0.1:80x", null],
    ["10.0.0.1:-1", null],
    ["10.0.0:80", null],
  ];
  for (const [text, want] of cases) it(text, () => assert.deepEqual(parseCtdbAddressWithPort(text), want));
  it("prints IPv6 with brackets", () => {
    assert.equal(formatIpWithPort("fd00::1", 80), "[fd00::1]:80");
    assert.equal(formatIpWithPort("10.0.0.1", 80), "10.0.0.1:80");
  });
  it("connection lists", () => {
    assert.deepEqual(parseConnectionList("# c\n\n10.0.0.1:445 10.0.0.9:1000\n"), [
      { src: { address: "10.0.0.1", port: 445 }, dst: { address: "10.0.0.9", port: 1000 } },
    ]);
    assert.equal(parseConnectionList("10.0.0.1:445\n"), null);
    assert.equal(parseConnectionList("10.0.0.1:445 [fd00::1]:5\n"), null);
  });
});

describe("tickle commands", () => {
  it("add, list (plain and -X), delete", async () => {
    const st = fakeState();
    assert.deepEqual(await runWithFake(["addtickle", "10.0.0.1:445", "10.0.0.9:1000"], st), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(await runWithFake(["addtickle", "10.0.0.1:445", "10.0.0.8:1001"], st), { rc: 0, stdout: "", stderr: "" });
    assert.equal(
      (await runWithFake(["gettickles", "10.0.0.1"], st)).stdout,
      "Connections for IP: 10.0.0.1\nNum connections: 2\nSRC: 10.0.0.1:445   DST: 10.0.0.9:1000\nSRC: 10.0.0.1:445   DST: 10.0.0.8:1001\n",
    );
    assert.equal(
      (await runWithFake(["-X", "gettickles", "10.0.0.1", "445"], st)).stdout,
      "|Source IP|Port|Destiation IP|Port|\n|10.0.0.1|445|10.0.0.9|1000|\n|10.0.0.1|445|10.0.0.8|1001|\n",
    );
    assert.equal((await runWithFake(["deltickle", "10.0.0.1:445", "10.0.0.9:1000"], st)).rc, 0);
    assert.match((await runWithFake(["gettickles", "10.0.0.1"], st)).stdout, /Num connections: 1\n/);
  });

  it("lists from standard input, counting failures", async () => {
    const st = fakeState({ refuseTickles: ["10.0.0.7"] });
    const ok = await runWithFake(["addtickle"], st, {}, "10.0.0.1:445 10.0.0.9:1000\n10.0.0.1:445 10.0.0.8:1000\n");
    assert.deepEqual(ok, { rc: 0, stdout: "", stderr: "" });
    assert.equal(st.tickles.length, 2);
    const bad = await runWithFake(["addtickle"], st, {}, "10.0.0.1:445 10.0.0.7:1\n10.0.0.1:445 10.0.0.7:2\n10.0.0.1:445 10.0.0.6:3\n");
    assert.deepEqual(bad, { rc: 1, stdout: "", stderr: "Failed to add 2 tickles\n" });
    assert.equal((await runWithFake(["deltickle"], st, {}, "10.0.0.1:445 10.0.0.9:1000\n")).rc, 0);
    assert.equal(st.tickles.length, 2);
    assert.equal((await runWithFake(["addtickle"], st, {}, "garbage\n")).rc, 22);
    assert.equal((await runWithFake(["addtickle"], st, {}, "")).rc, 0);
  });

  it("bad arguments", async () => {
    const st = fakeState();
    assert.deepEqual((await runWithFake(["addtickle", "10.0.0.1", "10.0.0.9:1000"], st)).stderr, "Invalid IP address 10.0.0.1\n");
    assert.equal((await runWithFake(["gettickles", "x"], st)).stderr, "Invalid IP address x\n");
    assert.equal((await runWithFake(["gettickles", "10.0.0.1", "x"], st)).rc, 22);
    assert.equal((await runWithFake(["deltickle", "10.0.0.1:1"], st)).rc, 1);
  });
});
