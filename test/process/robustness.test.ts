// Bad input never crashes a daemon: garbage on the client socket, strangers on
// the node port; and a nodes file with a deleted node works as under CTDB.

import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, test } from "node:test";
import { CTDB, hasRealCtdb, run, startCluster, TANDEM, testPort } from "../support/cluster.ts";

function send(socketPath: string, bytes: Buffer): Promise<"closed" | "open"> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath, () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      resolve("open");
    }, 2000);
    s.on("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
    s.on("error", () => {});
  });
}

describe("bad input", () => {
  test("garbage on the client socket closes that connection only; the daemon keeps answering", async () => {
    const cluster = await startCluster("garbage", 64379);
    try {
      await cluster.waitHealthy();
      const socket = cluster.layout.socket(0);
      const badMagic = Buffer.alloc(40);
      badMagic.writeUInt32LE(40, 0);
      badMagic.writeUInt32LE(0xdeadbeef, 4);
      assert.equal(await send(socket, badMagic), "closed");
      const lyingLength = Buffer.alloc(32);
      lyingLength.writeUInt32LE(8, 0); // shorter than the header
      lyingLength.writeUInt32LE(0x43544442, 4);
      lyingLength.writeUInt32LE(1, 8);
      assert.equal(await send(socket, lyingLength), "closed");
      // A well-framed control whose data is too short for what it claims.
      const control = Buffer.alloc(64);
      control.writeUInt32LE(64, 0);
      control.writeUInt32LE(0x43544442, 4);
      control.writeUInt32LE(1, 8);
      control.writeUInt32LE(7, 16); // REQ_CONTROL
      control.writeUInt32LE(0xf0000001, 20);
      control.writeUInt32LE(48, 32); // SET_TUNABLE
      control.writeUInt32LE(1000, 56); // datalen beyond the packet
      assert.equal(await send(socket, control), "closed");
      const r = await run(process.execPath, [TANDEM, "pnn"], cluster.env(0));
      assert.equal(r.stdout, "0\n");
      const log = fs.readFileSync(path.join(cluster.layout.nodeBase(0), "log.ctdb"), "utf8");
      assert.match(log, /bad magic/);
    } finally {
      await cluster.stop();
    }
  });

  test("a connection to the node port from an address not in the nodes file is refused", async () => {
    const cluster = await startCluster("stranger", 64380);
    try {
      await cluster.waitHealthy();
      const outcome = await new Promise<string>((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port: testPort(64380), localAddress: "127.0.0.9" });
        s.on("connect", () => s.write("hello"));
        s.on("close", () => resolve("closed"));
        s.on("error", () => {});
        setTimeout(() => {
          s.destroy();
          resolve("still open");
        }, 2000);
      });
      assert.equal(outcome, "closed");
      const log = fs.readFileSync(path.join(cluster.layout.nodeBase(0), "log.ctdb"), "utf8");
      assert.match(log, /Refused node connection from 127\.0\.0\.9/);
      await cluster.waitHealthy();
    } finally {
      await cluster.stop();
    }
  });
});

describe("the shared key", () => {
  test("nodes that know it form a cluster; a node with another key is kept out", async () => {
    // Majority election: with a shared lock file, the shut-out node could take
    // the lock alone and leave the other two leaderless (as any cut-off holder would).
    const cluster = await startCluster("key", 64382, {
      lock: "none",
      tandem: ["shared key = correct horse battery staple"],
      setup: (layout) => {
        fs.writeFileSync(path.join(layout.nodeBase(2), "tandem.conf"), `[cluster]\n\tport = ${testPort(64382)}\n\tshared key = wrong\n`);
      },
    });
    try {
      await cluster.waitFor((v) => v.flags[0] === 0 && v.flags[1] === 0 && v.leader !== 0xffffffff, 0);
      const logFile = path.join(cluster.layout.nodeBase(2), "log.ctdb");
      // Node 2 may not have written its log yet when the other two have formed.
      const log2 = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
      for (let i = 0; !/failed to prove the shared key/.test(log2()); i++) {
        assert.ok(i < 100, "node 2 never reported a failed proof");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Its reconnects keep failing: after a while it is still outside.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const view = await cluster.waitFor((v) => v.flags[0] === 0, 0);
      assert.equal(view.flags[2]! & 0x01, 0x01, "node 2 stays DISCONNECTED");
    } finally {
      await cluster.stop();
    }
  });
});

describe("a deleted node in the nodes file", { skip: hasRealCtdb ? false : "ctdb not installed" }, () => {
  test("the cluster forms without it and ctdb and tandem show it the same way", async () => {
    const cluster = await startCluster("deleted", 64381, {
      nodes: 3,
      setup: (layout) => {
        for (let pnn = 0; pnn < 3; pnn++) {
          // Node 1's line is commented out: PNN 1 is DELETED, 2 keeps its number.
          fs.writeFileSync(path.join(layout.nodeBase(pnn), "nodes"), "127.0.0.1\n#127.0.0.2\n127.0.0.3\n");
        }
      },
      skipNodes: [1],
    });
    try {
      const view = await cluster.waitFor((v) => v.flags[0] === 0 && v.flags[2] === 0 && v.leader !== 0xffffffff, 0);
      assert.equal(view.flags[1]! & 0x10, 0x10, "PNN 1 is DELETED");
      for (const args of [["status"], ["-X", "status"], ["listnodes"], ["nodestatus", "all"]]) {
        const [theirs, ours] = await Promise.all([run(CTDB, args, cluster.env(2)), run(process.execPath, [TANDEM, ...args], cluster.env(2))]);
        assert.equal(ours.stdout, theirs.stdout, args.join(" "));
        assert.equal(ours.code, theirs.code, args.join(" "));
      }
      assert.doesNotMatch((await run(CTDB, ["status"], cluster.env(0))).stdout, /127\.0\.0\.2/);
    } finally {
      await cluster.stop();
    }
  });
});
