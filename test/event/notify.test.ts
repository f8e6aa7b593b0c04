import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { scriptEnvironment, scriptPath } from "../../src/event/env.ts";
import { runNotification } from "../../src/event/notify.ts";
import { debugScriptPath } from "../../src/event/service.ts";

let root: string;
before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-notify-"));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe("notifications (ctdb_monitor.c + shipped notify.sh)", () => {
  it("runs notify.sh EVENT, which runs every executable notification script", async () => {
    const base = path.join(root, "n1");
    fs.mkdirSync(`${base}/events/notification`, { recursive: true });
    fs.copyFileSync(
      fs.existsSync("/etc/ctdb/notify.sh") ? "/etc/ctdb/notify.sh" : "/dev/null",
      `${base}/notify.sh`,
    );
    if (fs.statSync(`${base}/notify.sh`).size === 0) {
      fs.writeFileSync(`${base}/notify.sh`, '#!/bin/sh\nfor i in "$(dirname "$0")/events/notification/"*.script; do [ -x "$i" ] && "$i" "$1"; done\n');
    }
    fs.chmodSync(`${base}/notify.sh`, 0o755);
    fs.writeFileSync(`${base}/events/notification/10.log.script`, `#!/bin/sh\necho "got $1" >> ${base}/out\n`, { mode: 0o755 });
    fs.writeFileSync(`${base}/events/notification/20.off.script`, `#!/bin/sh\necho "off $1" >> ${base}/out\n`, { mode: 0o644 });
    const logs: string[] = [];
    const rc = await runNotification({ base, event: "unhealthy", env: { PATH: "/usr/bin:/bin" }, log: (_l, m) => logs.push(m) });
    assert.equal(rc, 0);
    assert.equal(fs.readFileSync(`${base}/out`, "utf8"), "got unhealthy\n");
    assert.deepEqual(logs, []);
  });

  it("missing, non-executable and failing scripts are logged, never thrown", async () => {
    const base = path.join(root, "n2");
    fs.mkdirSync(base, { recursive: true });
    const logs: string[] = [];
    const log = (_l: string, m: string) => logs.push(m);
    assert.equal(await runNotification({ base, event: "init", env: {}, log }), null);
    assert.match(logs.pop()!, /^Could not stat notification script .*notify\.sh\. Can not send notifications\.$/);
    fs.writeFileSync(`${base}/notify.sh`, "#!/bin/sh\nexit 3\n", { mode: 0o644 });
    assert.equal(await runNotification({ base, event: "init", env: {}, log }), null);
    assert.match(logs.pop()!, /is not executable\.$/);
    fs.chmodSync(`${base}/notify.sh`, 0o755);
    assert.equal(await runNotification({ base, event: "setup", env: {}, log }), 3);
    assert.match(logs.pop()!, /^Notification script ".*notify\.sh setup" failed with error 3$/);
  });
});

describe("script environment", () => {
  it("passes the daemon environment through and sets CTDB_BASE, CTDB, PATH", () => {
    const env = scriptEnvironment({
      base: "/etc/ctdb",
      toolPath: "/usr/bin/tandem",
      env: { PATH: "/opt/bin", CTDB_TEST_MODE: "yes", CTDB_BASE: "/elsewhere", UNSET: undefined },
      logging: "file:/var/log/log.ctdb",
    });
    assert.equal(env.CTDB_BASE, "/etc/ctdb");
    assert.equal(env.CTDB, "/usr/bin/tandem");
    assert.equal(env.CTDB_TEST_MODE, "yes");
    assert.equal(env.CTDB_LOGGING, "file:/var/log/log.ctdb");
    assert.equal(env.CTDB_DEBUGLEVEL, "NOTICE");
    assert.equal("UNSET" in env, false);
    assert.equal(env.PATH, "/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    assert.equal(scriptPath("/usr/bin:/bin"), "/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin");
  });

  it("a per-node CTDB_SCRIPT_VARDIR is set when asked, and an inherited one wins", () => {
    const base = { base: "/b", toolPath: "/t", scriptVardir: "/b/var/scripts" };
    assert.equal(scriptEnvironment({ ...base, env: {} }).CTDB_SCRIPT_VARDIR, "/b/var/scripts");
    assert.equal(scriptEnvironment({ ...base, env: { CTDB_SCRIPT_VARDIR: "/x" } }).CTDB_SCRIPT_VARDIR, "/x");
    assert.equal("CTDB_SCRIPT_VARDIR" in scriptEnvironment({ base: "/b", toolPath: "/t", env: {} }), false);
  });

  it("the debug script is a bare name in CTDB_BASE", () => {
    assert.equal(debugScriptPath("/etc/ctdb", "debug-hung-script.sh"), "/etc/ctdb/debug-hung-script.sh");
    assert.equal(debugScriptPath("/etc/ctdb", "/usr/lib/x/debug.sh"), "/etc/ctdb/debug.sh");
    assert.equal(debugScriptPath("/etc/ctdb", undefined), undefined);
  });
});
