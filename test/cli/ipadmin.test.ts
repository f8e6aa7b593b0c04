// addip / delip / moveip against the in-memory daemon.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAddressMask } from "../../src/cli/commands/ipadmin.ts";
import { fakeState, runWithFake } from "./fake-daemon.ts";

describe("address/mask", () => {
  it("parses as ctdb does", () => {
    assert.deepEqual(parseAddressMask("10.0.0.5/24"), { address: "10.0.0.5", mask: 24 });
    assert.deepEqual(parseAddressMask("FD00::5/64"), { address: "fd00::5", mask: 64 });
    assert.equal(parseAddressMask("10.0.0.5"), null);
    assert.equal(parseAddressMask("10.0.0.5/24x"), null);
    assert.equal(parseAddressMask("10.0.0/24"), null);
  });
});

describe("addip / delip / moveip", () => {
  it("addip adds and asks the leader to rebalance; known address is a no-op", async () => {
    const st = fakeState();
    assert.deepEqual(await runWithFake(["addip", "10.0.0.5/24", "eth0"], st), { rc: 0, stdout: "", stderr: "" });
    assert.ok(st.calls.includes("addip:10.0.0.5/24:eth0"));
    assert.ok(st.calls.includes("rebalance-node:0"));
    assert.deepEqual(await runWithFake(["addip", "10.0.0.5/24", "eth0"], st), { rc: 0, stdout: "", stderr: "Node already knows about IP 10.0.0.5\n" });
    const bad = await runWithFake(["addip", "10.0.0.5", "eth0"], st);
    assert.deepEqual([bad.rc, bad.stderr], [1, "Invalid IP/Mask 10.0.0.5\n"]);
  });

  it("delip removes; unknown address is a no-op", async () => {
    const st = fakeState({ publicIps: { 0: [{ address: "10.0.0.5", pnn: 0 }] } });
    assert.deepEqual(await runWithFake(["delip", "10.0.0.5"], st), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(st.publicIps[0], []);
    assert.deepEqual(await runWithFake(["delip", "10.0.0.5"], st), { rc: 0, stdout: "", stderr: "Node does not know about IP address 10.0.0.5\n" });
  });

  it("moveip releases on the other active nodes and takes over on the target", async () => {
    const list = () => [{ address: "10.0.0.5", pnn: 0 }];
    const st = fakeState({
      nodes: [
        { pnn: 0, address: "192.168.20.41", flags: 0 },
        { pnn: 1, address: "192.168.20.42", flags: 0 },
        { pnn: 2, address: "192.168.20.43", flags: 0x20 },
      ],
      publicIps: { 0: list(), 1: list(), 2: list() },
    });
    assert.deepEqual(await runWithFake(["-t", "7", "moveip", "10.0.0.5", "1"], st), { rc: 0, stdout: "", stderr: "" });
    assert.ok(st.calls.includes("disable-ip-check:14"));
    assert.ok(st.calls.includes("release:0:10.0.0.5:1"));
    assert.ok(!st.calls.some((c) => c.startsWith("release:1:") || c.startsWith("release:2:")));
    assert.equal(st.publicIps[1]![0]!.pnn, 1);
    const bad = await runWithFake(["moveip", "10.0.0.5", "x"], st);
    assert.deepEqual([bad.rc, bad.stderr], [1, "Invalid PNN x\n"]);
  });
});

describe("reloadips", () => {
  it("holds takeover runs on connected nodes, reloads active chosen ones, then reallocates", async () => {
    const st = fakeState({
      nodes: [
        { pnn: 0, address: "192.168.20.41", flags: 0 },
        { pnn: 1, address: "192.168.20.42", flags: 0x20 },
        { pnn: 2, address: "192.168.20.43", flags: 0x1 },
      ],
    });
    assert.deepEqual(await runWithFake(["reloadips", "all"], st), { rc: 0, stdout: "", stderr: "" });
    assert.deepEqual(
      st.calls.filter((c) => /^(disable-takeover-runs|reloadPublicIps|takeoverRun)/.test(c)),
      ["disable-takeover-runs:0,1:20", "reloadPublicIps:0", "disable-takeover-runs:0,1:0", "takeoverRun"],
    );
    const one = fakeState();
    assert.equal((await runWithFake(["reloadips", "1"], one)).rc, 0);
    assert.ok(one.calls.includes("reloadPublicIps:1") && !one.calls.includes("reloadPublicIps:0"));
    const bad = await runWithFake(["reloadips", "9"], fakeState());
    assert.deepEqual([bad.rc, bad.stderr], [1, "Node 9 does not exist\n"]);
  });
});
