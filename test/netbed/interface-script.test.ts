// The public address script's events on a real interface in a namespace,
// the same table for CTDB's shipped 10.interface and for Tandem's own
// events/legacy/10.interface.script: init drops leftovers, takeip configures
// an address, releaseip removes it and resets connections to it (IPv4 and
// IPv6), updateip moves it between interfaces, monitor follows the link.
// The scripts call `tandem` as their ctdb tool, as under tandemd. Needs root.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { checkoutDir } from "../../src/local/cluster.ts";
import { testPort } from "../support/cluster.ts";
import { startClient, startService } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const skip = bedUnavailable();
const PORT = testPort(44005);
const CTDB_SCRIPT = "/usr/share/ctdb/events/legacy/10.interface.script";
const SCRIPTS: Record<string, string> = {
  tandem: path.join(checkoutDir(), "events", "legacy", "10.interface.script"),
  ctdb: CTDB_SCRIPT,
};
let bed: Bed | undefined;
let root = "";

before(async () => {
  if (skip !== undefined) return;
  bed = makeBed({ nodes: 1 });
  const ns = bed.nodeNs[0]!;
  // A second interface to move an address to (dummy links need a module that may be absent).
  assert.equal(bed.execSync(ns, ["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"]).code, 0);
  bed.execSync(ns, ["ip", "link", "set", "eth1p", "up"]);
  await startService(bed, ns, "node0", PORT);
  root = fs.mkdtempSync(path.join(os.tmpdir(), `${bed.id}-scripts-`));
});
after(async () => {
  await bed?.remove();
  if (root !== "") fs.rmSync(root, { recursive: true, force: true });
});

const has = (b: Bed, dev: string, a: string) => b.execSync(b.nodeNs[0]!, ["ip", "-o", "addr", "show", "dev", dev]).stdout.includes(` ${a}/`);

for (const [name, script] of Object.entries(SCRIPTS)) {
  describe(`${name}'s 10.interface`, { skip: skip ?? (fs.existsSync(script) ? false : `${script} is not installed`) }, () => {
    let base = "";
    const run = async (...args: string[]) => {
      const env = [
        `PATH=${process.env["PATH"]}`,
        `CTDB_BASE=${base}`,
        `CTDB=${path.join(checkoutDir(), "bin", "tandem.js")}`,
        `CTDB_SCRIPT_VARDIR=${path.join(base, "scripts")}`,
        // No daemon here: the tool's calls fail fast.
        `CTDB_SOCKET=${path.join(base, "no-daemon.socket")}`,
      ];
      return bed!.exec(bed!.nodeNs[0]!, ["env", "-i", ...env, script, ...args]);
    };
    before(() => {
      base = path.join(root, name);
      fs.mkdirSync(path.join(base, "scripts"), { recursive: true });
      if (fs.existsSync("/etc/ctdb/functions")) fs.copyFileSync("/etc/ctdb/functions", path.join(base, "functions"));
      fs.writeFileSync(path.join(base, "public_addresses"), "198.51.100.1/24 eth0\n2001:db8::1/64 eth0\n");
    });

    test("init removes a leftover address, takeip adds, releaseip removes and resets the connections", { timeout: 60_000 }, async () => {
      const b = bed!;
      b.execSync(b.nodeNs[0]!, ["ip", "addr", "add", "198.51.100.1/24", "dev", "eth0"]);
      const init = await run("init");
      assert.equal(init.code, 0, init.stdout + init.stderr);
      assert.equal(has(b, "eth0", "198.51.100.1"), false, "init dropped the leftover");
      for (const [a, bits] of [
        ["198.51.100.1", "24"],
        ["2001:db8::1", "64"],
      ] as const) {
        const r = await run("takeip", "eth0", a, bits);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.ok(has(b, "eth0", a), a);
      }
      const again = await run("takeip", "eth0", "198.51.100.1", "24");
      assert.notEqual(again.code, 0, "taking an address already there fails, as ip addr add does");
      const client = startClient(b, PORT, ["198.51.100.1", "2001:db8::1"]);
      try {
        for (const a of ["198.51.100.1", "2001:db8::1"]) assert.ok(await client.waitFor((e) => e.kind === "held" && e.addr === a, 5000), a);
        const since = Date.now();
        for (const [a, bits] of [
          ["198.51.100.1", "24"],
          ["2001:db8::1", "64"],
        ] as const) {
          const r = await run("releaseip", "eth0", a, bits);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(has(b, "eth0", a), false, a);
          const end = await client.waitFor((e) => e.kind === "held-end" && e.addr === a, 3000, since);
          assert.equal(end?.error, "ECONNRESET", `${a}: ${r.stdout}`);
        }
      } finally {
        client.stop();
      }
    });

    test("updateip moves an address to another interface", { timeout: 30_000 }, async () => {
      const b = bed!;
      const take = await run("takeip", "eth0", "198.51.100.1", "24");
      assert.equal(take.code, 0, take.stdout + take.stderr);
      const r = await run("updateip", "eth0", "eth1", "198.51.100.1", "24");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(has(b, "eth0", "198.51.100.1"), false);
      assert.ok(has(b, "eth1", "198.51.100.1"));
      assert.equal((await run("shutdown")).code, 0);
      assert.equal(has(b, "eth1", "198.51.100.1"), false, "shutdown drops every public address");
    });

    test("monitor fails while the public interface has no link", { timeout: 30_000 }, async () => {
      const b = bed!;
      assert.equal((await run("monitor")).code, 0);
      b.setLink(0, false);
      try {
        const down = await run("monitor");
        assert.equal(down.code, 1, down.stdout);
        assert.match(down.stdout, /No link on the public network interface eth0/);
      } finally {
        b.setLink(0, true);
      }
      assert.equal((await run("monitor")).code, 0);
    });
  });
}
