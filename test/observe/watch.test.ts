// `tandem status --watch`: the frames it draws (unit), and a live run against
// real daemons, read from its output without a terminal.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { frame, header, SHOW_CURSOR, watch } from "../../src/cli/watch.ts";
import { processContext } from "../../src/cli/context.ts";
import { run, startCluster, TANDEM } from "../support/cluster.ts";

describe("status --watch frames", () => {
  test("the first frame clears the screen and hides the cursor; later ones only home it", () => {
    const first = frame("HEAD", "a\nbb\n", true);
    assert.equal(first, "\x1b[?25l\x1b[H\x1b[2JHEAD\x1b[K\n\x1b[K\na\x1b[K\nbb\x1b[K\n\x1b[J");
    const next = frame("HEAD", "a\n", false);
    assert.equal(next, "\x1b[HHEAD\x1b[K\n\x1b[K\na\x1b[K\n\x1b[J");
  });

  test("the header names the command and the time", () => {
    assert.equal(header("status", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 600))), "Every 1.0s: tandem status   2026-01-02 03:04:05 UTC   (Ctrl-C to stop)");
  });

  test("a failing render is drawn with its exit status, and stopping shows the cursor again", async () => {
    let out = "";
    const ctx = {
      ...processContext(),
      stdout: (s: string) => {
        out += s;
      },
    };
    let calls = 0;
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const code = await watch(
      ctx,
      "status",
      async (c) => {
        calls++;
        c.stderr("Failed to connect to CTDB daemon (/x)\n");
        if (calls === 2) stop();
        return 1;
      },
      stopped,
    );
    assert.equal(code, 0);
    assert.match(out, /Failed to connect to CTDB daemon \(\/x\)\x1b\[K\n\(exit status 1\)\x1b\[K\n\x1b\[J/);
    assert.ok(out.endsWith(SHOW_CURSOR));
  });
});

describe("status --watch against a cluster", () => {
  test("redraws in place and shows a node turn DISABLED; Ctrl-C ends it cleanly", async () => {
    const cluster = await startCluster("watch", 48070);
    try {
      await cluster.waitHealthy(30_000);
      const child = spawn(process.execPath, [TANDEM, "status", "--watch"], { env: { ...process.env, ...cluster.env(0) } });
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (d: string) => {
        out += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      // Frames start at each cursor-home; the first also clears the screen.
      const frames = () => out.split("\x1b[H").slice(1).map((f) => f.replace(/^\x1b\[2J/, ""));
      const waitFrames = async (accept: (f: string[]) => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!accept(frames())) {
          assert.ok(Date.now() < deadline, `never saw ${what}; output so far:\n${JSON.stringify(out)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      try {
        await waitFrames((f) => f.length >= 2, "two frames");
        assert.ok(out.startsWith("\x1b[?25l\x1b[H\x1b[2J"), "the first frame clears the screen");
        for (const f of frames().slice(0, 2)) {
          assert.match(f, /^Every 1\.0s: tandem status /);
          assert.match(f, /Number of nodes:3\x1b\[K\n/);
          assert.match(f, /pnn:1 127\.0\.0\.2 +OK\x1b\[K\n/);
          assert.ok(f.endsWith("\x1b[J") || f === frames().at(-1), "each frame clears what is below it");
        }
        const disable = await run(process.execPath, [TANDEM, "-n", "1", "disable"], cluster.env(0));
        assert.equal(disable.code, 0, disable.stderr);
        await waitFrames((f) => f.some((x) => /pnn:1 127\.0\.0\.2 +DISABLED/.test(x)), "node 1 DISABLED");
        child.kill("SIGINT");
        assert.equal(await exited, 0);
        assert.ok(out.endsWith(SHOW_CURSOR), "the cursor is shown again");
      } finally {
        child.kill("SIGKILL");
      }
    } finally {
      await cluster.stop();
    }
  });

  test("--watch with another command is refused, naming it", async () => {
    const r = await run(process.execPath, [TANDEM, "--watch", "pnn"], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--watch applies only to status, not to pnn/);
  });
});
