import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { EINVAL, ENOENT } from "../../src/event/errno.ts";

const pick = (r: { result: number; output: string }) => ({ result: r.result, output: r.output });
import {
  chmodScript,
  disableScript,
  enableScript,
  isScriptFileName,
  listScripts,
  scriptListing,
} from "../../src/event/scripts.ts";

let root: string;
before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-scripts-"));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function put(p: string, mode: number): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, "#!/bin/sh\nexit 0\n");
  fs.chmodSync(p, mode);
}

describe("script names (fnmatch [0-9][0-9].*.script)", () => {
  const cases: [string, boolean][] = [
    ["10.interface.script", true],
    ["00.ctdb.script", true],
    ["01..script", true],
    ["99.a.b.c.script", true],
    ["1.x.script", false],
    ["ab.x.script", false],
    ["10.x.script~", false],
    ["10.x.options", false],
    ["10.script", false],
    ["README", false],
  ];
  for (const [name, want] of cases) it(`${name} -> ${want}`, () => assert.equal(isScriptFileName(name), want));
});

describe("listing", () => {
  it("byte order, enabled = owner x bit through symlinks, dangling links flagged", () => {
    const dir = path.join(root, "list");
    put(`${dir}/50.b.script`, 0o755);
    put(`${dir}/05.a.script`, 0o644);
    put(`${dir}/10.Z.script`, 0o010); // group x only: not enabled
    put(`${dir}/target`, 0o700);
    fs.symlinkSync(`${dir}/target`, `${dir}/20.link.script`);
    fs.symlinkSync(`${dir}/missing`, `${dir}/30.dangling.script`);
    put(`${dir}/10.options`, 0o755);
    const r = listScripts(dir);
    assert.ok("scripts" in r);
    assert.deepEqual(
      r.scripts.map((s) => [s.name, s.enabled, s.statErrno]),
      [
        ["05.a", false, undefined],
        ["10.Z", false, undefined],
        ["20.link", true, undefined],
        ["30.dangling", false, ENOENT],
        ["50.b", true, undefined],
      ],
    );
    assert.deepEqual(listScripts(`${root}/nope`), { errno: ENOENT });
  });
});

describe("enable / disable (event_tool.c, event_script.c)", () => {
  it("enable links the provided script; disable removes the link", () => {
    const etc = path.join(root, "e1", "etc");
    const data = path.join(root, "e1", "share");
    fs.mkdirSync(`${etc}/events/legacy`, { recursive: true });
    put(`${data}/events/legacy/10.interface.script`, 0o755);
    put(`${data}/events/legacy/50.samba.script`, 0o755);
    assert.deepEqual(enableScript(etc, data, "legacy", "10.interface"), { result: 0, output: "" });
    const link = `${etc}/events/legacy/10.interface.script`;
    assert.equal(fs.readlinkSync(link), fs.realpathSync(`${data}/events/legacy/10.interface.script`));
    assert.deepEqual(enableScript(etc, data, "legacy", "10.interface"), { result: 0, output: "" }, "already linked");
    put(`${etc}/events/legacy/90.local.script`, 0o644);
    assert.deepEqual(pick(scriptListing(etc, data, "legacy")), { result: 0, output: "* 10.interface\n  50.samba\n\n  90.local\n" });
    assert.deepEqual(disableScript(etc, "legacy", "10.interface"), { result: 0, output: "" });
    assert.equal(fs.existsSync(link), false);
    assert.deepEqual(enableScript(etc, data, "legacy", "99.none"), {
      result: ENOENT,
      output: "Script 99.none does not exist in legacy\n",
    });
    assert.deepEqual(pick(scriptListing(etc, data, "legacy")), { result: 0, output: "  10.interface\n  50.samba\n\n  90.local\n" });
  });

  it("a local file is enabled/disabled with its x bits", () => {
    const etc = path.join(root, "e2", "etc");
    const p = `${etc}/events/legacy/90.local.script`;
    put(p, 0o644);
    assert.deepEqual(enableScript(etc, `${root}/e2/share`, "legacy", "90.local"), { result: 0, output: "" });
    assert.equal(fs.statSync(p).mode & 0o777, 0o755);
    assert.deepEqual(disableScript(etc, "legacy", "90.local"), { result: 0, output: "" });
    assert.equal(fs.statSync(p).mode & 0o777, 0o644);
    assert.deepEqual(scriptListing(etc, `${root}/e2/share`, "legacy").result, ENOENT, "no provided dir");
  });

  it("chmodScript refuses symlinks and bad names, reports missing ones", () => {
    const dir = path.join(root, "c");
    put(`${dir}/real`, 0o755);
    fs.symlinkSync(`${dir}/real`, `${dir}/10.link.script`);
    put(`${dir}/bad.script`, 0o755);
    assert.equal(chmodScript(dir, "10.link", false), EINVAL);
    assert.equal(fs.statSync(`${dir}/real`).mode & 0o111, 0o111, "target untouched");
    assert.equal(chmodScript(dir, "bad", false), EINVAL);
    assert.equal(chmodScript(dir, "20.none", true), ENOENT);
  });
});
