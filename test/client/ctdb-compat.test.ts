// Drives the REAL ctdb 4.17 binary against a small server built on our codecs:
// every packet the tool sends must decode, and it must print what we answered.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { Control, CURRENT_NODE, Operation, SRVID_LEADER, UNKNOWN_PNN } from "../../src/protocol/constants.ts";
import type { ReqControl } from "../../src/protocol/packets.ts";
import * as T from "../../src/protocol/types.ts";
import { FakeDaemon, type FakeDaemonOptions } from "./fake-daemon.ts";

const CTDB = "/usr/bin/ctdb";
const skip = existsSync(CTDB) ? false : "the ctdb binary is not installed";

const daemons: FakeDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

async function start(opts: FakeDaemonOptions): Promise<FakeDaemon> {
  const d = await FakeDaemon.start(opts);
  daemons.push(d);
  writeFileSync(join(d.dir, "nodes"), "127.0.0.1\n");
  return d;
}

function runCtdb(d: FakeDaemon, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      CTDB,
      args,
      { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", CTDB_BASE: d.dir, CTDB_SOCKET: d.socketPath }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function controlSequence(d: FakeDaemon): ReqControl[] {
  return d.received.filter((p): p is ReqControl => p.operation === Operation.REQ_CONTROL);
}

function assertAllDecoded(d: FakeDaemon): void {
  assert.deepEqual(d.decodeErrors, []);
  assert.equal(d.received.length, d.rawReceived.length);
  for (const raw of d.rawReceived) assert.equal(raw.length % 8, 0, "the tool pads packets to 8 bytes");
}

test("ctdb pnn: GET_PNN to CURRENT_NODE, then REGISTER_SRVID(LEADER); prints our pnn", { skip }, async () => {
  const d = await start({ pnn: 2 });
  const r = await runCtdb(d, ["pnn"]);
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "2\n");
  assertAllDecoded(d);
  const seq = controlSequence(d);
  assert.deepEqual(
    seq.map((p) => p.opcode),
    [Control.GET_PNN, Control.REGISTER_SRVID],
  );
  assert.equal(seq[0]!.destnode, CURRENT_NODE);
  assert.equal(seq[0]!.srcnode, UNKNOWN_PNN);
  assert.equal(seq[1]!.srvid, SRVID_LEADER);
  assert.equal(seq[1]!.destnode, 2);
  assert.equal(seq[1]!.srcnode, 2);
  assert.equal(seq[1]!.reqid, seq[0]!.reqid + 1);
});

test("ctdb getpid prints the pid we return in status", { skip }, async () => {
  const d = await start({ pnn: 0, pid: 54321 });
  const r = await runCtdb(d, ["getpid"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "54321\n");
  assertAllDecoded(d);
  assert.deepEqual(
    controlSequence(d).map((p) => p.opcode),
    [Control.GET_PNN, Control.REGISTER_SRVID, Control.GET_PID],
  );
});

test("ctdb status reads our node map, vnn map, recovery mode and leader broadcast", { skip }, async () => {
  const d = await start({ pnn: 0, leader: 1, leaderIntervalMs: 200 });
  d.handlers.set(Control.GET_NODEMAP, () => ({
    status: 0,
    data: T.encodeNodeMap({
      nodes: [
        { pnn: 0, flags: 0, addr: "127.0.0.1" },
        { pnn: 1, flags: 0x04, addr: "fd00::2" },
      ],
    }),
  }));
  d.handlers.set(Control.GET_RUNSTATE, () => ({ status: 0, data: T.encodeU32(5) }));
  d.handlers.set(Control.GET_IFACES, () => ({ status: 0, data: T.encodeIfaceList([{ name: "eth0", linkState: 1, references: 0 }]) }));
  d.handlers.set(Control.GETVNNMAP, () => ({ status: 0, data: T.encodeVnnMap({ generation: 424242, map: [0, 1] }) }));
  d.handlers.set(Control.GET_RECMODE, () => ({ status: 0 }));
  const r = await runCtdb(d, ["status"]);
  assert.equal(r.code, 0, r.stderr);
  assertAllDecoded(d);
  assert.match(r.stdout, /^Number of nodes:2$/m);
  assert.match(r.stdout, /^pnn:0 127\.0\.0\.1 +OK \(THIS NODE\)$/m);
  assert.match(r.stdout, /^pnn:1 fd00::2 +DISABLED$/m);
  assert.match(r.stdout, /^Generation:424242$/m);
  assert.match(r.stdout, /^hash:1 lmaster:1$/m);
  assert.match(r.stdout, /^Recovery mode:NORMAL \(0\)$/m);
  assert.match(r.stdout, /^Leader:1$/m);
  assert.deepEqual(
    controlSequence(d).map((p) => Control[p.opcode]),
    ["GET_PNN", "REGISTER_SRVID", "GET_NODEMAP", "GET_RUNSTATE", "GETVNNMAP", "GET_RECMODE", "GET_IFACES"],
  );
});

test("ctdb uptime, listvars and ip parse our payloads", { skip }, async () => {
  const d = await start({ pnn: 0 });
  d.handlers.set(Control.UPTIME, () => ({
    status: 0,
    data: T.encodeUptime({
      currentTime: { sec: 1000, usec: 0 },
      ctdbdStartTime: { sec: 1000 - 90061, usec: 0 },
      lastRecoveryStarted: { sec: 990, usec: 0 },
      lastRecoveryFinished: { sec: 991, usec: 250000 },
    }),
  }));
  d.handlers.set(Control.LIST_TUNABLES, () => ({ status: 0, data: T.encodeVarList(["MonitorInterval", "EnableBans"]) }));
  d.handlers.set(Control.GET_TUNABLE, (req) => ({
    status: 0,
    data: T.encodeU32(T.decodeGetTunableRequest(req.data) === "MonitorInterval" ? 15 : 1),
  }));
  d.handlers.set(Control.GET_NODEMAP, () => ({ status: 0, data: T.encodeNodeMap({ nodes: [{ pnn: 0, flags: 0, addr: "127.0.0.1" }] }) }));
  d.handlers.set(Control.GET_PUBLIC_IPS, () => ({
    status: 0,
    data: T.encodePublicIpList([
      { pnn: 0, addr: "192.0.2.10" },
      { pnn: UNKNOWN_PNN, addr: "192.0.2.11" },
    ]),
  }));
  const infoAsked: string[] = [];
  d.handlers.set(Control.GET_PUBLIC_IP_INFO, (req) => {
    const addr = T.decodeSockAddr(req.data);
    infoAsked.push(addr);
    return {
      status: 0,
      data: T.encodePublicIpInfo({
        ip: { pnn: addr === "192.0.2.10" ? 0 : UNKNOWN_PNN, addr },
        activeIdx: 0,
        ifaces: [{ name: "eth7", linkState: 1, references: 1 }],
      }),
    };
  });

  const up = await runCtdb(d, ["uptime"]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /^Ctdbd start time +: \(001 01:01:01\)/m);
  assert.match(up.stdout, /^Duration of last recovery\/failover: 1\.250000 seconds$/m);

  const vars = await runCtdb(d, ["listvars"]);
  assert.equal(vars.code, 0, vars.stderr);
  assert.equal(vars.stdout, "MonitorInterval            = 15\nEnableBans                 = 1\n");

  const ip = await runCtdb(d, ["ip"]);
  assert.equal(ip.code, 0, ip.stderr);
  assert.equal(ip.stdout, "Public IPs on node 0\n192.0.2.10 0\n192.0.2.11 -1\n");
  assert.deepEqual(infoAsked, ["192.0.2.10", "192.0.2.11"]);

  const ipv = await runCtdb(d, ["ip", "-v"]);
  assert.equal(ipv.code, 0, ipv.stderr);
  assert.match(ipv.stdout, /^192\.0\.2\.10 node\[0\] active\[eth7\] available\[eth7\] configured\[eth7\]$/m);
  assertAllDecoded(d);
  // the tool's sock_addr bytes are exactly ours
  for (const req of controlSequence(d).filter((p) => p.opcode === Control.GET_PUBLIC_IP_INFO)) {
    assert.deepEqual(req.data, T.encodeSockAddr(T.decodeSockAddr(req.data)));
  }
});
