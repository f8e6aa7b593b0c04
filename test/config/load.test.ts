import assert from "node:assert/strict";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { loadNodeConfig } from "../../src/config/load.ts";
import { formatConfigError } from "../../src/config/result.ts";
import { defaultTandemConf } from "../../src/config/tandem-conf.ts";
import { defaultTunables } from "../../src/config/tunables.ts";
import { haveCtdbConfig, realCtdbConfig, removeDir, tempDir } from "./real-ctdb.ts";

let base = "";
beforeEach(() => {
  base = tempDir();
});
afterEach(() => removeDir(base));

function env(): Record<string, string> {
  return { CTDB_BASE: base, CTDB_TEST_MODE: "yes" };
}
function put(name: string, text: string): void {
  writeFileSync(join(base, name), text);
}

describe("loadNodeConfig", () => {
  it("only a nodes file: everything else defaults", async () => {
    put("nodes", "127.0.0.1\n127.0.0.2\n");
    const r = await loadNodeConfig(env());
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatConfigError).join("\n"));
    if (!r.ok) return;
    const c = r.value;
    assert.equal(c.paths.base, base);
    assert.equal(c.paths.ctdbdSocket, `${base}/run/ctdbd.socket`);
    assert.equal(c.conf.database.volatileDir, `${base}/var/volatile`);
    assert.equal(c.conf.logging.logLevel, "NOTICE");
    assert.deepEqual(c.tandem, defaultTandemConf());
    assert.deepEqual(c.nodes.map((n) => n.address), ["127.0.0.1", "127.0.0.2"]);
    assert.deepEqual(c.publicAddresses, []);
    assert.deepEqual(c.tunables, defaultTunables());
    assert.deepEqual(c.tunablesSet, []);
    assert.deepEqual(c.files, {
      ctdbConf: undefined,
      tandemConf: undefined,
      nodes: `${base}/nodes`,
      publicAddresses: undefined,
      tunables: undefined,
    });
  });

  it("refuses two cluster locks: ctdb.conf's and an etcd lock in tandem.conf", async () => {
    put("ctdb.conf", `[cluster]\ncluster lock = ${base}/lock\n`);
    put("tandem.conf", "[cluster]\netcd lock = 127.0.0.1:2379\n");
    put("nodes", "127.0.0.1\n");
    const r = await loadNodeConfig(env());
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors[0]?.file, `${base}/tandem.conf`);
    assert.match(r.errors[0]?.message ?? "", /"etcd lock" is set, and so is .*"cluster lock" in .*ctdb\.conf: choose one/);
  });

  it("reads every file", async () => {
    mkdirSync(join(base, "db"));
    put("ctdb.conf", `[cluster]\nrecovery lock = ${base}/lock\n[database]\nvolatile database directory = ${base}/db\n`);
    put("tandem.conf", "[cluster]\nport = 14379\nshared key = k\n");
    put("nodes", "127.0.0.1\n#127.0.0.2\n");
    put("public_addresses", "10.9.0.1/24 lo\n");
    put("ctdb.tunables", "MonitorInterval=7\n");
    const r = await loadNodeConfig(env());
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatConfigError).join("\n"));
    if (!r.ok) return;
    assert.equal(r.value.conf.cluster.clusterLock, `${base}/lock`);
    assert.equal(r.value.conf.database.volatileDir, `${base}/db`);
    assert.equal(r.value.tandem.cluster.port, 14379);
    assert.deepEqual(r.value.nodes[1], { pnn: 1, address: "0.0.0.0", deleted: true });
    assert.deepEqual(r.value.publicAddresses, [{ address: "10.9.0.1", prefix: 24, family: 4, interfaces: ["lo"] }]);
    assert.equal(r.value.tunables.MonitorInterval, 7);
    assert.equal(r.value.tunables.RecoverInterval, 1);
    assert.deepEqual(r.value.tunablesSet, ["MonitorInterval"], "only what the file sets counts as set");
    assert.equal(r.value.files.ctdbConf, `${base}/ctdb.conf`);
    assert.equal(r.value.files.tunables, `${base}/ctdb.tunables`);
    assert.equal(r.value.warnings.length, 1);
    assert.match(r.value.warnings[0]?.message ?? "", /recovery lock is deprecated/);
  });

  it("missing nodes file is an error", async () => {
    const r = await loadNodeConfig(env());
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.errors.length, 1);
      assert.equal(formatConfigError(r.errors[0] ?? { file: "", line: 0, message: "" }), `${base}/nodes: Failed to read nodes file "${base}/nodes"`);
    }
  });

  it("aggregates the errors of all files", async () => {
    put("ctdb.conf", "[cluster]\nleader timeout = 0\n");
    put("tandem.conf", "[cluster]\nport = 0\n");
    put("nodes", "127.0.0.1\nnode-b\n");
    put("public_addresses", "10.9.0.1/24\n");
    put("ctdb.tunables", "\nNoSuch=1\n");
    const r = await loadNodeConfig(env());
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => `${e.file.slice(base.length + 1)}:${e.line}`),
      ["ctdb.conf:2", "tandem.conf:2", "nodes:2", "public_addresses:1", "ctdb.tunables:2"],
    );
  });

  it("filesystem checks: missing directory, script not executable, missing log directory", async () => {
    put("nodes", "127.0.0.1\n");
    put("notexec.sh", "#!/bin/sh\n");
    chmodSync(join(base, "notexec.sh"), 0o644);
    put(
      "ctdb.conf",
      `[logging]\nlocation = file:${base}/nope/log\n[database]\nstate database directory = ${base}/missing\nlock debug script = notexec.sh\n[event]\ndebug script = absent.sh\n`,
    );
    const r = await loadNodeConfig(env());
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.message.replace(base, "BASE")]),
      [
        [2, `log directory "BASE/nope" does not exist`],
        [4, `state database directory "BASE/missing" does not exist`],
        [5, "lock debug script BASE/notexec.sh does not exist, is not a file or is not executable"],
        [7, "debug script BASE/absent.sh does not exist, is not a file or is not executable"],
      ],
    );
  });

  it("test mode without CTDB_BASE", async () => {
    const r = await loadNodeConfig({ CTDB_TEST_MODE: "yes" });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? "", /CTDB_BASE not set/);
  });

  it("ignoreUnknown lets a ctdbd-acceptable file through", async () => {
    put("nodes", "127.0.0.1\n");
    put("ctdb.conf", "[newer]\nopt = 1\n");
    assert.equal((await loadNodeConfig(env())).ok, false);
    assert.equal((await loadNodeConfig(env(), { ignoreUnknown: true })).ok, true);
  });

  it("a directory where a file should be is reported, not thrown", async () => {
    mkdirSync(join(base, "nodes"));
    const r = await loadNodeConfig(env());
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? "", /cannot read file/);
  });
});

describe("filesystem checks agree with the real ctdb-config", { skip: !haveCtdbConfig && "ctdb-config not installed" }, () => {
  const cases: { name: string; conf: (b: string) => string; setup?: (b: string) => void }[] = [
    { name: "existing database directory", conf: (b) => `[database]\nvolatile database directory = ${b}/d\n`, setup: (b) => mkdirSync(join(b, "d")) },
    { name: "missing database directory", conf: (b) => `[database]\npersistent database directory = ${b}/nodir\n` },
    { name: "database directory is a file", conf: (b) => `[database]\nstate database directory = ${b}/f\n`, setup: (b) => writeFileSync(join(b, "f"), "") },
    {
      name: "executable debug script, directory part ignored",
      conf: () => "[event]\ndebug script = /elsewhere/h.sh\n",
      setup: (b) => {
        writeFileSync(join(b, "h.sh"), "#!/bin/sh\n");
        chmodSync(join(b, "h.sh"), 0o755);
      },
    },
    {
      name: "non-executable lock debug script",
      conf: () => "[database]\nlock debug script = l.sh\n",
      setup: (b) => writeFileSync(join(b, "l.sh"), "#!/bin/sh\n"),
    },
    { name: "missing event debug script", conf: () => "[event]\ndebug script = none.sh\n" },
    {
      name: "debug script executable by group only",
      conf: () => "[event]\ndebug script = g.sh\n",
      setup: (b) => {
        writeFileSync(join(b, "g.sh"), "#!/bin/sh\n");
        chmodSync(join(b, "g.sh"), 0o650);
      },
    },
    { name: "debug script is a directory", conf: () => "[event]\ndebug script = sub\n", setup: (b) => mkdirSync(join(b, "sub")) },
    { name: "log file in existing directory", conf: (b) => `[logging]\nlocation = file:${b}/log.ctdb\n` },
    { name: "log file in missing directory", conf: (b) => `[logging]\nlocation = file:${b}/x/log.ctdb\n` },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      c.setup?.(base);
      put("nodes", "127.0.0.1\n");
      const text = c.conf(base);
      const real = realCtdbConfig(base, text); // writes ctdb.conf into base
      const ours = await loadNodeConfig(env());
      assert.equal(ours.ok, real.valid, ours.ok ? "we accept" : ours.errors.map(formatConfigError).join("\n"));
    });
  }
});
