import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  defaultTunables,
  findTunable,
  getTunable,
  listTunableNames,
  parseTunablesFile,
  setTunable,
  TUNABLES,
  tunablesFromWireOrder,
  tunablesToWireOrder,
} from "../../src/config/tunables.ts";

const F = "/etc/ctdb/ctdb.tunables";

// Wire order of struct ctdb_tunable_list with defaults and obsolete flags,
// written out independently from CTDB 4.17's protocol.h and common/tunable.c.
const EXPECTED: [string, number, boolean][] = [
  ["MaxRedirectCount", 3, true],
  ["SeqnumInterval", 1000, false],
  ["ControlTimeout", 60, false],
  ["TraverseTimeout", 20, false],
  ["KeepaliveInterval", 5, false],
  ["KeepaliveLimit", 5, false],
  ["RecoverTimeout", 30, false],
  ["RecoverInterval", 1, false],
  ["ElectionTimeout", 3, false],
  ["TakeoverTimeout", 9, false],
  ["MonitorInterval", 15, false],
  ["TickleUpdateInterval", 20, false],
  ["EventScriptTimeout", 30, false],
  ["MonitorTimeoutCount", 20, false],
  ["EventScriptUnhealthyOnTimeout", 0, true],
  ["RecoveryGracePeriod", 120, false],
  ["RecoveryBanPeriod", 300, false],
  ["DatabaseHashSize", 100001, false],
  ["DatabaseMaxDead", 5, false],
  ["RerecoveryTimeout", 10, false],
  ["EnableBans", 1, false],
  ["DeterministicIPs", 0, true],
  ["ReclockPingPeriod", 60, true],
  ["NoIPFailback", 0, false],
  ["DisableIPFailover", 0, true],
  ["VerboseMemoryNames", 0, false],
  ["RecdPingTimeout", 60, false],
  ["RecdFailCount", 10, false],
  ["LogLatencyMs", 0, false],
  ["RecLockLatencyMs", 1000, false],
  ["RecoveryDropAllIPs", 120, false],
  ["VerifyRecoveryLock", 1, true],
  ["VacuumInterval", 10, false],
  ["VacuumMaxRunTime", 120, false],
  ["RepackLimit", 10000, false],
  ["VacuumLimit", 5000, true],
  ["MaxQueueDropMsg", 1000000, false],
  ["AllowUnhealthyDBRead", 0, false],
  ["StatHistoryInterval", 1, false],
  ["DeferredAttachTO", 120, false],
  ["VacuumFastPathCount", 60, false],
  ["LCP2PublicIPs", 1, true],
  ["AllowClientDBAttach", 1, false],
  ["RecoverPDBBySeqNum", 1, true],
  ["DeferredRebalanceOnNodeAdd", 300, true],
  ["FetchCollapse", 1, false],
  ["HopcountMakeSticky", 50, false],
  ["StickyDuration", 600, false],
  ["StickyPindown", 200, false],
  ["NoIPTakeover", 0, false],
  ["DBRecordCountWarn", 100000, false],
  ["DBRecordSizeWarn", 10000000, false],
  ["DBSizeWarn", 100000000, false],
  ["PullDBPreallocation", 10485760, false],
  ["NoIPHostOnAllDisabled", 1, true],
  ["Samba3AvoidDeadlocks", 0, true],
  ["TDBMutexEnabled", 1, true],
  ["LockProcessesPerDB", 200, false],
  ["RecBufferSizeLimit", 1000000, false],
  ["QueueBufferSize", 1024, false],
  ["IPAllocAlgorithm", 2, false],
  ["AllowMixedVersions", 0, false],
];

describe("tunables table", () => {
  it("62 tunables in wire order with CTDB's defaults and obsolete flags", () => {
    assert.equal(TUNABLES.length, 62);
    assert.deepEqual(
      TUNABLES.map((t) => [t.name, t.defaultValue, t.obsolete]),
      EXPECTED,
    );
  });
  it("every default lies within its range", () => {
    for (const t of TUNABLES) assert.ok(t.min <= t.defaultValue && t.defaultValue <= t.max, t.name);
  });
  it("defaults and wire order", () => {
    const d = defaultTunables();
    assert.equal(Object.keys(d).length, 62);
    for (const [name, value] of EXPECTED) assert.equal(d[name], value, name);
    assert.deepEqual(tunablesToWireOrder(d), EXPECTED.map((e) => e[1]));
    assert.deepEqual(tunablesFromWireOrder(tunablesToWireOrder(d)), d);
    const changed = tunablesToWireOrder({ ...d, LCP2PublicIPs: 0, AllowMixedVersions: 1 });
    assert.equal(changed[41], 0);
    assert.equal(changed[61], 1);
  });
  it("listing: non-obsolete names in CTDB's table order", () => {
    const names = listTunableNames();
    assert.equal(names.length, 62 - 13);
    assert.deepEqual(names, [
      "SeqnumInterval", "ControlTimeout", "TraverseTimeout", "KeepaliveInterval", "KeepaliveLimit", "RecoverTimeout",
      "RecoverInterval", "ElectionTimeout", "TakeoverTimeout", "MonitorInterval", "TickleUpdateInterval",
      "EventScriptTimeout", "MonitorTimeoutCount", "RecoveryGracePeriod", "RecoveryBanPeriod", "DatabaseHashSize",
      "DatabaseMaxDead", "RerecoveryTimeout", "EnableBans", "NoIPFailback", "VerboseMemoryNames", "RecdPingTimeout",
      "RecdFailCount", "LogLatencyMs", "RecLockLatencyMs", "RecoveryDropAllIPs", "VacuumInterval", "VacuumMaxRunTime",
      "RepackLimit", "VacuumFastPathCount", "MaxQueueDropMsg", "AllowUnhealthyDBRead", "StatHistoryInterval",
      "DeferredAttachTO", "AllowClientDBAttach", "FetchCollapse", "HopcountMakeSticky", "StickyDuration",
      "StickyPindown", "NoIPTakeover", "DBRecordCountWarn", "DBRecordSizeWarn", "DBSizeWarn", "PullDBPreallocation",
      "LockProcessesPerDB", "RecBufferSizeLimit", "QueueBufferSize", "IPAllocAlgorithm", "AllowMixedVersions",
    ]);
    assert.ok(names.every((n) => !(findTunable(n)?.obsolete ?? true)));
    // table order differs from wire order: VacuumFastPathCount comes right after RepackLimit
    const i = names.indexOf("RepackLimit");
    assert.deepEqual(names.slice(i, i + 3), ["RepackLimit", "VacuumFastPathCount", "MaxQueueDropMsg"]);
    assert.equal(names[0], "SeqnumInterval");
    assert.equal(names.at(-1), "AllowMixedVersions");
  });
  it("ranges: booleans, IPAllocAlgorithm, periods that must be positive", () => {
    assert.deepEqual([findTunable("EnableBans")?.min, findTunable("EnableBans")?.max], [0, 1]);
    assert.deepEqual([findTunable("IPAllocAlgorithm")?.min, findTunable("IPAllocAlgorithm")?.max], [0, 2]);
    for (const n of ["KeepaliveInterval", "MonitorInterval", "RecoverInterval", "EventScriptTimeout"]) {
      assert.equal(findTunable(n)?.min, 1, n);
    }
    assert.equal(findTunable("VacuumInterval")?.min, 0);
    assert.equal(findTunable("DBSizeWarn")?.max, 0xffffffff);
  });
});

describe("setTunable", () => {
  const d = defaultTunables();
  it("case-insensitive name, stored under the canonical name", () => {
    const r = setTunable(d, "monitorinterval", 30);
    assert.ok(r.ok);
    if (r.ok) {
      assert.equal(r.tunables.MonitorInterval, 30);
      assert.equal(getTunable(r.tunables, "MONITORINTERVAL"), 30);
      assert.equal(d.MonitorInterval, 15, "input not modified");
    }
  });
  it("unknown name: status -1", () => {
    assert.deepEqual(setTunable(d, "NoSuchThing", 1), { ok: false, status: -1, reason: "No such tunable NoSuchThing" });
    assert.equal(getTunable(d, "NoSuchThing"), undefined);
  });
  it("obsolete name: status 1, value still stored as CTDB does", () => {
    const r = setTunable(d, "VerifyRecoveryLock", 0);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.status, 1);
      assert.match(r.reason, /obsolete tunable variable 'VerifyRecoveryLock'/);
      assert.equal(r.tunables?.VerifyRecoveryLock, 0);
    }
  });
  const refused: [string, number][] = [
    ["EnableBans", 2],
    ["IPAllocAlgorithm", 3],
    ["KeepaliveInterval", 0],
    ["MonitorInterval", 0],
    ["RecoverInterval", 0],
    ["EventScriptTimeout", 0],
    ["DBSizeWarn", 2 ** 32],
    ["SeqnumInterval", -1],
    ["SeqnumInterval", 1.5],
  ];
  for (const [name, value] of refused) {
    it(`refuses ${name}=${value}`, () => {
      const r = setTunable(d, name, value);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.status, -1);
    });
  }
  it("accepts range limits", () => {
    assert.ok(setTunable(d, "DBSizeWarn", 0xffffffff).ok);
    assert.ok(setTunable(d, "VacuumInterval", 0).ok);
    assert.ok(setTunable(d, "IPAllocAlgorithm", 0).ok);
  });
});

describe("ctdb.tunables file", () => {
  it("NAME=VALUE lines, any case, comments, blanks, C number notation", () => {
    const r = parseTunablesFile("# comment\n\nMonitorInterval=20\n  recoverinterval = 2\n; x\nDBSizeWarn=0x10\nRepackLimit=010\nVacuumInterval=0\n", F);
    assert.deepEqual(r, {
      ok: true,
      value: { MonitorInterval: 20, RecoverInterval: 2, DBSizeWarn: 16, RepackLimit: 8, VacuumInterval: 0 },
    });
  });
  it("Debian's shipped file parses (if installed)", (t) => {
    if (!existsSync(F)) return t.skip("no /etc/ctdb/ctdb.tunables");
    assert.deepEqual(parseTunablesFile(readFileSync(F, "utf8"), F), { ok: true, value: {} });
  });
  const bad: [string, string, number, RegExp][] = [
    ["section", "[x]\n", 1, /sections not supported/],
    ["no '='", "\nMonitorInterval\n", 2, /Invalid line containing "MonitorInterval"/],
    ["empty value", "MonitorInterval=\n", 1, /Invalid line/],
    ["trailing garbage", "MonitorInterval=20s\n", 1, /Invalid value "20s"/],
    ["negative", "MonitorInterval=-1\n", 1, /Invalid value "-1"/],
    ["too large", "DBSizeWarn=4294967296\n", 1, /Invalid value/],
    ["unknown", "# c\nFooBar=1\n", 2, /Unknown tunable "FooBar"/],
    ["obsolete", "VerifyRecoveryLock=0\n", 1, /Obsolete tunable "VerifyRecoveryLock"/],
    ["out of range", "EnableBans=2\n", 1, /out of range/],
    ["zero interval", "KeepaliveInterval=0\n", 1, /out of range/],
    ["empty name", "=5\n", 1, /missing key/],
  ];
  for (const [name, text, line, match] of bad) {
    it(`refuses ${name}, naming file and line`, () => {
      const r = parseTunablesFile(text, F);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1);
      assert.deepEqual([r.errors[0]?.file, r.errors[0]?.line], [F, line]);
      assert.match(r.errors[0]?.message ?? "", match);
    });
  }
  it("reports every bad line", () => {
    const r = parseTunablesFile("A=1\nMonitorInterval=x\nEnableBans=1\nB\n", F);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors.map((e) => e.line), [1, 2, 4]);
  });
});

describe("tunables agree with the installed ctdb-tunables(7)", () => {
  it("the documented tunables are exactly the non-obsolete ones", (t) => {
    const r = spawnSync("sh", ["-c", "MANWIDTH=120 man 7 ctdb-tunables 2>/dev/null | col -b"], { encoding: "utf8", timeout: 20000 });
    const documented = (r.stdout ?? "")
      .split("\n")
      .filter((l) => /^ {3}[A-Z][A-Za-z0-9]+\s*$/.test(l))
      .map((l) => l.trim());
    if (documented.length === 0) return t.skip("man page not available");
    assert.deepEqual([...documented].sort(), [...listTunableNames()].sort());
  });
});
