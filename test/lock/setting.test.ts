import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeHelperStatus, describeHelperByte, identityChange, parseClusterLockSetting } from "../../src/lock/setting.ts";

test("parseClusterLockSetting: files, helpers and bad settings", () => {
  const table: [string, ReturnType<typeof parseClusterLockSetting>][] = [
    ["/shared/.ctdb/reclock", { kind: "file", path: "/shared/.ctdb/reclock" }],
    ["relative/lock", { kind: "file", path: "relative/lock" }],
    ["/path with space/lock", { kind: "file", path: "/path with space/lock" }],
    ["!/usr/local/bin/myhelper cluster", { kind: "helper", argv: ["/usr/local/bin/myhelper", "cluster"] }],
    // runs of spaces and tabs separate, leading/trailing ones vanish, no quoting
    ["! /bin/h  a\t\tb \t\"c d\" ", { kind: "helper", argv: ["/bin/h", "a", "b", '"c', 'd"'] }],
    ["!ctdb_mutex_fcntl_helper /x/lock 1", { kind: "helper", argv: ["/usr/libexec/ctdb/ctdb_mutex_fcntl_helper", "/x/lock", "1"] }],
    ["!./local-helper", { kind: "helper", argv: ["./local-helper"] }],
    ["!", { kind: "invalid", reason: 'mutex helper command is empty in cluster lock setting "!"' }],
    ["! \t ", { kind: "invalid", reason: 'mutex helper command is empty in cluster lock setting "! \t "' }],
    ["", { kind: "invalid", reason: "cluster lock setting is empty" }],
    ["   ", { kind: "invalid", reason: "cluster lock setting is empty" }],
    ["/a\0b", { kind: "invalid", reason: "cluster lock file name contains a NUL byte" }],
  ];
  for (const [setting, want] of table) {
    assert.deepEqual(parseClusterLockSetting(setting), want, JSON.stringify(setting));
  }
});

test("parseClusterLockSetting: bare helper names use the given bindir", () => {
  assert.deepEqual(parseClusterLockSetting("!h x", "/opt/ctdb/helpers/"), { kind: "helper", argv: ["/opt/ctdb/helpers/h", "x"] });
});

test("decodeHelperStatus follows the helper protocol", () => {
  const table: [number | undefined, string][] = [
    [0x30, "held"],
    [0x31, "contended"],
    [0x32, "timeout"],
    [0x33, "error"],
    [0x34, "error"],
    [0x0a, "error"],
    [undefined, "error"],
  ];
  for (const [byte, want] of table) assert.equal(decodeHelperStatus(byte), want, String(byte));
  assert.equal(describeHelperByte(0x33), "status '3'");
  assert.equal(describeHelperByte(0x0a), "status byte 0x0a");
  assert.equal(describeHelperByte(undefined), "no status (end of output)");
});

test("identityChange compares device and inode", () => {
  assert.equal(identityChange({ dev: 1n, ino: 2n }, { dev: 1, ino: 2 }), null);
  assert.equal(identityChange({ dev: 1n, ino: 2n }, { dev: 1n, ino: 3n }), "was replaced (inode changed)");
  assert.equal(identityChange({ dev: 1n, ino: 2n }, { dev: 9n, ino: 2n }), "is now on a different device");
});
