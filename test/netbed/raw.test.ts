// The raw packet seam against real kernels, in a network-namespace bed: a
// gratuitous ARP and an unsolicited neighbour advertisement move the client's
// neighbour entry to the new host; a tickle ACK from the new host gets the
// client's stale connection reset; killtcp resets a real connection, IPv4 and
// IPv6. Needs root.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { checkoutDir, sleep } from "../../src/local/cluster.ts";
import { testPort } from "../support/cluster.ts";
import { type BedClient, startClient, startService } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const skip = bedUnavailable();
const PORT = testPort(44003);
const TANDEM = path.join(checkoutDir(), "bin", "tandem.js");
const V4 = "198.51.100.1";
const V6 = "2001:db8::1";
let bed: Bed | undefined;

before(async () => {
  if (skip !== undefined) return;
  bed = makeBed({ nodes: 2 });
  for (let i = 0; i < 2; i++) await startService(bed, bed.nodeNs[i]!, `node${i}`, PORT);
});

/** Each test starts with no floating address anywhere, whatever the one before left. */
function clearAddrs(b: Bed): void {
  for (let i = 0; i < b.nodeCount; i++) {
    for (const a of [V4, V6]) b.execSync(b.nodeNs[i]!, ["ip", "addr", "del", `${a}/${a.includes(":") ? 64 : 24}`, "dev", "eth0"]);
  }
}
after(async () => {
  await bed?.remove();
});

const mac = (b: Bed, i: number) => /link\/ether (\S+)/.exec(b.execSync(b.nodeNs[i]!, ["ip", "-o", "link", "show", "eth0"]).stdout)![1]!;
const neighbour = (b: Bed, addr: string) => /lladdr (\S+)/.exec(b.execSync(b.clientNs, ["ip", "neigh", "show", addr]).stdout)?.[1];
const addAddr = (b: Bed, i: number, a: string) => assert.equal(b.execSync(b.nodeNs[i]!, ["ip", "addr", "add", `${a}/${a.includes(":") ? 64 : 24}`, "dev", "eth0"]).code, 0);
const delAddr = (b: Bed, i: number, a: string) => assert.equal(b.execSync(b.nodeNs[i]!, ["ip", "addr", "del", `${a}/${a.includes(":") ? 64 : 24}`, "dev", "eth0"]).code, 0);
const announce = (b: Bed, i: number, a: string) =>
  b.exec(b.nodeNs[i]!, [
    process.execPath,
    "--input-type=module",
    "-e",
    `import { announceAddress } from ${JSON.stringify(path.join(checkoutDir(), "dist", "src", "failover", "raw", "announce.js"))}; announceAddress("eth0", ${JSON.stringify(a)});`,
  ]);

async function ask(b: Bed, addr: string): Promise<string> {
  const code = `require("net").connect(${PORT}, ${JSON.stringify(addr)}).on("data", d => { process.stdout.write(d); process.exit(0); }).on("error", e => { console.error(e.code); process.exit(1); })`;
  return (await b.exec(b.clientNs, [process.execPath, "-e", code], undefined, 5000)).stdout.trim();
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}

function tcpdump(b: Bed, filter: string): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = b.spawn(b.clientNs, ["tcpdump", "-i", "eth0", "-nn", "-e", "-l", "-v", filter], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  child.stdout!.on("data", (d) => lines.push(...d.toString().split("\n")));
  return new Promise((resolve) => {
    child.stderr!.on("data", (d) => {
      if (/listening on/.test(d.toString())) resolve({ child, lines });
    });
  });
}

test("gratuitous ARP and neighbour advertisement move the client to the new host", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !bed) return t.skip(skip);
  const b = bed;
  clearAddrs(b);
  for (const a of [V4, V6]) addAddr(b, 0, a);
  assert.equal(await ask(b, V4), "node0");
  assert.equal(await ask(b, V6), "node0");
  assert.equal(neighbour(b, V4), mac(b, 0));
  assert.equal(neighbour(b, V6), mac(b, 0));
  const dump = await tcpdump(b, "arp or icmp6");
  for (const a of [V4, V6]) {
    delAddr(b, 0, a);
    addAddr(b, 1, a);
  }
  // Without an announcement the client keeps sending to node 0.
  await sleep(200);
  assert.equal(neighbour(b, V4), mac(b, 0));
  for (const a of [V4, V6]) assert.equal((await announce(b, 1, a)).code, 0);
  assert.ok(await until(() => neighbour(b, V4) === mac(b, 1) && neighbour(b, V6) === mac(b, 1), 2000), "neighbour entries moved");
  assert.equal(await ask(b, V4), "node1");
  assert.equal(await ask(b, V6), "node1");
  dump.child.kill("SIGTERM");
  const seen = dump.lines.join("\n");
  const m1 = mac(b, 1);
  assert.match(seen, new RegExp(`${m1} > ff:ff:ff:ff:ff:ff.*Request who-has ${V4.replaceAll(".", "\\.")} tell ${V4.replaceAll(".", "\\.")}`));
  assert.match(seen, new RegExp(`${m1} > ff:ff:ff:ff:ff:ff.*Reply ${V4.replaceAll(".", "\\.")} is-at ${m1}`));
  assert.match(seen, new RegExp(`${m1} > 33:33:00:00:00:01.*hlim 255.*${V6} > ff02::1: .*neighbor advertisement.*tgt is ${V6}[\\s\\S]*Flags \\[override\\]`));
  for (const a of [V4, V6]) delAddr(b, 1, a);
});

async function heldPorts(b: Bed, node: number, addr: string): Promise<{ server: string; client: string }[]> {
  const out = b.execSync(b.nodeNs[node]!, ["ss", "-tnH", "state", "established", `sport = :${PORT}`]).stdout;
  return out
    .trim()
    .split("\n")
    .filter((l) => l.includes(addr))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const clean = (s: string) => s.replace("[::ffff:", "").replace(/^\[/, "").replace("]:", ":");
      const fix = (s: string) => (s.includes("::") || s.startsWith("2001") ? `[${s.slice(0, s.lastIndexOf(":"))}]${s.slice(s.lastIndexOf(":"))}` : s);
      return { server: fix(clean(f[f.length - 2]!)), client: fix(clean(f[f.length - 1]!)) };
    });
}

test("a tickle ACK from the new host gets a stale client connection reset at once", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !bed) return t.skip(skip);
  const b = bed;
  clearAddrs(b);
  addAddr(b, 0, V4);
  await announce(b, 0, V4);
  const client: BedClient = startClient(b, PORT, [V4]);
  try {
    const held = await client.waitFor((e) => e.kind === "held" && e.node === "node0", 5000);
    assert.ok(held);
    const [conn] = (await heldPorts(b, 0, V4)).filter((c) => c.client.endsWith(`:${held.port}`));
    assert.ok(conn);
    delAddr(b, 0, V4);
    addAddr(b, 1, V4);
    assert.equal((await announce(b, 1, V4)).code, 0);
    const since = Date.now();
    await sleep(300);
    assert.equal(client.events.filter((e) => e.kind === "held-end" && e.t >= held.t).length, 0, "an idle connection is not told by itself");
    // ctdb tickle SRC DST sends to SRC as if from DST.
    const r = await b.exec(b.nodeNs[1]!, [process.execPath, TANDEM, "tickle", conn.client, conn.server]);
    assert.equal(r.code, 0, r.stderr);
    const end = await client.waitFor((e) => e.kind === "held-end", 2000, since);
    assert.equal(end?.error, "ECONNRESET", JSON.stringify(client.events.filter((e) => e.kind !== "answer" && e.kind !== "fail")));
  } finally {
    client.stop();
    delAddr(b, 1, V4);
  }
});

test("killtcp resets both ends of real connections, IPv4 and IPv6", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !bed) return t.skip(skip);
  const b = bed;
  clearAddrs(b);
  for (const a of [V4, V6]) {
    addAddr(b, 0, a);
    await announce(b, 0, a);
  }
  const client = startClient(b, PORT, [V4, V6]);
  try {
    const h4 = await client.waitFor((e) => e.kind === "held" && e.addr === V4, 5000);
    const h6 = await client.waitFor((e) => e.kind === "held" && e.addr === V6, 5000);
    assert.ok(h4 && h6);
    const since = Date.now();
    const ours = (c: { client: string }) => c.client.endsWith(`:${h4.port}`) || c.client.endsWith(`:${h6.port}`);
    const conns = [...(await heldPorts(b, 0, V4)), ...(await heldPorts(b, 0, V6))].filter(ours);
    assert.equal(conns.length, 2);
    // As 10.interface feeds CTDB's helper: each connection both ways.
    const input = conns.map((c) => `${c.server} ${c.client}\n${c.client} ${c.server}\n`).join("");
    const r = await b.exec(b.nodeNs[0]!, [process.execPath, TANDEM, "killtcp", "eth0"], input);
    assert.equal(r.code, 0, r.stderr);
    for (const a of [V4, V6]) {
      const end = await client.waitFor((e) => e.kind === "held-end" && e.addr === a, 2000, since);
      assert.equal(end?.error, "ECONNRESET", a);
    }
    // The server side is gone too (the client's next connection is a new one).
    const left = (await heldPorts(b, 0, V4)).concat(await heldPorts(b, 0, V6)).filter((c) => conns.some((k) => k.client === c.client));
    assert.deepEqual(left, []);
    const one = await b.exec(b.nodeNs[0]!, [process.execPath, TANDEM, "killtcp", "eth0", "198.51.100.1:1", "198.51.100.254"]);
    assert.deepEqual([one.code, one.stderr], [255, "Bad IP:port '198.51.100.254'\n"]);
  } finally {
    client.stop();
  }
});
