// CTDB's own shipped event scripts, unmodified, run through EventService.
// The copied `functions` gets one test hook appended (set_proc logs instead
// of writing to /proc/sys, as CTDB's own eventscript tests stub it) so the
// host is not reconfigured. A fake $CTDB records every command the scripts
// ask of the tool.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { EventService } from "../../src/event/service.ts";

const SHIPPED = ["00.ctdb", "01.reclock", "05.system", "10.interface"];
const DATADIR = "/usr/share/ctdb/events/legacy";
const FUNCTIONS = "/etc/ctdb/functions";
const available =
  fs.existsSync(FUNCTIONS) &&
  SHIPPED.every((s) => fs.existsSync(`${DATADIR}/${s}.script`)) &&
  fs.existsSync("/usr/libexec/ctdb/ctdb-config");

let root: string;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-shipped-"));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe("CTDB's shipped event scripts", { skip: available ? false : "CTDB scripts not installed" }, () => {
  it("init, setup, startup and monitor succeed with an empty public_addresses", async () => {
    const base = path.join(root, "etc");
    const legacy = path.join(base, "events", "legacy");
    fs.mkdirSync(legacy, { recursive: true });
    for (const s of SHIPPED) fs.copyFileSync(`${DATADIR}/${s}.script`, `${legacy}/${s}.script`);
    for (const s of SHIPPED) fs.chmodSync(`${legacy}/${s}.script`, 0o755);
    fs.copyFileSync(FUNCTIONS, `${base}/functions`);
    fs.appendFileSync(`${base}/functions`, '\n# test hook\nset_proc () { echo "$1=$2" >>"$CTDB_BASE/set_proc.log" ; }\n');
    fs.writeFileSync(`${base}/public_addresses`, "");
    const vardir = path.join(root, "var");
    for (const d of ["volatile", "persistent", "state"]) fs.mkdirSync(path.join(vardir, d), { recursive: true });
    fs.writeFileSync(
      `${base}/ctdb.conf`,
      `[cluster]\n\trecovery lock = ${root}/lockdir/reclock\n[database]\n\tvolatile database directory = ${vardir}/volatile\n` +
        `\tpersistent database directory = ${vardir}/persistent\n\tstate database directory = ${vardir}/state\n`,
    );
    const calls = path.join(root, "ctdb-calls.log");
    const tool = path.join(root, "fake-ctdb");
    fs.writeFileSync(
      tool,
      `#!/bin/sh\necho "$*" >> ${calls}\ncase "$*" in\n  "-X ifaces") echo "|Name|LinkStatus|References|" ;;\n  pnn) echo 0 ;;\nesac\nexit 0\n`,
    );
    fs.chmodSync(tool, 0o755);

    const logs: string[] = [];
    const svc = new EventService({
      base,
      datadir: path.join(root, "share"),
      toolPath: tool,
      env: {
        PATH: process.env.PATH,
        CTDB_TEST_MODE: "yes",
        CTDB_SCRIPT_VARDIR: path.join(vardir, "scripts"),
        CTDB_LOGGING: `file:${root}/log.ctdb`,
      },
      log: (level, m) => logs.push(`${level}: ${m}`),
    });
    try {
      for (const event of ["init", "setup", "startup", "monitor"]) {
        const r = await svc.runWithReply({ component: "legacy", event, args: [], timeoutSec: 30, runAll: false });
        const st = svc.status("legacy", event);
        assert.deepEqual(r, { reply: 0, summary: 0 }, `${event}: ${JSON.stringify(st)}\n${logs.join("\n")}`);
        assert.ok(!("error" in st));
        assert.deepEqual(
          st.scripts.map((s) => [s.name, s.result]),
          SHIPPED.map((s) => [s, 0]),
        );
      }
      // 00.ctdb init recreated the script state dir; 01.reclock made the lock's directory
      assert.ok(fs.statSync(path.join(vardir, "scripts")).isDirectory());
      assert.ok(fs.statSync(path.join(root, "lockdir")).isDirectory());
      // 10.interface's init went through the hook, not to /proc/sys
      assert.match(fs.readFileSync(path.join(base, "set_proc.log"), "utf8"), /arp_filter=1/);
      // What the scripts asked of the tool: the daemon's `tandem` must provide these.
      const asked = fs.readFileSync(calls, "utf8").trim().split("\n");
      assert.deepEqual([...new Set(asked)].sort(), ["-X ifaces", "attach ctdb.tdb persistent"]);
    } finally {
      svc.close();
    }
  });
});
