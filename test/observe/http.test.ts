// The HTTP port of real daemons: metrics, status.json, the status page in
// headless Chromium, and what the port refuses.

import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { sleep } from "../../src/local/cluster.ts";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, type TestCluster, testPort } from "../support/cluster.ts";
import { Browser, hasChromium } from "../support/chromium.ts";

const HTTP_PORT = testPort(48051);
const base = (pnn: number) => `http://127.0.0.${pnn + 1}:${HTTP_PORT}`;

/** One request with any method and a raw path (fetch would normalise "/../"). */
function raw(pnn: number, method: string, rawPath: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(HTTP_PORT, `127.0.0.${pnn + 1}`, () => s.end(`${method} ${rawPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    s.setEncoding("utf8");
    s.on("data", (d) => {
      text += d;
    });
    s.on("error", reject);
    s.on("end", () => {
      const [head = "", body = ""] = text.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), headers: head, body });
    });
  });
}

function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics and status page", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster("http", 48050, {
      httpPort: HTTP_PORT,
      setup: (layout) => {
        for (let p = 0; p < layout.nodeCount; p++) {
          fs.writeFileSync(path.join(layout.nodeBase(p), "events", "legacy", "50.sample.script"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        }
      },
    });
    await cluster.waitHealthy(30_000);
  });
  after(async () => {
    await cluster?.stop();
  });

  test("/metrics: node states, leader, runstate, generation, event scripts, process figures", async () => {
    // The first monitor event runs right after startup.
    let text = "";
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${base(0)}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      text = await res.text();
      if ((sample(text, 'tandem_event_script_runs_total{event="monitor",script="50.sample",result="ok"}') ?? 0) >= 1) break;
      await sleep(100);
    }
    for (let p = 0; p < 3; p++) assert.equal(sample(text, `tandem_node_ok{pnn="${p}",address="127.0.0.${p + 1}"}`), 1, text);
    assert.equal(sample(text, 'tandem_node_flag{pnn="1",flag="disabled"}'), 0);
    assert.equal(sample(text, "tandem_pnn"), 0);
    const leader = sample(text, "tandem_leader_pnn");
    assert.ok(leader !== undefined && leader >= 0 && leader <= 2, `leader ${leader}`);
    assert.equal(sample(text, 'tandem_runstate{runstate="RUNNING"}'), 1);
    assert.equal(sample(text, 'tandem_runstate{runstate="STARTUP"}'), 0);
    assert.ok((sample(text, "tandem_generation") ?? 0) > 1);
    assert.equal(sample(text, "tandem_recovery_mode"), 0);
    assert.ok((sample(text, 'tandem_event_script_runs_total{event="monitor",script="50.sample",result="ok"}') ?? 0) >= 1, text);
    assert.equal(sample(text, 'tandem_event_script_last_result{event="monitor",script="50.sample"}'), 0);
    assert.ok((sample(text, 'tandem_event_runs_total{event="startup",result="ok"}') ?? 0) >= 1);
    assert.match(text, /^tandem_event_script_duration_seconds_bucket\{le="0\.005",event="monitor",script="50\.sample"\} \d+$/m);
    assert.ok((sample(text, 'tandem_transport_connections_total{peer="1"}') ?? 0) >= 1);
    assert.ok((sample(text, "process_resident_memory_bytes") ?? 0) > 0);
    assert.match(text, /^# TYPE tandem_recoveries_total counter$/m);
  });

  test("/metrics: records of each attached database", { skip: !hasRealCtdb }, async () => {
    const attach = await run(process.execPath, [TANDEM, "attach", "observe.tdb"], cluster.env(0));
    assert.equal(attach.code, 0, attach.stderr);
    const series = 'tandem_database_records{db="observe.tdb",kind="volatile"}';
    assert.equal(sample(await (await fetch(`${base(0)}/metrics`)).text(), series), 0);
    // The real ctdb writes a record through node 0, which then holds it.
    const stored = await run(CTDB, ["writekey", "observe.tdb", "key1", "value1"], cluster.env(0));
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(sample(await (await fetch(`${base(0)}/metrics`)).text(), series), 1);
  });

  test("the port answers only GET on its own paths", async () => {
    for (const [method, p, status] of [
      ["POST", "/", 405],
      ["PUT", "/metrics", 405],
      ["HEAD", "/status.json", 405],
      ["DELETE", "/status.js", 405],
      ["GET", "/index.html", 404],
      ["GET", "/../../../../etc/passwd", 404],
      ["GET", "/%2e%2e/%2e%2e/etc/passwd", 404],
      ["GET", "/web/status.js", 404],
      ["GET", "//etc/passwd", 404],
      ["POST", "/nope", 404],
    ] as const) {
      const r = await raw(0, method, p);
      assert.equal(r.status, status, `${method} ${p}`);
      if (status === 405) assert.match(r.headers, /\r\nAllow: GET\r\n/i);
      assert.doesNotMatch(r.body, /root:/);
    }
    const page = await raw(0, "GET", "/?refresh=1");
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Tandem cluster<\/title>/);
    const garbage = await new Promise<string>((resolve) => {
      const s = net.connect(HTTP_PORT, "127.0.0.1", () => s.write("\x16\x03\x01 not http at all\r\n\r\n"));
      let got = "";
      s.on("data", (d) => {
        got += d.toString();
      });
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(got));
    });
    assert.doesNotMatch(garbage, /200 OK/);
    assert.equal((await fetch(`${base(0)}/status.json`)).status, 200, "the port still serves after garbage");
  });

  test("the page shows three nodes, and a node turning DISABLED within 2 s of `tandem disable`", { skip: !hasChromium }, async () => {
    const browser = Browser.launch();
    try {
      const page = await browser.newPage({ width: 412, height: 915, mobile: true, scale: 2 });
      await page.goto(`${base(0)}/`);
      const states = await page.waitFor<string[]>(
        `(() => { const s = [...document.querySelectorAll("#nodes .node")].map((n) => n.dataset.state); return s.length === 3 && s.every((x) => x === "OK") ? s : null; })()`,
        10_000,
        "three OK nodes",
      );
      assert.deepEqual(states, ["OK", "OK", "OK"]);
      const title = await page.evaluate<string>("document.title");
      assert.match(title, /3\/3 OK/);
      const disable = await run(process.execPath, [TANDEM, "-n", "1", "disable"], cluster.env(0));
      assert.equal(disable.code, 0, disable.stderr);
      const shown = await page.waitFor<string>(
        `document.querySelector('#nodes .node[data-pnn="1"]')?.dataset.state.includes("DISABLED") && document.querySelector('#nodes .node[data-pnn="1"]').textContent`,
        2000,
        "node 1 DISABLED",
      );
      assert.match(shown, /Node 1.*127\.0\.0\.2.*DISABLED/);
      await page.waitFor<boolean>(`document.querySelector("#timeline").textContent.includes("Node 1: OK → DISABLED")`, 2000, "the change in the timeline");
      const shot = process.env["TANDEM_SCREENSHOT"];
      if (shot !== undefined) await page.screenshot(shot);
      const metrics = await (await fetch(`${base(2)}/metrics`)).text();
      assert.equal(sample(metrics, 'tandem_node_flag{pnn="1",flag="disabled"}'), 1);
      assert.equal(sample(metrics, 'tandem_node_ok{pnn="1",address="127.0.0.2"}'), 0);
    } finally {
      await browser.close();
      await run(process.execPath, [TANDEM, "-n", "1", "enable"], cluster.env(0));
    }
  });
});

describe("metrics port in use", () => {
  test("the daemon refuses to start, naming the address, the setting and the reason", async () => {
    const port = testPort(48060);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    const cluster = await startCluster("httpbusy", 48061, { nodes: 1, httpPort: port });
    try {
      const out = path.join(cluster.layout.nodeBase(0), "daemon.out");
      const deadline = Date.now() + 10_000;
      while (!/cannot serve/.test(fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "")) {
        assert.ok(Date.now() < deadline, "no error about the busy port");
        await sleep(50);
      }
      assert.match(
        fs.readFileSync(out, "utf8"),
        new RegExp(`tandemd: cannot serve metrics and the status page on 127\\.0\\.0\\.1:${port} \\(\\[http\\] listen in .*tandem\\.conf\\): the port is already in use`),
      );
      const pid = cluster.pids[0]!;
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`) && !/\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); i++) await sleep(50);
      assert.ok(!fs.existsSync(cluster.layout.pidFile(0)), "the pid file is removed");
    } finally {
      await cluster.stop();
      squatter.close();
    }
  });
});
