import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ECANCELED, EINVAL, ENOENT, ENOEXEC, ETIMEDOUT } from "../../src/event/errno.ts";
import { startScript } from "../../src/event/runner.ts";
import { EventService } from "../../src/event/service.ts";

let root: string;
const started: number[] = [];

function pidGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // a zombie waiting for its reaper counts as gone
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

function mkBase(name: string): { base: string; dir: string } {
  const base = path.join(root, name);
  const dir = path.join(base, "events", "legacy");
  fs.mkdirSync(dir, { recursive: true });
  return { base, dir };
}

function script(dir: string, file: string, body: string, mode = 0o755): string {
  const p = path.join(dir, file);
  fs.writeFileSync(p, body);
  fs.chmodSync(p, mode);
  return p;
}

function service(base: string, extra: Partial<ConstructorParameters<typeof EventService>[0]> = {}) {
  const logs: string[] = [];
  const svc = new EventService({
    base,
    datadir: path.join(base, "share"),
    toolPath: "/bin/true",
    env: { PATH: process.env.PATH },
    log: (level, m) => logs.push(`${level}: ${m}`),
    ...extra,
  });
  return { svc, logs };
}

const run = (svc: EventService, event: string, timeoutSec = 10, args: string[] = []) =>
  svc.runWithReply({ component: "legacy", event, args, timeoutSec, runAll: false });

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-event-runner-"));
});

after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

describe("runner: real scripts", () => {
  it("passes [event, ...args], the environment, and one interleaved output stream", async () => {
    const { base, dir } = mkBase("pass");
    script(
      dir,
      "10.pass.script",
      '#!/bin/sh\necho "args=$*"\necho err >&2\necho "base=$CTDB_BASE ctdb=$CTDB"\nread x && echo "stdin not closed"\nexit 0\n',
    );
    const { svc } = service(base);
    try {
      const r = await run(svc, "takeip", 10, ["eth0", "10.0.0.1", "24"]);
      assert.deepEqual(r, { reply: 0, summary: 0 });
      const st = svc.status("legacy", "takeip");
      assert.ok(!("error" in st));
      assert.equal(st.scripts[0]!.output, `args=takeip eth0 10.0.0.1 24\nerr\nbase=${base} ctdb=/bin/true\n`);
      assert.ok(st.scripts[0]!.endMs >= st.scripts[0]!.beginMs);
    } finally {
      svc.close();
    }
  });

  it("a failing script: its exit status, output kept, later scripts not run", async () => {
    const { base, dir } = mkBase("fail");
    script(dir, "10.fail.script", "#!/bin/sh\necho 'service down'\nexit 3\n");
    script(dir, "20.never.script", `#!/bin/sh\ntouch ${base}/ran\n`);
    const { svc } = service(base);
    try {
      assert.deepEqual(await run(svc, "monitor"), { reply: ENOEXEC, summary: 3 });
      assert.equal(await svc.run({ component: "legacy", event: "monitor", args: [], timeoutSec: 10, runAll: false }), 3);
      const st = svc.status("legacy", "monitor");
      assert.ok(!("error" in st));
      assert.deepEqual(
        st.scripts.map((s) => [s.name, s.result, s.output]),
        [["10.fail", 3, "service down\n"]],
      );
      assert.equal(fs.existsSync(`${base}/ran`), false);
    } finally {
      svc.close();
    }
  });

  it("a hung script is killed on timeout together with its background grandchild", async () => {
    const { base, dir } = mkBase("hang");
    const pidFile = `${base}/gc.pid`;
    script(dir, "10.hang.script", `#!/bin/sh\nsleep 1000 &\necho $! > ${pidFile}\necho hanging\nwait\n`);
    const { svc } = service(base);
    try {
      const t0 = Date.now();
      const r = await run(svc, "monitor", 1);
      assert.deepEqual(r, { reply: ETIMEDOUT, summary: -ETIMEDOUT });
      assert.ok(Date.now() - t0 >= 900);
      const gc = Number(fs.readFileSync(pidFile, "utf8"));
      started.push(gc);
      assert.ok(gc > 0);
      assert.ok(await waitFor(() => pidGone(gc), 3000), `grandchild ${gc} still alive`);
      const st = svc.status("legacy", "monitor");
      assert.ok(!("error" in st));
      assert.equal(st.scripts[0]!.result, -ETIMEDOUT);
      assert.equal(st.scripts[0]!.output, "hanging\n");
    } finally {
      svc.close();
    }
  });

  it("a non-executable script is disabled (-ENOEXEC) and skipped", async () => {
    const { base, dir } = mkBase("disabled");
    script(dir, "10.off.script", "#!/bin/sh\nexit 1\n", 0o644);
    script(dir, "20.on.script", "#!/bin/sh\nexit 0\n");
    const { svc } = service(base);
    try {
      assert.deepEqual(await run(svc, "monitor"), { reply: 0, summary: 0 });
      const st = svc.status("legacy", "monitor");
      assert.ok(!("error" in st));
      assert.deepEqual(
        st.scripts.map((s) => [s.name, s.result]),
        [
          ["10.off", -ENOEXEC],
          ["20.on", 0],
        ],
      );
    } finally {
      svc.close();
    }
  });

  it("a shell syntax error is an ordinary failure with the shell's message", async () => {
    const { base, dir } = mkBase("syntax");
    script(dir, "10.bad.script", "#!/bin/sh\nif then fi\n");
    const { svc } = service(base);
    try {
      const r = await run(svc, "monitor");
      assert.equal(r.reply, ENOEXEC);
      assert.equal(r.summary, 2);
      const st = svc.status("legacy", "monitor");
      assert.ok(!("error" in st));
      assert.match(st.scripts[0]!.output, /syntax error|unexpected/);
    } finally {
      svc.close();
    }
  });

  it("a missing interpreter cannot run: -ENOENT, no crash", async () => {
    const { base, dir } = mkBase("interp");
    script(dir, "10.nointerp.script", "#!/nonexistent/interpreter\nexit 0\n");
    const { svc } = service(base);
    try {
      const r = await run(svc, "monitor");
      assert.deepEqual(r, { reply: ENOEXEC, summary: -ENOENT });
    } finally {
      svc.close();
    }
  });

  it("a binary-less file with x bit but no #! is reported, not a crash", async () => {
    const { base, dir } = mkBase("noexecfmt");
    const p = path.join(dir, "10.garbage.script");
    fs.writeFileSync(p, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0]));
    fs.chmodSync(p, 0o755);
    const { svc } = service(base);
    try {
      const r = await run(svc, "monitor");
      assert.equal(r.reply, ENOEXEC);
      assert.ok(r.summary !== null && r.summary !== 0);
    } finally {
      svc.close();
    }
  });

  it("runs the debug script with PID and event on timeout, then kills the hung script", async () => {
    const { base, dir } = mkBase("debug");
    const out = `${base}/debug.out`;
    script(base, "debug-hung-script.sh", `#!/bin/sh\necho "$1 $2" > ${out}\nkill -0 "$1" && echo alive >> ${out}\necho "debug says hi"\n`);
    script(dir, "10.hang.script", `#!/bin/sh\necho $$ > ${base}/hang.pid\nexec sleep 1000\n`);
    const { svc, logs } = service(base, { debugScript: "/somewhere/else/debug-hung-script.sh" });
    try {
      const r = await run(svc, "startrecovery", 1);
      assert.equal(r.reply, ETIMEDOUT);
      const pid = Number(fs.readFileSync(`${base}/hang.pid`, "utf8"));
      started.push(pid);
      assert.ok(await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, "utf8").split("\n").length >= 3, 3000));
      const [line1, line2] = fs.readFileSync(out, "utf8").split("\n");
      assert.equal(line1, `${pid} startrecovery`);
      assert.equal(line2, "alive", "the debug script sees the hung process alive");
      assert.ok(await waitFor(() => pidGone(pid), 3000), "hung script killed after debugging");
      assert.ok(await waitFor(() => logs.includes("error: event_debug: debug says hi"), 2000), logs.join("\n"));
    } finally {
      svc.close();
    }
  });

  it("a grandchild outliving its timed-out parent is killed once debugging ends", async () => {
    const { base, dir } = mkBase("outlive");
    script(base, "debug.sh", "#!/bin/sh\nsleep 1.5\n");
    script(dir, "10.leave.script", `#!/bin/sh\nsleep 1000 &\necho $! > ${base}/gc.pid\nsleep 1.2\nexit 0\n`);
    const { svc } = service(base, { debugScript: "debug.sh" });
    try {
      assert.equal((await run(svc, "monitor", 1)).reply, ETIMEDOUT);
      const gc = Number(fs.readFileSync(`${base}/gc.pid`, "utf8"));
      started.push(gc);
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(pidGone(gc), false, "still alive while the debug script runs");
      assert.ok(await waitFor(() => pidGone(gc), 4000), `grandchild ${gc} survived`);
    } finally {
      svc.close();
    }
  });

  it("a new event cancels a running monitor and kills its processes", async () => {
    const { base, dir } = mkBase("cancel");
    script(dir, "10.slow.script", `#!/bin/sh\nif [ "$1" = monitor ]; then echo $$ > ${base}/mon.pid; exec sleep 1000; fi\nexit 0\n`);
    const { svc } = service(base);
    try {
      const mon = run(svc, "monitor", 30);
      assert.ok(await waitFor(() => fs.existsSync(`${base}/mon.pid`) && fs.readFileSync(`${base}/mon.pid`, "utf8").length > 0, 3000));
      const pid = Number(fs.readFileSync(`${base}/mon.pid`, "utf8"));
      started.push(pid);
      const take = run(svc, "takeip", 30, ["eth0", "10.0.0.1", "24"]);
      assert.deepEqual(await mon, { reply: ECANCELED, summary: -ECANCELED });
      assert.deepEqual(await take, { reply: 0, summary: 0 });
      assert.ok(await waitFor(() => pidGone(pid), 3000), "cancelled monitor's script killed");
      assert.deepEqual(svc.status("legacy", "monitor"), { error: EINVAL }, "cancelled monitor recorded nothing");
      // and a monitor asked for while another event runs is refused at once
      script(dir, "20.wait.script", `#!/bin/sh\n[ "$1" = recovered ] && sleep 0.5\nexit 0\n`);
      const rec = run(svc, "recovered", 30);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await run(svc, "monitor", 30), { reply: ECANCELED, summary: -ECANCELED });
      assert.deepEqual(await rec, { reply: 0, summary: 0 });
    } finally {
      svc.close();
    }
  });
});

describe("runner: output cap", () => {
  it("keeps only the first outputCap bytes", async () => {
    const { base, dir } = mkBase("cap");
    script(dir, "10.loud.script", "#!/bin/sh\nprintf 'abcdefghijklmnopqrstuvwxyz'\nexit 1\n");
    const { svc } = service(base, { outputCap: 10 });
    try {
      assert.equal((await run(svc, "monitor")).summary, 1);
      const st = svc.status("legacy", "monitor");
      assert.ok(!("error" in st));
      assert.equal(st.scripts[0]!.output, "abcdefghij");
    } finally {
      svc.close();
    }
  });
});

describe("runner: startScript directly", () => {
  it("stdout and stderr share one stream, order preserved", async () => {
    const { dir } = mkBase("interleave");
    const p = script(dir, "10.mix.script", '#!/bin/sh\ni=0\nwhile [ $i -lt 200 ]; do echo "o$i"; echo "e$i" >&2; i=$((i+1)); done\n');
    const output = await new Promise<string>((resolve) => {
      startScript({ path: p, argv0: "10.mix", args: ["monitor"], env: { PATH: "/usr/bin:/bin" }, onDone: (_o, out) => resolve(out) });
    });
    const want = Array.from({ length: 200 }, (_, i) => `o${i}\ne${i}\n`).join("");
    assert.equal(output, want);
  });

  it("reports a signal death", async () => {
    const { dir } = mkBase("signal");
    const p = script(dir, "10.sig.script", "#!/bin/sh\nkill -TERM $$\n");
    const outcome = await new Promise((resolve) => {
      startScript({ path: p, argv0: "10.sig", args: ["monitor"], env: { PATH: "/usr/bin:/bin" }, onDone: (o) => resolve(o) });
    });
    assert.deepEqual(outcome, { kind: "signal", signal: "SIGTERM" });
  });

  it("a missing file is a spawn error ENOENT", async () => {
    const outcome = await new Promise((resolve) => {
      startScript({ path: `${root}/nope.script`, argv0: "x", args: [], env: {}, onDone: (o) => resolve(o) });
    });
    assert.deepEqual(outcome, { kind: "spawn-error", errno: ENOENT });
  });
});

describe("service: status and script commands", () => {
  it("status: ENOENT for a missing component, EINVAL for an event never run", () => {
    const { base } = mkBase("status");
    const { svc } = service(base);
    try {
      assert.deepEqual(svc.status("nosuch", "monitor"), { error: ENOENT });
      assert.deepEqual(svc.status("legacy", "monitor"), { error: EINVAL });
    } finally {
      svc.close();
    }
  });

  it("run in a missing component answers ENOENT", async () => {
    const { base } = mkBase("nocomp");
    const { svc } = service(base);
    try {
      assert.deepEqual(await svc.runWithReply({ component: "nosuch", event: "monitor", args: [], timeoutSec: 5, runAll: false }), {
        reply: ENOENT,
        summary: null,
      });
      assert.equal(await svc.run({ component: "nosuch", event: "monitor", args: [], timeoutSec: 5, runAll: false }), -ENOENT);
    } finally {
      svc.close();
    }
  });

  it("setScriptEnabled toggles the x bits of a local script", async () => {
    const { base, dir } = mkBase("toggle");
    const p = script(dir, "10.t.script", "#!/bin/sh\nexit 7\n");
    const { svc } = service(base);
    try {
      assert.equal(await svc.setScriptEnabled("legacy", "10.t", false), 0);
      assert.equal(fs.statSync(p).mode & 0o111, 0);
      assert.deepEqual(await run(svc, "monitor"), { reply: 0, summary: 0 });
      assert.equal(await svc.setScriptEnabled("legacy", "10.t.script", true), 0);
      assert.equal(fs.statSync(p).mode & 0o111, 0o111);
      assert.deepEqual(await run(svc, "monitor"), { reply: ENOEXEC, summary: 7 });
      assert.equal(await svc.setScriptEnabled("legacy", "10.none", true), ENOENT);
    } finally {
      svc.close();
    }
  });

  it("runEvent answers as eventd answers ctdbd", async () => {
    const { base, dir } = mkBase("runevent");
    script(dir, "10.f.script", "#!/bin/sh\n[ \"$1\" = monitor ] && exit 1\nexit 0\n");
    const { svc } = service(base);
    try {
      assert.equal(await svc.runEvent("monitor", [], 5), ENOEXEC);
      assert.equal(await svc.runEvent("startup", [], 5), 0);
      assert.equal(ECANCELED, 125);
    } finally {
      svc.close();
    }
  });
});
