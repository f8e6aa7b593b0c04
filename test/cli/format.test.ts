// Pure formatters and parsers, as tables.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commandUsageText, fullUsageText, optionUsageText } from "../../src/cli/commands-table.ts";
import { cInt, ctime, prettyFlags, runstateFromString, toCInt } from "../../src/cli/format/common.ts";
import { applyUnknown, formatNodemap, formatStatus, nodestatusExitCode, partiallyOnline } from "../../src/cli/format/nodemap.ts";
import { checkRunstate, formatCapabilities, formatListnodes, formatPing, formatTunable } from "../../src/cli/format/simple.ts";
import { formatUptime } from "../../src/cli/format/uptime.ts";
import { formatIp, parseCtdbAddress } from "../../src/cli/ipaddr.ts";
import { parseToolNodesFile } from "../../src/cli/nodesfile.ts";

describe("flags", () => {
  const cases: [number, string][] = [
    [0, "OK"],
    [0x1, "DISCONNECTED|INACTIVE"],
    [0x2, "UNHEALTHY"],
    [0x4, "DISABLED"],
    [0x8, "BANNED|INACTIVE"],
    [0x20, "STOPPED|INACTIVE"],
    [0x24, "DISABLED|STOPPED|INACTIVE"],
    [0x40, "UNKNOWN"],
    [0x3f, "DISCONNECTED|DISABLED|BANNED|UNHEALTHY|DELETED|STOPPED|INACTIVE"],
  ];
  for (const [flags, text] of cases) it(`0x${flags.toString(16)} -> ${text}`, () => assert.equal(prettyFlags(flags), text));

  it("UNKNOWN rule spares deleted, disconnected and the queried node", () => {
    const nodes = [
      { pnn: 0, address: "a", flags: 0x2 },
      { pnn: 1, address: "b", flags: 0x1 },
      { pnn: 2, address: "c", flags: 0x10 },
      { pnn: 3, address: "d", flags: 0x4 },
    ];
    assert.deepEqual(
      applyUnknown(nodes, 3, 3).map((n) => n.flags),
      [0x40, 0x1, 0x10, 0x4],
    );
    assert.deepEqual(
      applyUnknown(nodes, 4, 3).map((n) => n.flags),
      [0x2, 0x1, 0x10, 0x4],
    );
    assert.equal(nodestatusExitCode(applyUnknown(nodes, 1, 3)), 0x40 | 0x1 | 0x4);
  });

  it("partially online only for flag-free nodes with some link down", () => {
    assert.equal(partiallyOnline({ pnn: 0, address: "a", flags: 0 }, [1, 0]), true);
    assert.equal(partiallyOnline({ pnn: 0, address: "a", flags: 0 }, [1, 1]), false);
    assert.equal(partiallyOnline({ pnn: 0, address: "a", flags: 2 }, [0]), false);
    assert.equal(partiallyOnline({ pnn: 0, address: "a", flags: 0 }, null), false);
  });
});

describe("node list text", () => {
  it("addresses are padded to 16, long IPv6 addresses are not cut", () => {
    const text = formatNodemap(
      [
        { pnn: 0, address: "fd00:1234:5678:9abc::10", flags: 0, partiallyOnline: false },
        { pnn: 1, address: "10.0.0.2", flags: 0x8, partiallyOnline: false },
      ],
      1,
      false,
    );
    assert.equal(text, "pnn:0 fd00:1234:5678:9abc::10 OK\npnn:1 10.0.0.2         BANNED|INACTIVE (THIS NODE)\n");
  });

  it("status tail prints lmaster as a signed int", () => {
    const t = formatStatus([], 0, { generation: 0xfffffffe, vnnmap: [0xffffffff], recmode: 0, leader: 0xffffffff });
    assert.equal(t, "Number of nodes:0\nGeneration:4294967294\nSize:1\nhash:0 lmaster:-1\nRecovery mode:NORMAL (0)\nLeader:UNKNOWN\n");
  });
});

describe("small formatters", () => {
  it("tunables, ping, capabilities, listnodes", () => {
    assert.equal(formatTunable("MonitorInterval", 15), "MonitorInterval            = 15\n");
    assert.equal(formatTunable("AVeryLongTunableNameIndeedXYZ", 1), "AVeryLongTunableNameIndeedXYZ = 1\n");
    assert.equal(formatPing(3, 0.0001234, 7), "response from 3 time=0.000123 sec  (7 clients)\n");
    assert.equal(formatCapabilities(0x10000, ":"), ":LEADER:LMASTER:\n:0:0:\n");
    assert.equal(
      formatListnodes(
        [
          { pnn: 0, address: "10.0.0.1", deleted: false },
          { pnn: 1, address: "0.0.0.0", deleted: true },
          { pnn: 2, address: "10.0.0.3", deleted: false },
        ],
        "|",
      ),
      "|0|10.0.0.1|\n|2|10.0.0.3|\n",
    );
  });

  it("runstate names and checks", () => {
    assert.equal(runstateFromString("first_recovery"), 3);
    assert.equal(runstateFromString("UNKNOWN"), 0);
    assert.deepEqual(checkRunstate(5, []), { ok: true, text: "RUNNING\n" });
    assert.deepEqual(checkRunstate(4, ["running", "startup"]), { ok: true, text: "STARTUP\n" });
    assert.deepEqual(checkRunstate(4, ["unknown"]), { ok: false, text: "Invalid run state (unknown)\n" });
    assert.deepEqual(checkRunstate(0, ["init"]), { ok: false, text: "CTDB not in required run state (got UNKNOWN)\n" });
  });
});

describe("uptime", () => {
  const fixed = (sec: number) => `T${sec}\n`;
  it("ages and duration", () => {
    const text = formatUptime(
      1,
      {
        currentTime: { sec: 200000, usec: 0 },
        ctdbdStartTime: { sec: 200000 - (2 * 86400 + 3 * 3600 + 4 * 60 + 5), usec: 0 },
        lastRecoveryStarted: { sec: 199990, usec: 900000 },
        lastRecoveryFinished: { sec: 199992, usec: 100000 },
      },
      fixed,
    );
    assert.equal(
      text,
      "Current time of node 1        :                T200000\n" +
        "Ctdbd start time              : (002 03:04:05) T16155\n" +
        "Time of last recovery/failover: (000 00:00:08) T199992\n" +
        "Duration of last recovery/failover: 1.200000 seconds\n",
    );
  });

  it("negative ages print like C", () => {
    const text = formatUptime(
      0,
      {
        currentTime: { sec: 100, usec: 0 },
        ctdbdStartTime: { sec: 100, usec: 0 },
        lastRecoveryStarted: { sec: 200, usec: 0 },
        lastRecoveryFinished: { sec: 161, usec: 0 },
      },
      fixed,
    );
    assert.match(text, /Time of last recovery\/failover: \(000 00:-1:-1\) T161\n/);
    assert.match(text, /Duration of last recovery\/failover: -39.000000 seconds\n/);
  });

  it("ctime and C integer helpers", () => {
    const saved = process.env.TZ;
    process.env.TZ = "UTC";
    try {
      assert.equal(ctime(0), "Thu Jan  1 00:00:00 1970\n");
      assert.equal(ctime(1795302000), "Sat Nov 21 23:00:00 2026\n");
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    assert.equal(cInt(-1, 2, true), "-1");
    assert.equal(cInt(-1, 3, true), "-01");
    assert.equal(cInt(7, 3, true), "007");
    assert.equal(toCInt(2 ** 32 + 5), 5);
  });
});

describe("addresses", () => {
  const cases: [string, string | null][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["010.0.0.1", null],
    ["10.0.0.256", null],
    ["1.2.3", null],
    ["FD00:0:0::0:2", "fd00::2"],
    ["[fd00::3]", "fd00::3"],
    ["::ffff:10.0.0.5", "10.0.0.5"],
    ["::ffff:102:304", null],
    ["::1.2.3.4", "::1.2.3.4"],
    ["::", "::"],
    ["::1", "::1"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["1::2:3:4:5:6:7:8", null],
    ["1:::2", null],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
    ["fe80::1%eth0", null],
  ];
  for (const [input, want] of cases) {
    it(`${input} -> ${want}`, () => {
      const a = parseCtdbAddress(input);
      assert.equal(a === null ? null : formatIp(a), want);
    });
  }
});

describe("nodes file as the tool reads it", () => {
  it("deleted lines keep their PNN, blank lines do not", () => {
    assert.deepEqual(parseToolNodesFile(" 10.0.0.1 \n\n#10.0.0.2\r\n10.0.0.3\r\n\n"), {
      ok: true,
      nodes: [
        { pnn: 0, address: "10.0.0.1", deleted: false },
        { pnn: 1, address: "0.0.0.0", deleted: true },
        { pnn: 2, address: "10.0.0.3", deleted: false },
      ],
    });
  });
  it("names the bad line", () => {
    assert.deepEqual(parseToolNodesFile("10.0.0.1\nbogus\n"), { ok: false, error: "Invalid IP address bogus\n" });
  });
});

describe("usage texts", () => {
  it("the brief usage and per-command usage", () => {
    assert.ok(optionUsageText().startsWith("Usage: [-?YXv] [-?|--help] [--usage] [-d|--debug=STRING]\n"));
    assert.equal(
      commandUsageText("getvar"),
      optionUsageText() + "\nCommands:\n  getvar          <name>                       get a tunable variable\n",
    );
    assert.equal(commandUsageText("nosuch"), fullUsageText());
    assert.match(fullUsageText(), /\n {2}runstate {8}\[setup\|first_recovery\|startup\|running\] {2}get\/check runstate of a node\n/);
  });
});
