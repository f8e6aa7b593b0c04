// The network-namespace bed itself: its namespaces, link, services and client
// work, the address watcher sees an address on two nodes, and the bed is gone
// afterwards — also when its process is interrupted. Needs root.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { alive, checkoutDir, sleep } from "../../src/local/cluster.ts";
import { testPort } from "../support/cluster.ts";
import { parseAddrLine, watchAddresses } from "../support/netbed/addr-watch.ts";
import { startService } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed, namespaceExists } from "../support/netns.ts";

const skip = bedUnavailable();
let bed: Bed | undefined;
const PORT = testPort(44002);

before(() => {
  if (skip === undefined) bed = makeBed();
});
after(async () => {
  await bed?.remove();
});

test("ip monitor lines are read as address changes", () => {
  assert.deepEqual(parseAddrLine("2: eth0    inet 198.51.100.1/24 brd 198.51.100.255 scope global eth0\\       valid_lft forever"), {
    added: true,
    iface: "eth0",
    address: "198.51.100.1",
  });
  assert.deepEqual(parseAddrLine("Deleted 2: eth0    inet6 2001:db8::1/64 scope global \\       valid_lft forever"), {
    added: false,
    iface: "eth0",
    address: "2001:db8::1",
  });
  assert.equal(parseAddrLine("3: eth0    link/ether 02:00:00:00:00:01"), undefined);
});

test("a moved address is answered by its new host and an overlap is seen", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || bed === undefined) return t.skip(skip);
  const b = bed;
  for (let i = 0; i < b.nodeCount; i++) await startService(b, b.nodeNs[i]!, `node${i}`, PORT);
  const ask = async (addr: string) =>
    (await b.exec(b.clientNs, [process.execPath, "-e", `require("net").connect(${PORT}, ${JSON.stringify(addr)}).on("data", d => { process.stdout.write(d); process.exit(0); }).on("error", e => { console.error(e.code); process.exit(1); })`])).stdout.trim();
  for (let i = 0; i < b.nodeCount; i++) assert.equal(await ask(b.nodeAddress(i)), `node${i}`);

  const watch = await watchAddresses(b);
  const add = (i: number, a: string) => assert.equal(b.execSync(b.nodeNs[i]!, ["ip", "addr", "add", a, "dev", "eth0"]).code, 0);
  const del = (i: number, a: string) => assert.equal(b.execSync(b.nodeNs[i]!, ["ip", "addr", "del", a, "dev", "eth0"]).code, 0);
  add(1, "198.51.100.1/24");
  assert.equal(await ask("198.51.100.1"), "node1");
  del(1, "198.51.100.1/24");
  add(2, "198.51.100.1/24");
  // The client still has node 1's MAC: a gratuitous ARP tells it.
  b.execSync(b.nodeNs[2]!, ["arping", "-q", "-U", "-c", "1", "-I", "eth0", "198.51.100.1"]);
  assert.equal(await ask("198.51.100.1"), "node2");
  add(0, "2001:db8::1/64");
  assert.equal(await ask("2001:db8::1"), "node0");
  await sleep(100);
  assert.equal(watch.overlaps.length, 0);
  assert.equal(watch.hostOf("198.51.100.1"), 2);
  add(0, "198.51.100.1/24");
  await sleep(200);
  assert.deepEqual(watch.overlaps.map((o) => [o.address, o.nodes]), [["198.51.100.1", [0, 2]]]);
  assert.deepEqual(watch.verify(), []);
  watch.stop();

  b.setLink(1, false);
  assert.match(b.execSync(b.nodeNs[1]!, ["ip", "link", "show", "eth0"]).stdout, /NO-CARRIER/);
  b.setLink(1, true);
});

test("the bed is removed, with what runs in it, when its process is interrupted", { timeout: 30_000 }, async (t) => {
  if (skip !== undefined) return t.skip(skip);
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { makeBed } from ${JSON.stringify(path.join(checkoutDir(), "dist", "test", "support", "netns.js"))};
       const b = makeBed({ nodes: 1 });
       const p = b.spawn(b.nodeNs[0], ["sleep", "60"], { stdio: "ignore" });
       console.log(JSON.stringify({ ns: [b.hubNs, b.clientNs, ...b.nodeNs], pid: p.pid }));
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const line = await new Promise<string>((resolve) => child.stdout.once("data", (d) => resolve(d.toString())));
  const { ns, pid } = JSON.parse(line) as { ns: string[]; pid: number };
  assert.ok(ns.every(namespaceExists));
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGINT");
  await exited;
  assert.deepEqual(ns.filter(namespaceExists), []);
  // Gone, or a zombie waiting for whoever adopted it.
  assert.equal(alive(pid), false);
});
