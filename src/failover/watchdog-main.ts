// The address watchdog process (see watchdog.ts): reads the daemon's lines
// on standard input; at EOF removes what is still hosted and exits.

import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import { establishedTo } from "../net/proc-tcp.ts";
import { killTcp } from "./raw/killtcp.ts";
import { type Hosted, watchdogAtEof, watchdogLeaseExpired, watchdogLine, watchdogStart } from "./watchdog.ts";

const state = watchdogStart();

function ipAddrDel(h: Hosted): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["addr", "del", `${h.address}/${h.prefix}`, "dev", h.iface], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", (e) => {
      process.stderr.write(`watchdog: ip addr del ${h.address}: ${e.message}\n`);
      resolve();
    });
    child.on("close", (code) => {
      if (code !== 0) process.stderr.write(`watchdog: ip addr del ${h.address}/${h.prefix} dev ${h.iface}: ${err.trim()}\n`);
      resolve();
    });
  });
}

async function remove(todo: Hosted[]): Promise<void> {
  if (todo.length === 0) return;
  const conns = establishedTo(new Set(todo.map((h) => h.address)));
  // Reset the clients' connections first, while the address (and so the
  // route to its subnet) is still there; a short try, as the clients may be
  // gone too. Then take the addresses off the wire.
  for (const iface of new Set(todo.map((h) => h.iface))) {
    const mine = conns.filter((c) => todo.some((h) => h.iface === iface && h.address === c.local.address));
    try {
      await killTcp(iface, mine.map((c) => ({ src: c.local, dst: c.remote })), { maxAttempts: 2, retryMs: 30 });
    } catch (e) {
      process.stderr.write(`watchdog: resetting connections on ${iface}: ${(e as Error).message}\n`);
    }
  }
  await Promise.all(todo.map(ipAddrDel));
}

async function releaseAll(): Promise<void> {
  const todo = watchdogAtEof(state);
  await remove(todo);
  if (todo.length > 0) process.stderr.write(`watchdog: the daemon is gone; removed ${todo.map((h) => h.address).join(", ")}\n`);
}

// A stopped daemon does not renew its lease: take its addresses off before
// the other nodes hand them out, and tell the daemon for when it runs again.
const LEASE_CHECK_MS = 50;
setInterval(() => {
  const todo = watchdogLeaseExpired(state, performance.now());
  if (todo.length === 0) return;
  void remove(todo).then(() => {
    process.stderr.write(`watchdog: the daemon stopped renewing its lease; removed ${todo.map((h) => h.address).join(", ")}\n`);
    process.stdout.write(`removed ${todo.map((h) => h.address).join(" ")}\n`);
  });
}, LEASE_CHECK_MS).unref();

// A service manager stopping the daemon's group may signal us too: finish the job first.
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => {});
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const problem = watchdogLine(state, line, performance.now());
  if (problem !== undefined) process.stderr.write(`${problem}\n`);
});
rl.on("close", () => {
  releaseAll().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`watchdog: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
});
