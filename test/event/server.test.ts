import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { EventBackend, EventRunRequest, EventStatus } from "../../src/event/api.ts";
import {
  type EventReply,
  type EventRequest,
  FrameReader,
  decodeReply,
  encodeRequest,
} from "../../src/event/protocol.ts";
import {
  type EventServer,
  handleEventRequest,
  msToTimeval,
  runResultToReply,
  splitRunArgs,
  startEventServer,
} from "../../src/event/server.ts";

/**
 * A working in-memory event component: RUN records the request, stores the
 * status it was told to produce and returns its summary; a run can be held
 * open with a gate to model a long event.
 */
class MemoryBackend implements EventBackend {
  runs: EventRunRequest[] = [];
  toggles: { component: string; script: string; enable: boolean }[] = [];
  statuses = new Map<string, EventStatus>();
  nextOutcome: EventStatus = { summary: 0, scripts: [] };
  gate: Promise<void> | undefined;
  components = new Set(["legacy"]);
  enabled = new Map<string, boolean>();
  throwOnRun = false;

  async run(request: EventRunRequest): Promise<number> {
    this.runs.push(request);
    if (this.throwOnRun) throw new Error("runner exploded");
    if (!this.components.has(request.component)) return -2;
    const outcome = this.nextOutcome;
    if (this.gate !== undefined) await this.gate;
    if (outcome.summary !== -125) this.statuses.set(`${request.component}/${request.event}`, outcome);
    return outcome.summary;
  }

  status(component: string, event: string): EventStatus | { error: number } {
    if (!this.components.has(component)) return { error: 2 };
    return this.statuses.get(`${component}/${event}`) ?? { error: 22 };
  }

  async setScriptEnabled(component: string, script: string, enable: boolean): Promise<number> {
    this.toggles.push({ component, script, enable });
    if (!this.components.has(component)) return -2;
    if (script === "bad name") return -22;
    this.enabled.set(script, enable);
    return 0;
  }
}

class TestLog {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(`info: ${m}`);
  }
  error(m: string) {
    this.lines.push(`error: ${m}`);
  }
}

/** A raw protocol client that can pipeline requests and collects replies by reqid. */
class RawClient {
  private frames = new FrameReader(1 << 20);
  private waiters = new Map<number, (r: EventReply) => void>();
  readonly sock: net.Socket;
  closed: Promise<void>;
  order: number[] = [];

  constructor(socketPath: string) {
    this.sock = net.connect(socketPath);
    this.sock.on("data", (chunk: Buffer) => {
      for (const p of this.frames.push(chunk)) {
        const { header, reply } = decodeReply(p);
        this.order.push(header.reqid);
        this.waiters.get(header.reqid)?.(reply);
      }
    });
    this.sock.on("error", () => {});
    this.closed = new Promise((resolve) => this.sock.on("close", () => resolve()));
  }

  send(reqid: number, req: EventRequest): Promise<EventReply> {
    const p = new Promise<EventReply>((resolve) => this.waiters.set(reqid, resolve));
    this.sock.write(encodeRequest(reqid, req));
    return p;
  }

  writeRaw(b: Buffer) {
    this.sock.write(b);
  }
}

describe("event server: pure helpers", () => {
  it("maps run summaries to eventd's RUN results", () => {
    assert.equal(runResultToReply(0), 0);
    assert.equal(runResultToReply(1), 8); // a failing script -> ENOEXEC
    assert.equal(runResultToReply(255), 8);
    assert.equal(runResultToReply(-110), 110);
    assert.equal(runResultToReply(-125), 125);
    assert.equal(runResultToReply(-2), 2);
  });

  it("splits arguments the way eventd's strtok does", () => {
    assert.deepEqual(splitRunArgs(null), []);
    assert.deepEqual(splitRunArgs("eth0  10.0.0.1 24 "), ["eth0", "10.0.0.1", "24"]);
  });

  it("converts epoch milliseconds to a timeval", () => {
    assert.deepEqual(msToTimeval(1763766145123.456), { sec: 1763766145, usec: 123456 });
    assert.deepEqual(msToTimeval(1999.9999), { sec: 2, usec: 0 });
    assert.deepEqual(msToTimeval(Number.NaN), { sec: 0, usec: 0 });
  });

  it("answers a failing backend with EIO and logs it", async () => {
    const b = new MemoryBackend();
    b.throwOnRun = true;
    const log = new TestLog();
    const r = await handleEventRequest(
      b,
      { cmd: "run", component: "legacy", event: "monitor", args: null, timeout: 1, flags: 0 },
      log,
    );
    assert.deepEqual(r, { cmd: "run", result: 5 });
    assert.match(log.lines.join("\n"), /RUN failed: runner exploded/);
  });

  it("tells a run that could not start from a script with a negative result", async () => {
    const log = new TestLog();
    const run = { cmd: "run", component: "legacy", event: "monitor", args: null, timeout: 1, flags: 0 } as const;
    // Completed run: a script could not be executed (-EACCES) and its status is recorded.
    const b = new MemoryBackend();
    b.nextOutcome = { summary: -13, scripts: [{ name: "01.x", result: -13, beginMs: 0, endMs: 0, output: "" }] };
    assert.deepEqual(await handleEventRequest(b, run, log), { cmd: "run", result: 8 });
    // Run that never started: nothing recorded, eventd replies the errno itself.
    const missing = new MemoryBackend();
    missing.components.clear();
    missing.components.add("other");
    assert.deepEqual(await handleEventRequest(missing, run, log), { cmd: "run", result: 2 });
  });

  it("answers NULL component or event with EINVAL without calling the backend", async () => {
    const b = new MemoryBackend();
    const log = new TestLog();
    assert.deepEqual(await handleEventRequest(b, { cmd: "status", component: null, event: "m" }, log), {
      cmd: "status",
      result: 22,
    });
    assert.deepEqual(
      await handleEventRequest(b, { cmd: "script", component: "legacy", script: null, action: "enable" }, log),
      { cmd: "script", result: 22 },
    );
    assert.equal(b.toggles.length, 0);
  });
});

describe("event server over a unix socket", () => {
  let dir: string;
  let sockPath: string;
  let backend: MemoryBackend;
  let log: TestLog;
  let server: EventServer;
  const clients: RawClient[] = [];
  const client = () => {
    const c = new RawClient(sockPath);
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-eventd-"));
    sockPath = path.join(dir, "eventd.socket");
    backend = new MemoryBackend();
    log = new TestLog();
    server = await startEventServer(sockPath, backend, log);
  });

  after(async () => {
    for (const c of clients) c.sock.destroy();
    await server.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it("creates the socket with mode 0600", async () => {
    const st = await fsp.stat(sockPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
  });

  it("passes RUN fields to the backend and returns the mapped result", async () => {
    const c = client();
    backend.nextOutcome = {
      summary: 3,
      scripts: [{ name: "02.fail", result: 3, beginMs: 1000.5, endMs: 2000.25, output: "bad\n" }],
    };
    const r = await c.send(11, {
      cmd: "run",
      component: "legacy",
      event: "takeip",
      args: "eth0 10.0.0.1 24",
      timeout: 25,
      flags: 1,
    });
    assert.deepEqual(r, { cmd: "run", result: 8 });
    assert.deepEqual(backend.runs.at(-1), {
      component: "legacy",
      event: "takeip",
      args: ["eth0", "10.0.0.1", "24"],
      timeoutSec: 25,
      runAll: true,
    });

    const st = await c.send(12, { cmd: "status", component: "legacy", event: "takeip" });
    assert.deepEqual(st, {
      cmd: "status",
      result: 0,
      status: {
        summary: 3,
        scripts: [
          { name: "02.fail", begin: { sec: 1, usec: 500 }, end: { sec: 2, usec: 250 }, result: 3, output: "bad\n" },
        ],
      },
    });
  });

  it("reports errors from STATUS and RUN as positive errnos", async () => {
    const c = client();
    assert.deepEqual(await c.send(1, { cmd: "status", component: "legacy", event: "never" }), {
      cmd: "status",
      result: 22,
    });
    assert.deepEqual(await c.send(2, { cmd: "status", component: "nope", event: "monitor" }), {
      cmd: "status",
      result: 2,
    });
    assert.deepEqual(
      await c.send(3, { cmd: "run", component: "nope", event: "monitor", args: null, timeout: 5, flags: 0 }),
      { cmd: "run", result: 2 },
    );
    assert.equal(backend.runs.at(-1)?.runAll, false);
    assert.deepEqual(backend.runs.at(-1)?.args, []);
  });

  it("passes SCRIPT enable/disable to the backend", async () => {
    const c = client();
    assert.deepEqual(await c.send(4, { cmd: "script", component: "legacy", script: "10.interface", action: "disable" }), {
      cmd: "script",
      result: 0,
    });
    assert.equal(backend.enabled.get("10.interface"), false);
    assert.deepEqual(await c.send(5, { cmd: "script", component: "legacy", script: "bad name", action: "enable" }), {
      cmd: "script",
      result: 22,
    });
    assert.deepEqual(backend.toggles.slice(-2), [
      { component: "legacy", script: "10.interface", enable: false },
      { component: "legacy", script: "bad name", enable: true },
    ]);
  });

  it("answers STATUS while a long RUN is still running, on the same and other connections", async () => {
    let release!: () => void;
    backend.gate = new Promise((r) => {
      release = r;
    });
    backend.nextOutcome = { summary: 0, scripts: [] };
    backend.statuses.set("legacy/monitor", {
      summary: 0,
      scripts: [{ name: "00.ctdb", result: 0, beginMs: 5000, endMs: 5001, output: "" }],
    });
    const a = client();
    const b = client();
    const running = a.send(100, { cmd: "run", component: "legacy", event: "monitor", args: null, timeout: 30, flags: 0 });
    const sameConn = await a.send(101, { cmd: "status", component: "legacy", event: "monitor" });
    const otherConn = await b.send(200, { cmd: "status", component: "legacy", event: "monitor" });
    // The old status is still visible and the output "" travels as NULL.
    assert.equal(sameConn.status?.scripts[0]?.output, null);
    assert.deepEqual(otherConn, sameConn);
    assert.deepEqual(a.order, [101]);
    release();
    backend.gate = undefined;
    assert.deepEqual(await running, { cmd: "run", result: 0 });
    assert.deepEqual(a.order, [101, 100]);
  });

  it("closes a connection that sends a malformed packet, logs it, and keeps serving others", async () => {
    const bad = client();
    const good = client();
    const pkt = encodeRequest(9, { cmd: "status", component: "legacy", event: "monitor" });
    pkt.writeUInt32LE(42, 12); // unknown command
    bad.writeRaw(pkt);
    await bad.closed;
    assert.match(log.lines.join("\n"), /invalid packet of 39 bytes: event request: unknown command 42; closing/);
    assert.equal(
      (await good.send(1, { cmd: "status", component: "legacy", event: "never" })).result,
      22,
    );
  });

  it("closes a connection whose length field is impossible", async () => {
    const c = client();
    c.writeRaw(Buffer.from([4, 0, 0, 0]));
    await c.closed;
    assert.match(log.lines.join("\n"), /bad framing: packet length 4 is shorter/);
    const c2 = client();
    const huge = Buffer.alloc(12);
    huge.writeUInt32LE(0x7fffffff, 0);
    c2.writeRaw(huge);
    await c2.closed;
    assert.match(log.lines.join("\n"), /exceeds the limit/);
  });

  it("survives a client that disconnects before its RUN finishes", async () => {
    let release!: () => void;
    backend.gate = new Promise((r) => {
      release = r;
    });
    const c = client();
    void c.send(7, { cmd: "run", component: "legacy", event: "startup", args: null, timeout: 1, flags: 0 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(backend.runs.at(-1)?.event, "startup");
    c.sock.destroy();
    await c.closed;
    release();
    backend.gate = undefined;
    await new Promise((r) => setTimeout(r, 20));
    const again = client();
    assert.equal((await again.send(8, { cmd: "status", component: "legacy", event: "startup" })).result, 0);
  });

  it("answers EIO when the backend's status cannot be put on the wire", async () => {
    backend.statuses.set("legacy/odd", {
      summary: 0,
      scripts: [{ name: "bad\0name", result: 0, beginMs: 0, endMs: 0, output: "" }],
    });
    const c = client();
    assert.deepEqual(await c.send(77, { cmd: "status", component: "legacy", event: "odd" }), {
      cmd: "status",
      result: 5,
    });
    assert.match(log.lines.join("\n"), /cannot encode status reply: script 0 name must not contain a NUL/);
  });

  it("serves a pipelined burst of requests from one connection", async () => {
    const c = client();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => c.send(1000 + i, { cmd: "status", component: "legacy", event: "monitor" })),
    );
    assert.equal(replies.length, 200);
    assert.ok(replies.every((r) => r.result === 0));
  });
});

describe("event server: socket file handling", () => {
  it("replaces a stale socket, refuses a live one or a non-socket, and removes its socket on close", async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "tandem-eventd-"));
    const sockPath = path.join(dir, "eventd.socket");
    const log = new TestLog();
    const servers: EventServer[] = [];
    try {
      // A socket file left behind by a dead process.
      const stale = net.createServer();
      await new Promise<void>((r) => stale.listen(sockPath, r));
      // Closing a listening server unlinks the path in Node; recreate a dead
      // socket file by binding and never accepting is not possible, so make a
      // stale file by hard-linking the socket before closing.
      const keep = path.join(dir, "keep.socket");
      await fsp.link(sockPath, keep);
      await new Promise<void>((r) => stale.close(() => r()));
      await fsp.rename(keep, sockPath);
      assert.ok((await fsp.lstat(sockPath)).isSocket());

      const s1 = await startEventServer(sockPath, new MemoryBackend(), log);
      servers.push(s1);
      const c = new RawClient(sockPath);
      assert.equal((await c.send(1, { cmd: "status", component: "legacy", event: "x" })).result, 22);
      c.sock.destroy();

      await assert.rejects(startEventServer(sockPath, new MemoryBackend(), log), /already listening/);

      await s1.close();
      servers.pop();
      await assert.rejects(fsp.lstat(sockPath), { code: "ENOENT" });

      await fsp.writeFile(sockPath, "not a socket");
      await assert.rejects(startEventServer(sockPath, new MemoryBackend(), log), /is not a socket/);
      assert.equal(await fsp.readFile(sockPath, "utf8"), "not a socket");
    } finally {
      for (const s of servers) await s.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
