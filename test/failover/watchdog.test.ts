// The address watchdog's bookkeeping, and reading /proc/net/tcp{,6}.
import assert from "node:assert/strict";
import { test } from "node:test";
import { watchdogAtEof, watchdogLeaseExpired, watchdogLine, watchdogStart } from "../../src/failover/watchdog.ts";
import { parseProcNetTcp } from "../../src/net/proc-tcp.ts";

test("the watchdog removes at EOF what is hosted then, nothing after a goodbye", () => {
  const s = watchdogStart();
  assert.equal(watchdogLine(s, "host 198.51.100.1 24 eth0"), undefined);
  assert.equal(watchdogLine(s, "host 2001:db8::1 64 eth1"), undefined);
  assert.equal(watchdogLine(s, "host 198.51.100.2 24 eth0"), undefined);
  assert.equal(watchdogLine(s, "release 198.51.100.2"), undefined);
  assert.equal(watchdogLine(s, ""), undefined);
  assert.deepEqual(watchdogAtEof(s), [
    { address: "198.51.100.1", prefix: 24, iface: "eth0" },
    { address: "2001:db8::1", prefix: 64, iface: "eth1" },
  ]);
  assert.equal(watchdogLine(s, "exit"), undefined);
  assert.deepEqual(watchdogAtEof(s), []);
});

test("a lease not renewed in time takes the addresses off once; renewed, nothing happens", () => {
  const s = watchdogStart();
  watchdogLine(s, "host 198.51.100.1 24 eth0", 0);
  assert.deepEqual(watchdogLeaseExpired(s, 10_000), [], "no lease yet: only death is caught");
  assert.equal(watchdogLine(s, "lease 1500", 1000), undefined);
  assert.deepEqual(watchdogLeaseExpired(s, 2400), []);
  watchdogLine(s, "lease 1500", 2400);
  assert.deepEqual(watchdogLeaseExpired(s, 3800), [], "renewed at 2400: good until 3900");
  assert.deepEqual(watchdogLeaseExpired(s, 3900), [{ address: "198.51.100.1", prefix: 24, iface: "eth0" }]);
  assert.deepEqual(watchdogLeaseExpired(s, 4000), [], "removed once");
  assert.deepEqual(watchdogAtEof(s), [], "nothing left for EOF either");
});

test("after a goodbye an old lease removes nothing", () => {
  const s = watchdogStart();
  watchdogLine(s, "host 198.51.100.1 24 eth0", 0);
  watchdogLine(s, "lease 100", 0);
  watchdogLine(s, "exit", 50);
  assert.deepEqual(watchdogLeaseExpired(s, 1000), []);
});

test("malformed watchdog lines are named and change nothing", () => {
  const s = watchdogStart();
  for (const bad of ["host 198.51.100.1 eth0", "host 198.51.100.1 x eth0", "host 198.51.100.1 24 eth0 extra", "release", "drop 1.2.3.4", "exit now", "lease", "lease -5", "lease 1.5"]) {
    assert.match(watchdogLine(s, bad) ?? "", /malformed line/, bad);
  }
  assert.deepEqual(watchdogAtEof(s), []);
});

test("established connections from /proc/net/tcp and tcp6", () => {
  const v4 = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:612F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2421256 1 0 100 0 0 10 0",
    "   1: 016433C6:01BD FE6433C6:C350 01 00000000:00000000 00:00000000 00000000     0        0 2421257 1 0 20 4 30 10 -1",
    "   2: garbage",
  ].join("\n");
  assert.deepEqual(parseProcNetTcp(v4), [{ local: { address: "198.51.100.1", port: 445 }, remote: { address: "198.51.100.254", port: 50000 } }]);
  const v6 = [
    "  sl  local_address                         remote_address                        st tx_queue",
    "   0: B80D0120000000000000000001000000:0801 B80D01200000000000000000FE000000:0321 01 00000000:00000000",
    "   1: 0000000000000000FFFF0000016433C6:01BD 0000000000000000FFFF0000FE6433C6:C350 01 00000000:00000000",
    "   2: 00000000000000000000000000000000:0801 00000000000000000000000000000000:0000 0A 00000000:00000000",
  ].join("\n");
  assert.deepEqual(parseProcNetTcp(v6), [
    { local: { address: "2001:db8::1", port: 2049 }, remote: { address: "2001:db8::fe", port: 801 } },
    { local: { address: "198.51.100.1", port: 445 }, remote: { address: "198.51.100.254", port: 50000 } },
  ]);
});
