// The connection-tracking core: where tickle lists come from, what is pushed
// to the other nodes, and what a takeover and a release do with them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { tickleList, tickleStart, tickleStep } from "../../src/failover/tickles.ts";
import type { Connection } from "../../src/protocol/types.ts";

const PUB = "198.51.100.1";
const conn = (port: number, addr = PUB): Connection => ({ src: { addr: "198.51.100.254", port }, dst: { addr, port: 445 } });

function configured(hosted: string[] = [PUB]) {
  const s = tickleStart();
  tickleStep(s, { kind: "configure", addresses: [PUB, "2001:db8::1"] });
  tickleStep(s, { kind: "hosting", addresses: hosted });
  return s;
}

test("TCP_CLIENT tracks a connection to a public address and tells every node; others are ignored", () => {
  const s = configured();
  assert.deepEqual(tickleStep(s, { kind: "tcp-client", client: 7, conn: conn(1000) }), {
    status: 0,
    effects: [{ kind: "broadcast", control: "TCP_ADD", conn: conn(1000) }],
  });
  assert.deepEqual(tickleList(s, PUB), [conn(1000)]);
  // A node address, say: success, nothing tracked.
  assert.deepEqual(tickleStep(s, { kind: "tcp-client", client: 7, conn: conn(1001, "192.0.2.10") }), { status: 0, effects: [] });
  assert.deepEqual(tickleList(s, "192.0.2.10"), []);
});

test("TCP_ADD adds once, TCP_ADD_DELAYED_UPDATE marks the list for the next push, TCP_REMOVE removes", () => {
  const s = configured();
  assert.equal(tickleStep(s, { kind: "tcp-add", conn: conn(1), delayedUpdate: false }).status, 0);
  assert.equal(tickleStep(s, { kind: "tcp-add", conn: conn(1), delayedUpdate: false }).status, 0);
  assert.deepEqual(tickleList(s, PUB), [conn(1)]);
  assert.deepEqual(tickleStep(s, { kind: "update-timer" }).effects, [], "a plain TCP_ADD is not pushed again");
  tickleStep(s, { kind: "tcp-add", conn: conn(2), delayedUpdate: true });
  assert.deepEqual(tickleStep(s, { kind: "update-timer" }).effects, [
    { kind: "broadcast", control: "SET_TCP_TICKLE_LIST", address: PUB, conns: [conn(1), conn(2)] },
  ]);
  assert.deepEqual(tickleStep(s, { kind: "update-timer" }).effects, [], "pushed once per change");
  tickleStep(s, { kind: "tcp-remove", conn: conn(1) });
  assert.deepEqual(tickleList(s, PUB), [conn(2)]);
  assert.deepEqual(tickleStep(s, { kind: "update-timer" }).effects, [
    { kind: "broadcast", control: "SET_TCP_TICKLE_LIST", address: PUB, conns: [conn(2)] },
  ]);
  assert.equal(tickleStep(s, { kind: "tcp-add", conn: conn(3, "192.0.2.99"), delayedUpdate: true }).status, -1);
  assert.equal(tickleStep(s, { kind: "tcp-remove", conn: conn(3, "192.0.2.99") }).status, -1);
});

test("only the hosting node pushes its lists, and a pushed list replaces a non-host's", () => {
  const host = configured([PUB]);
  const other = configured([]);
  tickleStep(other, { kind: "tcp-add", conn: conn(9), delayedUpdate: true });
  assert.deepEqual(tickleStep(other, { kind: "update-timer" }).effects, [], "not hosted here: not pushed from here");
  tickleStep(host, { kind: "tcp-add", conn: conn(1), delayedUpdate: true });
  const push = tickleStep(host, { kind: "update-timer" }).effects[0];
  assert.ok(push?.kind === "broadcast" && push.control === "SET_TCP_TICKLE_LIST");
  assert.equal(tickleStep(other, { kind: "set-list", address: PUB, conns: push.conns }).status, 0);
  assert.deepEqual(tickleList(other, PUB), [conn(1)]);
  // The host ignores an echo of its own address's list; an unknown address is status 1.
  assert.equal(tickleStep(host, { kind: "set-list", address: PUB, conns: [] }).status, 0);
  assert.deepEqual(tickleList(host, PUB), [conn(1)]);
  assert.equal(tickleStep(other, { kind: "set-list", address: "192.0.2.99", conns: [] }).status, 1);
});

test("a client going away forgets its connections to hosted addresses only", () => {
  const s = configured([PUB]);
  tickleStep(s, { kind: "tcp-client", client: 1, conn: conn(1) });
  tickleStep(s, { kind: "tcp-client", client: 1, conn: conn(2, "2001:db8::1") });
  tickleStep(s, { kind: "tcp-client", client: 2, conn: conn(3) });
  tickleStep(s, { kind: "client-gone", client: 1 });
  assert.deepEqual(tickleList(s, PUB), [conn(3)]);
  assert.deepEqual(tickleList(s, "2001:db8::1"), [conn(2, "2001:db8::1")], "moved away: the new host still needs it");
});

test("TCP_CLIENT_DISCONNECTED forgets one and tells the others; TCP_CLIENT_PASSED keeps the tickle", () => {
  const s = configured();
  tickleStep(s, { kind: "tcp-client", client: 1, conn: conn(1) });
  tickleStep(s, { kind: "tcp-client", client: 1, conn: conn(2) });
  assert.deepEqual(tickleStep(s, { kind: "client-disconnected", client: 1, conn: conn(1) }).effects, [
    { kind: "broadcast", control: "TCP_REMOVE", conn: conn(1) },
  ]);
  assert.deepEqual(tickleList(s, PUB), [conn(2)]);
  tickleStep(s, { kind: "client-passed", client: 1, conn: conn(2) });
  tickleStep(s, { kind: "client-gone", client: 1 });
  assert.deepEqual(tickleList(s, PUB), [conn(2)], "passed to another process: still tracked");
});

test("a takeover tickles the address's connections and keeps them; a release resets them", () => {
  const s = configured([]);
  tickleStep(s, { kind: "set-list", address: PUB, conns: [conn(1), conn(2)] });
  assert.deepEqual(tickleStep(s, { kind: "taken", address: PUB, iface: "eth0" }).effects, [{ kind: "tickle", conns: [conn(1), conn(2)] }]);
  assert.deepEqual(tickleList(s, PUB), [conn(1), conn(2)], "kept for the next move");
  assert.deepEqual(tickleStep(s, { kind: "update-timer" }).effects, [
    { kind: "broadcast", control: "SET_TCP_TICKLE_LIST", address: PUB, conns: [conn(1), conn(2)] },
  ]);
  assert.deepEqual(tickleStep(s, { kind: "released", address: PUB, iface: "eth0" }).effects, [
    { kind: "kill", iface: "eth0", conns: [conn(1), conn(2)] },
  ]);
  assert.deepEqual(tickleStep(s, { kind: "taken", address: "2001:db8::1", iface: "eth0" }).effects, [], "nothing tracked: nothing sent");
});
