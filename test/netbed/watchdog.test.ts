// The address watchdog in a namespace: when the process that started it is
// killed with SIGKILL, the addresses it hosted leave the interface and the
// clients' connections to them are reset; after an orderly goodbye they stay.
// Needs root.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { alive, checkoutDir, sleep } from "../../src/local/cluster.ts";
import { testPort } from "../support/cluster.ts";
import { type AddrWatch, watchAddresses } from "../support/netbed/addr-watch.ts";
import { startClient, startService } from "../support/netbed/cluster.ts";
import { type Bed, bedUnavailable, makeBed } from "../support/netns.ts";

const skip = bedUnavailable();
const PORT = testPort(44004);
const ADDRS = [
  { address: "198.51.100.1", prefix: 24 },
  { address: "2001:db8::1", prefix: 64 },
];
let bed: Bed | undefined;
let watch: AddrWatch | undefined;

before(async () => {
  if (skip !== undefined) return;
  bed = makeBed({ nodes: 1 });
  await startService(bed, bed.nodeNs[0]!, "node0", PORT);
  watch = await watchAddresses(bed);
});
after(async () => {
  watch?.stop();
  await bed?.remove();
});

/** A process that hosts the addresses the way tandemd does: configures them and tells its watchdog. */
async function startHost(b: Bed, goodbyeOnSigterm: boolean, leaseMs?: number) {
  for (const a of ADDRS) b.execSync(b.nodeNs[0]!, ["ip", "addr", "add", `${a.address}/${a.prefix}`, "dev", "eth0"]);
  const code = `
    import { AddressWatchdog } from ${JSON.stringify(path.join(checkoutDir(), "dist", "src", "failover", "watchdog.js"))};
    const w = AddressWatchdog.start((m) => console.error(m), (gone) => console.log("removed " + gone.join(" ")));
    ${leaseMs === undefined ? "" : `w.lease(${leaseMs}); setInterval(() => w.lease(${leaseMs}), 100);`}
    for (const a of ${JSON.stringify(ADDRS)}) w.hosted(a.address, a.prefix, "eth0");
    w.hosted("198.51.100.9", 24, "eth0");
    w.released("198.51.100.9");
    process.on("SIGTERM", () => { ${goodbyeOnSigterm ? "w.stop();" : ""} process.exit(0); });
    console.log(w.pid);
    setInterval(() => {}, 1000);`;
  const host = b.spawn(b.nodeNs[0]!, [process.execPath, "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const watchdogPid = Number(await new Promise<string>((r) => host.stdout!.once("data", (d) => r(d.toString()))));
  return { host, watchdogPid };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
  return cond();
}

test("after SIGKILL of its daemon the watchdog removes the addresses and resets their connections", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !bed || !watch) return t.skip(skip);
  const b = bed;
  const w = watch;
  const { host, watchdogPid } = await startHost(b, false);
  const client = startClient(b, PORT, ADDRS.map((a) => a.address));
  try {
    for (const a of ADDRS) assert.ok(await client.waitFor((e) => e.kind === "held" && e.addr === a.address, 5000), a.address);
    assert.equal(w.hostOf("198.51.100.1"), 0);
    const t0 = Date.now();
    host.kill("SIGKILL");
    assert.ok(await until(() => ADDRS.every((a) => w.hostOf(a.address) === undefined), 5000), "addresses removed");
    const removed = Math.max(...w.changes.filter((c) => !c.added && c.t >= t0).map((c) => c.t)) - t0;
    t.diagnostic(`addresses gone ${removed} ms after SIGKILL`);
    for (const a of ADDRS) {
      const end = await client.waitFor((e) => e.kind === "held-end" && e.addr === a.address, 3000, t0);
      assert.equal(end?.error, "ECONNRESET", a.address);
    }
    assert.ok(await until(() => !alive(watchdogPid), 5000), "the watchdog exits");
    assert.deepEqual(w.verify(), []);
  } finally {
    client.stop();
  }
});

test("a stopped daemon's lease runs out: the watchdog removes its addresses, and tells it once it runs again", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !bed || !watch) return t.skip(skip);
  const b = bed;
  const w = watch;
  const { host, watchdogPid } = await startHost(b, true, 1500);
  const heard: string[] = [];
  host.stdout!.on("data", (d) => heard.push(String(d)));
  try {
    await sleep(2000);
    for (const a of ADDRS) assert.equal(w.hostOf(a.address), 0, `${a.address} kept while the lease is renewed`);
    const t0 = Date.now();
    host.kill("SIGSTOP");
    assert.ok(await until(() => ADDRS.every((a) => w.hostOf(a.address) === undefined), 5000), "addresses removed");
    const removed = Math.max(...w.changes.filter((c) => !c.added && c.t >= t0).map((c) => c.t)) - t0;
    t.diagnostic(`addresses gone ${removed} ms after SIGSTOP`);
    assert.ok(removed >= 1300, `not before the lease ran out (${removed} ms)`);
    assert.ok(alive(watchdogPid), "the watchdog stays for the daemon");
    host.kill("SIGCONT");
    assert.ok(await until(() => heard.join("").includes("removed 198.51.100.1 2001:db8::1"), 5000), `the daemon hears what went: ${heard.join("")}`);
    assert.deepEqual(w.verify(), []);
  } finally {
    host.kill("SIGCONT");
    host.kill("SIGTERM");
    await until(() => !alive(watchdogPid), 5000);
  }
});

test("after an orderly stop the watchdog leaves the addresses alone", { timeout: 60_000 }, async (t) => {
  if (skip !== undefined || !bed || !watch) return t.skip(skip);
  const b = bed;
  const w = watch;
  const { host, watchdogPid } = await startHost(b, true);
  host.kill("SIGTERM");
  assert.ok(await until(() => !alive(watchdogPid), 5000), "the watchdog exits");
  await sleep(200);
  for (const a of ADDRS) assert.equal(w.hostOf(a.address), 0, a.address);
  for (const a of ADDRS) b.execSync(b.nodeNs[0]!, ["ip", "addr", "del", `${a.address}/${a.prefix}`, "dev", "eth0"]);
});
