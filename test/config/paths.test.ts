import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathsEnvProblem, resolvePaths } from "../../src/config/paths.ts";
import { haveCtdbPath, runCtdbPath } from "./real-ctdb.ts";

describe("resolvePaths", () => {
  it("normal mode: compiled-in directories, CTDB_BASE only for base files", () => {
    assert.deepEqual(resolvePaths({}), {
      base: "/etc/ctdb",
      etcdir: "/etc/ctdb",
      rundir: "/run/ctdb",
      vardir: "/var/lib/ctdb",
      datadir: "/usr/share/ctdb",
      helperBindir: "/usr/libexec/ctdb",
      ctdbdSocket: "/run/ctdb/ctdbd.socket",
      eventdSocket: "/run/ctdb/eventd.socket",
      pidFile: "/run/ctdb/ctdbd.pid",
      testMode: false,
      configFile: "/etc/ctdb/ctdb.conf",
      tunablesFile: "/etc/ctdb/ctdb.tunables",
      nodesFile: "/etc/ctdb/nodes",
      publicAddressesFile: "/etc/ctdb/public_addresses",
      tandemConfFile: "/etc/ctdb/tandem.conf",
      eventScriptDir: "/etc/ctdb/events/legacy",
      notifyScript: "/etc/ctdb/notify.sh",
    });
    const p = resolvePaths({ CTDB_BASE: "/srv/c" });
    assert.equal(p.etcdir, "/etc/ctdb");
    assert.equal(p.configFile, "/etc/ctdb/ctdb.conf");
    assert.equal(p.nodesFile, "/srv/c/nodes");
    assert.equal(p.rundir, "/run/ctdb");
  });

  it("test mode: everything under CTDB_BASE (even with an empty CTDB_TEST_MODE)", () => {
    for (const mode of ["yes", ""]) {
      const p = resolvePaths({ CTDB_BASE: "/tmp/n0", CTDB_TEST_MODE: mode });
      assert.equal(p.testMode, true);
      assert.equal(p.etcdir, "/tmp/n0");
      assert.equal(p.rundir, "/tmp/n0/run");
      assert.equal(p.vardir, "/tmp/n0/var");
      assert.equal(p.datadir, "/tmp/n0/share");
      assert.equal(p.ctdbdSocket, "/tmp/n0/run/ctdbd.socket");
      assert.equal(p.eventdSocket, "/tmp/n0/run/eventd.socket");
      assert.equal(p.pidFile, "/tmp/n0/run/ctdbd.pid");
      assert.equal(p.configFile, "/tmp/n0/ctdb.conf");
      assert.equal(p.tunablesFile, "/tmp/n0/ctdb.tunables");
    }
  });

  it("CTDB_SOCKET moves only the ctdbd socket", () => {
    const p = resolvePaths({ CTDB_SOCKET: "/tmp/s.sock" });
    assert.equal(p.ctdbdSocket, "/tmp/s.sock");
    assert.equal(p.eventdSocket, "/run/ctdb/eventd.socket");
    const t = resolvePaths({ CTDB_SOCKET: "/tmp/s.sock", CTDB_BASE: "/tmp/n1", CTDB_TEST_MODE: "1" });
    assert.equal(t.ctdbdSocket, "/tmp/s.sock");
    assert.equal(t.eventdSocket, "/tmp/n1/run/eventd.socket");
  });

  it("CTDB_HELPER_BINDIR overrides the helper directory", () => {
    assert.equal(resolvePaths({ CTDB_HELPER_BINDIR: "/opt/h" }).helperBindir, "/opt/h");
  });

  it("test mode without CTDB_BASE is a setup error", () => {
    assert.match(pathsEnvProblem({ CTDB_TEST_MODE: "yes" }) ?? "", /CTDB_BASE not set in test mode/);
    assert.equal(pathsEnvProblem({ CTDB_TEST_MODE: "yes", CTDB_BASE: "/x" }), undefined);
    assert.equal(pathsEnvProblem({}), undefined);
  });
});

describe("resolvePaths agrees with the real ctdb-path", { skip: !haveCtdbPath && "ctdb-path not installed" }, () => {
  const envs: Record<string, string>[] = [
    {},
    { CTDB_BASE: "/tmp/base-x" },
    { CTDB_BASE: "/tmp/base-y", CTDB_TEST_MODE: "yes" },
    { CTDB_BASE: "/tmp/base-z", CTDB_TEST_MODE: "" },
    { CTDB_SOCKET: "/tmp/sock-a" },
    { CTDB_SOCKET: "/tmp/sock-b", CTDB_BASE: "/tmp/base-w", CTDB_TEST_MODE: "1" },
  ];
  for (const env of envs) {
    it(JSON.stringify(env), () => {
      const p = resolvePaths(env);
      assert.equal(p.configFile, runCtdbPath(env, ["config"]));
      assert.equal(p.etcdir, runCtdbPath(env, ["etcdir"]));
      assert.equal(p.rundir, runCtdbPath(env, ["rundir"]));
      assert.equal(p.vardir, runCtdbPath(env, ["vardir"]));
      assert.equal(p.datadir, runCtdbPath(env, ["datadir"]));
      assert.equal(p.ctdbdSocket, runCtdbPath(env, ["socket", "ctdbd"]));
      assert.equal(p.eventdSocket, runCtdbPath(env, ["socket", "eventd"]));
      assert.equal(p.pidFile, runCtdbPath(env, ["pidfile", "ctdbd"]));
      assert.equal(p.tunablesFile, runCtdbPath(env, ["etcdir", "append", "ctdb.tunables"]));
    });
  }
});
