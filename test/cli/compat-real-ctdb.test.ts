// Byte-for-byte comparison with the real `ctdb` tool (CTDB 4.17, when
// installed) for everything that needs no daemon: option parsing and its
// errors, usage texts, listnodes on a temporary CTDB_BASE, and the messages
// printed when no daemon is listening.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Out, REAL_CTDB, runRealCtdb, runTandem } from "../support/cli-run.ts";

const CTDB = REAL_CTDB;
const haveCtdb = existsSync(CTDB);

function realCtdb(argv: string[], env: Record<string, string>): Out {
  return runRealCtdb(argv, env);
}

const tandem = runTandem;

// Versions differ by design: ctdb prints its distribution's string.
const versionLine = /^4\.17\.12-[A-Za-z]+\n$/;

describe("compared with the real ctdb", { skip: haveCtdb ? false : "ctdb not installed" }, () => {
  let dir = "";
  let env: Record<string, string> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tandem-cli-compat-"));
    env = { CTDB_BASE: dir, CTDB_SOCKET: join(dir, "no-daemon.socket") };
    writeFileSync(join(dir, "nodes"), "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const same = async (argv: string[], extraEnv: Record<string, string> = {}) => {
    const e = { ...env, ...extraEnv };
    const want = realCtdb(argv, e);
    const got = await tandem(argv, e);
    if (versionLine.test(want.stdout) && versionLine.test(got.stdout)) {
      assert.deepEqual({ ...got, stdout: "V" }, { ...want, stdout: "V" }, `tandem ${argv.join(" ")}`);
    } else {
      assert.deepEqual(got, want, `tandem ${argv.join(" ")}`);
    }
  };

  const optionCases: string[][] = [
    [],
    ["--help"],
    ["-?"],
    ["--usage"],
    ["-h"],
    ["foo"],
    ["version"],
    ["-Xv", "version"],
    ["version", "-X"],
    ["version", "extra", "args"],
    ["--", "version"],
    ["--", "-X", "version"],
    ["-", "version"],
    ["", "version"],
    ["-n", "foo", "status"],
    ["-n", "1x", "status"],
    ["-n", "0x10", "version"],
    ["-n", "010", "version"],
    ["-n", " 5", "version"],
    ["-n", "5 ", "version"],
    ["-n", "", "version"],
    ["-n"],
    ["-n", "99999999999", "status"],
    ["-n", "2147483648", "status"],
    ["-n", "-2147483649", "status"],
    ["-n", "-1", "version"],
    ["-n", "-2", "version"],
    ["--node=abc", "status"],
    ["--node", "abc", "version"],
    ["--node"],
    ["--node=", "version"],
    ["-Xn", "1", "version"],
    ["-Xnabc", "version"],
    ["-Xn"],
    ["-n1", "version"],
    ["-n=5", "version"],
    ["-nabc", "version"],
    ["-node=1", "version"],
    ["-t", "abc", "version"],
    ["-T", "abc", "version"],
    ["--timelimit=3", "version"],
    ["--maxruntime", "3", "version"],
    ["-x", "version"],
    ["-x"],
    ["-x", ",", "version"],
    ["-x", "-X", "version"],
    ["-x=,", "version"],
    ["--separator"],
    ["--separator", "version"],
    ["-d", "FOO", "version"],
    ["--debug=ERR", "version"],
    ["--debug", "version"],
    ["-v=1", "version"],
    ["-Xv=1", "version"],
    ["--usage=1"],
    ["--help="],
    ["-X?"],
    ["-?X"],
    ["--help", "-Q"],
    ["-Q", "--help"],
    ["-XQ", "version"],
    ["--verb", "version"],
    ["--bogus", "version"],
    ["---node=1", "version"],
    ["setvar", "a", "-1"],
    ["version", "-n"],
    ["version", "--", "-1"],
    ["listnodes", "-n", "1"],
    ["listnodes", "extra"],
    ["tickle", "-n", "0"],
    ["event", "-n", "0"],
    ["scriptstatus", "-n", "1"],
  ];
  for (const argv of optionCases) {
    it(`options: ${JSON.stringify(argv)}`, async () => {
      await same(argv);
    });
  }

  it("CTDB_TIMEOUT is validated like ctdb", async () => {
    await same(["version"], { CTDB_TIMEOUT: "abc" });
    await same(["version"], { CTDB_TIMEOUT: "-5" });
    await same(["version"], { CTDB_TIMEOUT: "30" });
  });

  it("no daemon listening: status, pnn, getvar without args, -n", async () => {
    await same(["status"]);
    await same(["pnn"]);
    await same(["getvar"]);
    await same(["-n", "1", "status"]);
    await same(["-X", "nodestatus", "all"]);
    // The nodes file names this machine: ctdb then does not ask whether we are in the cluster.
    writeFileSync(join(dir, "nodes"), "192.0.2.1\n127.0.0.1\n");
    try {
      await same(["status"]);
    } finally {
      writeFileSync(join(dir, "nodes"), "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
    }
    await same(["status"], { CTDB_BASE: join(dir, "missing") });
    await same(["status"], { CTDB_SOCKET: join(dir, "x".repeat(120)) });
  });

  const nodesFiles: [string, string][] = [
    ["three nodes", "10.0.0.1\n10.0.0.2\n10.0.0.3\n"],
    ["deleted node keeps its pnn", "10.0.0.1\n#10.0.0.2\n10.0.0.3\n"],
    ["blanks and white space", "  10.0.0.1  \n\n\t10.0.0.2\t\n\n\n"],
    ["IPv6 forms", "fd00::1\nFD00:0:0::0:2\n::ffff:10.0.0.5\n[fd00::3]\n::1.2.3.4\n::\n1:0:0:1:0:0:0:1\n1:0:1:0:1:0:1:0\n"],
    ["more IPv6", "1:2:3:4:5:6:7::\n::1:2:3:4:5:6:7\n1:2:3:4:5:6:1.2.3.4\n::ffff:0:1.2.3.4\n0:0:0:0:0:ffff:1.2.3.4\n"],
    ["CRLF line ends", "10.0.0.1\r\n10.0.0.2\r\n"],
    ["no final newline", "10.0.0.1\n \n10.0.0.2"],
    ["comment lines are deleted nodes", "#\n# x\n10.0.0.9\n"],
    ["empty file", ""],
    ["only newlines", "\n\n"],
    ["trailing comment is an error", "10.0.0.1 # comment\n"],
    ["leading zero octet", "010.0.0.1\n"],
    ["three octets", "1.2.3\n"],
    ["octet too big", "10.0.0.1\n10.0.0.300\n"],
    ["mapped in hex", "::ffff:102:304\n"],
    ["too many IPv6 groups", "1::2:3:4:5:6:7:8\n"],
    ["scope id", "fe80::1%eth0\n"],
  ];
  for (const [what, text] of nodesFiles) {
    it(`listnodes: ${what}`, async () => {
      writeFileSync(join(dir, "nodes"), text);
      await same(["listnodes"]);
      await same(["-X", "listnodes"]);
      await same(["-Y", "-x", ":", "listnodes"]);
    });
  }

  it("checktcpport: a free port, a port in use, bad arguments", async () => {
    await same(["checktcpport", "0"]);
    await same(["checktcpport"]);
    await same(["checktcpport", "1", "2"]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const want = realCtdb(["checktcpport", String(port)], env);
      assert.equal(want.rc, 98);
      await same(["checktcpport", String(port)]);
      await same(["checktcpport", String(port + 65536)]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("listnodes without a nodes file", async () => {
    await same(["listnodes"], { CTDB_BASE: join(dir, "missing") });
  });
});
