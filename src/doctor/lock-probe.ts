// One contender for the cluster lock, run as its own process by `tandem
// doctor` (fcntl locks are per process, so exclusion can only be seen between
// processes). Usage: node lock-probe.js SETTING HELPER_BINDIR
// Prints the outcome (held, contended, timeout or error: reason) as one line,
// keeps a held lock until its standard input closes, then releases it.

import { createClusterLock } from "../lock/cluster-lock.ts";

const [setting, helperBindir] = process.argv.slice(2);
if (setting === undefined) {
  process.stdout.write("error: no cluster lock setting given\n");
  process.exit(2);
}
const lock = createClusterLock(setting, { takeTimeoutMs: 5000, ...(helperBindir === undefined ? {} : { helperBindir }) });
const finish = () => {
  lock.close();
  process.exit(0);
};
lock.onEvent = (e) => {
  if (e.kind === "held") {
    process.stdout.write("held\n");
    process.stdin.on("end", finish);
    process.stdin.on("close", finish);
    process.stdin.resume();
    return;
  }
  process.stdout.write(e.kind === "error" || e.kind === "lost" ? `error: ${e.reason}\n` : `${e.kind}\n`);
  finish();
};
lock.take();
