import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type CtdbConf,
  ctdbConfOptions,
  ctdbConfValue,
  defaultCtdbConf,
  parseCtdbConf,
  parseCtdbConfDetailed,
} from "../../src/config/ctdb-conf.ts";
import { parseIpLiteral } from "../../src/net/ip.ts";
import { resolvePaths } from "../../src/config/paths.ts";
import { formatConfigError } from "../../src/config/result.ts";
import { haveCtdbConfig, realCtdbConfig, removeDir, tempDir } from "./real-ctdb.ts";

const F = "/etc/ctdb/ctdb.conf";

function parsed(text: string): CtdbConf {
  const r = parseCtdbConf(text, F);
  assert.ok(r.ok, r.ok ? "" : r.errors.map(formatConfigError).join("\n"));
  return r.value;
}

describe("ctdb.conf defaults", () => {
  it("every option of CTDB 4.17 with its daemon default", () => {
    const opts = ctdbConfOptions().map((o) => [o.section, o.key, o.type, o.defaultValue]);
    assert.deepEqual(opts, [
      ["logging", "location", "string", "file:/var/log/ctdb/log.ctdb"],
      ["logging", "log level", "string", "NOTICE"],
      ["cluster", "transport", "string", "tcp"],
      ["cluster", "node address", "string", undefined],
      ["cluster", "cluster lock", "string", undefined],
      ["cluster", "recovery lock", "string", undefined],
      ["cluster", "leader timeout", "integer", 5],
      ["cluster", "leader capability", "boolean", true],
      ["database", "volatile database directory", "string", "/var/lib/ctdb/volatile"],
      ["database", "persistent database directory", "string", "/var/lib/ctdb/persistent"],
      ["database", "state database directory", "string", "/var/lib/ctdb/state"],
      ["database", "lock debug script", "string", undefined],
      ["database", "tdb mutexes", "boolean", true],
      ["event", "debug script", "string", undefined],
      ["failover", "disabled", "boolean", false],
      ["legacy", "realtime scheduling", "boolean", true],
      ["legacy", "lmaster capability", "boolean", true],
      ["legacy", "start as stopped", "boolean", false],
      ["legacy", "start as disabled", "boolean", false],
      ["legacy", "script log level", "string", "ERROR"],
    ]);
  });

  it("defaultCtdbConf matches the option table and an empty file", () => {
    const d = defaultCtdbConf();
    assert.deepEqual(d, {
      logging: { location: "file:/var/log/ctdb/log.ctdb", logLevel: "NOTICE" },
      cluster: { transport: "tcp", nodeAddress: undefined, clusterLock: undefined, leaderTimeoutSec: 5, leaderCapability: true },
      database: {
        volatileDir: "/var/lib/ctdb/volatile",
        persistentDir: "/var/lib/ctdb/persistent",
        stateDir: "/var/lib/ctdb/state",
        lockDebugScript: undefined,
        tdbMutexes: true,
      },
      event: { debugScript: undefined },
      failover: { disabled: false },
      legacy: { realtimeScheduling: true, lmasterCapability: true, startAsStopped: false, startAsDisabled: false, scriptLogLevel: "ERROR" },
    });
    for (const o of ctdbConfOptions()) {
      if (o.key === "recovery lock") continue;
      assert.equal(ctdbConfValue(d, o.section, o.key), o.defaultValue, `${o.section}/${o.key}`);
    }
    assert.deepEqual(parsed(""), d);
  });

  it("test mode moves default directories and the log under CTDB_BASE", () => {
    const paths = resolvePaths({ CTDB_BASE: "/tmp/n1", CTDB_TEST_MODE: "yes" });
    const d = defaultCtdbConf(paths);
    assert.equal(d.database.volatileDir, "/tmp/n1/var/volatile");
    assert.equal(d.database.persistentDir, "/tmp/n1/var/persistent");
    assert.equal(d.database.stateDir, "/tmp/n1/var/state");
    assert.equal(d.logging.location, "file:/tmp/n1/log.ctdb");
    const r = parseCtdbConf("[database]\nstate database directory = /s\n", F, { paths });
    assert.ok(r.ok);
    if (r.ok) {
      assert.equal(r.value.database.volatileDir, "/tmp/n1/var/volatile");
      assert.equal(r.value.database.stateDir, "/s");
    }
    // without test mode CTDB_BASE does not move them
    assert.equal(defaultCtdbConf(resolvePaths({ CTDB_BASE: "/tmp/n1" })).database.volatileDir, "/var/lib/ctdb/volatile");
  });

  it("tools' log level default can be chosen (ctdb-config uses ERROR)", () => {
    assert.equal(defaultCtdbConf(undefined, { defaultLogLevel: "ERROR" }).logging.logLevel, "ERROR");
  });
});

describe("ctdb.conf: good input", () => {
  it("every option set to a non-default value", () => {
    const c = parsed(
      [
        "[logging]",
        "location = syslog:udp-rfc5424",
        "log level = DEBUG",
        "[cluster]",
        "transport = tcp",
        "node address = fd00::1",
        "cluster lock = !/usr/libexec/ctdb/ctdb_mutex_fcntl_helper /shared/.lock",
        "leader timeout = 11",
        "leader capability = no",
        "[database]",
        "volatile database directory = /v",
        "persistent database directory = /p",
        "state database directory = /s",
        "lock debug script = debug_locks.sh",
        "tdb mutexes = false",
        "[event]",
        "debug script = debug-hung-script.sh",
        "[failover]",
        "disabled = yes",
        "[legacy]",
        "realtime scheduling = false",
        "lmaster capability = FALSE",
        "start as stopped = True",
        "start as disabled = YES",
        "script log level = NOTICE",
      ].join("\n"),
    );
    assert.deepEqual(c, {
      logging: { location: "syslog:udp-rfc5424", logLevel: "DEBUG" },
      cluster: {
        transport: "tcp",
        nodeAddress: "fd00::1",
        clusterLock: "!/usr/libexec/ctdb/ctdb_mutex_fcntl_helper /shared/.lock",
        leaderTimeoutSec: 11,
        leaderCapability: false,
      },
      database: { volatileDir: "/v", persistentDir: "/p", stateDir: "/s", lockDebugScript: "debug_locks.sh", tdbMutexes: false },
      event: { debugScript: "debug-hung-script.sh" },
      failover: { disabled: true },
      legacy: { realtimeScheduling: false, lmasterCapability: false, startAsStopped: true, startAsDisabled: true, scriptLogLevel: "NOTICE" },
    });
  });

  const valueCases: { text: string; get: (c: CtdbConf) => unknown; want: unknown }[] = [
    { text: "[cluster]\nleader timeout = 0x10", get: (c) => c.cluster.leaderTimeoutSec, want: 16 },
    { text: "[cluster]\nleader timeout = 010", get: (c) => c.cluster.leaderTimeoutSec, want: 8 },
    { text: "[cluster]\nleader timeout = 12abc", get: (c) => c.cluster.leaderTimeoutSec, want: 12 },
    { text: "[cluster]\nleader timeout = 2147483647", get: (c) => c.cluster.leaderTimeoutSec, want: 2147483647 },
    { text: "[CLUSTER]\nleader timeout = 9", get: (c) => c.cluster.leaderTimeoutSec, want: 9 },
    { text: "[cluster]\nleader timeout = 9\nleader timeout = 4", get: (c) => c.cluster.leaderTimeoutSec, want: 4 },
    { text: "[cluster]\nleader capability = No", get: (c) => c.cluster.leaderCapability, want: false },
    { text: "[logging]\nlog level = warn", get: (c) => c.logging.logLevel, want: "warn" },
    { text: "[logging]\nlog level = 10", get: (c) => c.logging.logLevel, want: "10" },
    { text: "[logging]\nlocation = file:", get: (c) => c.logging.location, want: "file:" },
    { text: "[logging]\nlocation = syslog:nonblocking", get: (c) => c.logging.location, want: "syslog:nonblocking" },
    { text: "[cluster]\nnode address = ::ffff:10.0.0.1", get: (c) => c.cluster.nodeAddress, want: "10.0.0.1" },
    { text: "[cluster]\nnode address = FD00:0::1", get: (c) => c.cluster.nodeAddress, want: "fd00::1" },
    { text: "[cluster]\nrecovery lock = /r", get: (c) => c.cluster.clusterLock, want: "/r" },
    { text: "[cluster]\nrecovery lock = /r\ncluster lock = /c", get: (c) => c.cluster.clusterLock, want: "/c" },
    {
      text: "[cluster]\nleader timeout = 9\n[logging]\nlog level = INFO\n[cluster]\nleader capability = false",
      get: (c) => [c.cluster.leaderTimeoutSec, c.cluster.leaderCapability, c.logging.logLevel],
      want: [9, false, "INFO"],
    },
  ];
  for (const c of valueCases) {
    it(JSON.stringify(c.text), () => assert.deepEqual(c.get(parsed(c.text)), c.want));
  }

  it("recovery lock is deprecated: a warning with its line", () => {
    const r = parseCtdbConfDetailed("[cluster]\n\nrecovery lock = /r\n", F);
    assert.ok(r.ok);
    if (r.ok) {
      assert.equal(r.value.warnings.length, 1);
      assert.equal(r.value.warnings[0]?.line, 3);
      assert.match(r.value.warnings[0]?.message ?? "", /deprecated/);
    }
  });

  it("filesystem checks requested for non-default dirs, scripts and log file", () => {
    const paths = resolvePaths({ CTDB_BASE: "/b", CTDB_TEST_MODE: "1" });
    const r = parseCtdbConfDetailed(
      "[logging]\nlocation = file:/logs/ctdb.log\n[database]\nvolatile database directory = /v\npersistent database directory = /b/var/persistent\nlock debug script = /somewhere/debug_locks.sh\n[event]\ndebug script = hung.sh\n",
      F,
      { paths },
    );
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual(
      r.value.checks.map((c) => [c.kind, c.path, c.line]),
      [
        ["directory", "/logs", 2],
        ["directory", "/v", 4],
        ["executable-file", "/b/debug_locks.sh", 6],
        ["executable-file", "/b/hung.sh", 8],
      ],
    );
  });

  it("ignoreUnknown skips unknown sections and options, like ctdbd", () => {
    const r = parseCtdbConf("[future]\nx = 1\n[cluster]\nnodes list = /x\nleader timeout = 3\n", F, { ignoreUnknown: true });
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.value.cluster.leaderTimeoutSec, 3);
  });
});

describe("ctdb.conf: bad input names file, line and reason", () => {
  const cases: { name: string; text: string; line: number; match: RegExp }[] = [
    { name: "unknown section", text: "[foo]\nbar = 1\n", line: 1, match: /unknown section \[foo\]/ },
    { name: "unknown option", text: "[cluster]\n\nnodes = 3\n", line: 3, match: /unknown option \[cluster\] -> "nodes"/ },
    { name: "option names are case-sensitive", text: "[cluster]\nLeader Timeout = 3\n", line: 2, match: /case-sensitive: "leader timeout"/ },
    { name: "option before any section", text: "leader timeout = 3\n", line: 1, match: /before any \[section\]/ },
    { name: "empty value", text: "[cluster]\nleader timeout =\n", line: 2, match: /empty value/ },
    { name: "boolean on", text: "[failover]\ndisabled = on\n", line: 2, match: /invalid value .*"on".*true, false, yes or no/ },
    { name: "boolean 1", text: "[legacy]\nstart as stopped = 1\n", line: 2, match: /invalid value/ },
    { name: "negative integer", text: "[cluster]\nleader timeout = -1\n", line: 2, match: /invalid value/ },
    { name: "integer too large", text: "[cluster]\nleader timeout = 99999999999\n", line: 2, match: /invalid value/ },
    { name: "leader timeout 0", text: "[cluster]\nleader timeout = 0\n", line: 2, match: /leader timeout 0/ },
    { name: "leader timeout without digits", text: "[cluster]\nleader timeout = abc\n", line: 2, match: /leader timeout 0/ },
    { name: "transport ib", text: "[cluster]\ntransport = ib\n", line: 2, match: /transport "ib"/ },
    { name: "transport is case-sensitive", text: "[cluster]\ntransport = TCP\n", line: 2, match: /transport "TCP"/ },
    { name: "node address host name", text: "[cluster]\nnode address = node1\n", line: 2, match: /node address "node1"/ },
    { name: "node address with zone", text: "[cluster]\nnode address = fe80::1%eth0\n", line: 2, match: /node address/ },
    { name: "log level 11", text: "[logging]\nlog level = 11\n", line: 2, match: /log level "11"/ },
    { name: "log level not a prefix", text: "[logging]\nlog level = notices\n", line: 2, match: /log level "notices"/ },
    { name: "script log level", text: "[legacy]\nscript log level = LOUD\n", line: 2, match: /script log level "LOUD"/ },
    { name: "location backend", text: "[logging]\nlocation = SYSLOG\n", line: 2, match: /invalid location/ },
    { name: "syslog method", text: "[logging]\nlocation = syslog:foo\n", line: 2, match: /invalid location/ },
    { name: "malformed line", text: "[cluster]\ncluster lock /x\n", line: 2, match: /key = value/ },
    { name: "section without ]", text: "[cluster\n", line: 1, match: /closing/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseCtdbConf(c.text, F);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1, r.errors.map(formatConfigError).join("\n"));
      assert.equal(r.errors[0]?.file, F);
      assert.equal(r.errors[0]?.line, c.line);
      assert.match(r.errors[0]?.message ?? "", c.match);
    });
  }

  it("all errors of a file are reported", () => {
    const r = parseCtdbConf("[cluster]\nleader timeout = 0\nfoo = 1\n[legacy]\nstart as stopped = maybe\nbad line\n", F);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors.map((e) => e.line).sort(), [2, 3, 5, 6]);
  });

  it("a value equal to the default is not re-checked (as CTDB)", () => {
    // CTDB skips validation when the value equals the current one.
    const r = parseCtdbConfDetailed("[database]\nvolatile database directory = /var/lib/ctdb/volatile\n", F);
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual(r.value.checks, []);
  });
});

describe("ctdb.conf: Debian's shipped file", () => {
  it("parses (if installed)", (t) => {
    if (!existsSync("/etc/ctdb/ctdb.conf")) return t.skip("no /etc/ctdb/ctdb.conf");
    const c = parsed(readFileSync("/etc/ctdb/ctdb.conf", "utf8"));
    assert.equal(c.logging.location, "syslog");
    assert.equal(c.logging.logLevel, "NOTICE");
    assert.equal(c.cluster.clusterLock, undefined);
  });
});

describe("ctdb.conf: agrees with the real ctdb-config", { skip: !haveCtdbConfig && "ctdb-config not installed" }, () => {
  const base = tempDir();
  after(() => removeDir(base));
  mkdirSync(join(base, "vol"));
  writeFileSync(join(base, "hung.sh"), "#!/bin/sh\n");
  chmodSync(join(base, "hung.sh"), 0o755);

  const accepted = [
    ...(existsSync("/etc/ctdb/ctdb.conf") ? [readFileSync("/etc/ctdb/ctdb.conf", "utf8")] : []),
    "[cluster]\nleader capability = YES\nleader timeout = 0x10\n[legacy]\nstart as stopped = True\nrealtime scheduling = no\n",
    "[cluster]\nleader timeout = 12abc\n",
    "[cluster]\nleader timeout = 010\nnode address = FD00:0::7\n",
    "[logging]\nlog level = warn\nlocation = syslog:udp\n[legacy]\nscript log level = 3\n",
    "[logging]\nlog level = 10x\nlocation = file:\n",
    "[logging]\nlocation = file\n",
    `[logging]\nlocation = file:${base}/log.ctdb\n`,
    "[CLUSTER]\n  cluster   lock =  !/bin/helper   a \\\n   b\n",
    "[cluster]\nrecovery lock = /shared/reclock\n",
    "[cluster]\nleader timeout = 9\n[logging]\n[cluster]\nleader timeout = 3\nleader capability = false\n",
    `[database]\nvolatile database directory = ${base}/vol\ntdb mutexes = false\n[event]\ndebug script = /anywhere/hung.sh\n`,
    "[cluster]\ncluster lock = /a # b ; c\n\r\n[failover]\r\ndisabled = true\r\n",
  ];
  accepted.forEach((text, i) => {
    it(`accepted file ${i}: every option parses identically`, () => {
      const real = realCtdbConfig(base, text);
      assert.equal(real.valid, true, "ctdb-config validate accepts it");
      const ours = parseCtdbConf(text, "ctdb.conf", { defaultLogLevel: "ERROR" });
      assert.ok(ours.ok, ours.ok ? "" : ours.errors.map(formatConfigError).join("\n"));
      if (!ours.ok) return;
      assert.equal(real.dump.size, 20);
      for (const [k, v] of real.dump) {
        const [section, key] = k.split("/") as [string, string];
        const mine = ctdbConfValue(ours.value, section, key);
        const want = key === "node address" && v !== undefined ? parseIpLiteral(v)?.text : v;
        assert.equal(mine === undefined ? undefined : String(mine), want, k);
      }
    });
  });

  const refused = [
    "[foo]\nbar = 1\n",
    "[cluster]\nLeader Timeout = 3\n",
    "leader timeout = 3\n",
    "[cluster]\nleader timeout =\n",
    "[cluster]\nleader capability = on\n",
    "[cluster]\nleader capability = 1\n",
    "[cluster]\nleader timeout = -1\n",
    "[cluster]\nleader timeout = 0\n",
    "[cluster]\nleader timeout = abc\n",
    "[cluster]\nleader timeout = 99999999999\n",
    "[cluster]\ntransport = ib\n",
    "[cluster]\nnode address = host1\n",
    "[cluster]\nnode address = fe80::1%eth0\n",
    "[logging]\nlog level = 11\n",
    "[logging]\nlog level = notices\n",
    "[logging]\nlocation = syslog:foo\n",
    "[logging]\nlocation = SYSLOG\n",
    "[legacy]\nscript log level = LOUD\n",
    "[ cluster ]\nleader timeout = 3\n",
  ];
  refused.forEach((text, i) => {
    it(`refused file ${i}: ${JSON.stringify(text)}`, () => {
      assert.equal(realCtdbConfig(base, text).valid, false, "ctdb-config validate refuses it");
      assert.equal(parseCtdbConf(text, "ctdb.conf").ok, false);
    });
  });

  it("deliberate difference: lines CTDB silently drops are errors for us", () => {
    // CTDB ignores a line without '=' and stops reading (keeping defaults)
    // at a section header without ']'. Both pass ctdb-config validate.
    for (const text of ["[cluster]\ncluster lock /x\n", "[cluster\nleader timeout = 3\n"]) {
      assert.equal(realCtdbConfig(base, text).valid, true);
      assert.equal(parseCtdbConf(text, "ctdb.conf").ok, false);
    }
  });
});
