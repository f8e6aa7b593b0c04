import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BROADCAST_ACTIVE,
  BROADCAST_ALL,
  BROADCAST_CONNECTED,
  Capability,
  Control,
  ControlFlag,
  CTDB_MAGIC,
  CURRENT_NODE,
  controlName,
  MULTICAST,
  NodeFlag,
  Operation,
  RecoveryMode,
  Runstate,
  runstateFromName,
  runstateName,
  SRVID_DISABLE_IP_CHECK,
  SRVID_LEADER,
  SRVID_RECONFIGURE,
  SRVID_TAKEOVER_RUN,
  TUNABLE_LIST_COUNT,
  TUNABLE_LIST_ORDER,
  UNKNOWN_PNN,
} from "../../src/protocol/constants.ts";

test("magic spells CTDB in little-endian bytes", () => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(CTDB_MAGIC);
  assert.equal(b.toString("latin1"), "BDTC");
});

test("operations and special PNNs match protocol.h", () => {
  assert.equal(Operation.REQ_CALL, 0);
  assert.equal(Operation.REQ_MESSAGE, 5);
  assert.equal(Operation.REQ_CONTROL, 7);
  assert.equal(Operation.REPLY_CONTROL, 8);
  assert.equal(Operation.REQ_TUNNEL, 10);
  assert.deepEqual(
    [CURRENT_NODE, BROADCAST_ALL, BROADCAST_ACTIVE, BROADCAST_CONNECTED, MULTICAST, UNKNOWN_PNN],
    [0xf0000001, 0xf0000002, 0xf0000003, 0xf0000004, 0xf0000005, 0xffffffff],
  );
});

test("control opcodes match protocol.h at the ends and in gaps", () => {
  const expected: [string, number][] = [
    ["PROCESS_EXISTS", 0], ["STATISTICS", 1], ["PING", 3], ["GETVNNMAP", 5], ["GET_DEBUG", 7],
    ["GET_RECMODE", 15], ["REGISTER_SRVID", 23], ["DEREGISTER_SRVID", 24], ["GET_PID", 30], ["GET_PNN", 35],
    ["SHUTDOWN", 36], ["TCP_CLIENT", 44], ["SET_TUNABLE", 48], ["GET_TUNABLE", 49], ["LIST_TUNABLES", 50],
    ["GET_ALL_TUNABLES", 53], ["UPTIME", 69], ["GET_CAPABILITIES", 80], ["GET_PUBLIC_IPS", 90],
    ["GET_NODEMAP", 91], ["GET_EVENT_SCRIPT_STATUS", 96], ["GET_RECLOCK_FILE", 99], ["STOP_NODE", 101],
    ["CONTINUE_NODE", 102], ["SET_RECMASTERROLE", 105], ["ENABLE_SCRIPT", 107], ["SET_BAN_STATE", 109],
    ["GET_IFACES", 124], ["GET_RUNSTATE", 138], ["DB_PULL", 146], ["CHECK_PID_SRVID", 151],
    ["ECHO_DATA", 156], ["DISABLE_NODE", 157], ["ENABLE_NODE", 158],
  ];
  const table = Control as unknown as Record<string, number>;
  for (const [name, n] of expected) {
    assert.equal(table[name], n, name);
    assert.equal(controlName(n), name);
  }
  // 144 named opcodes in 4.17, none of the removed numbers
  const numbers = Object.values(Control).filter((v) => typeof v === "number");
  assert.equal(numbers.length, 144);
  for (const removed of [2, 12, 28, 38, 39, 40, 41, 68, 73, 92, 93, 94, 95, 106, 159]) {
    assert.equal(controlName(removed), `UNKNOWN(${removed})`);
  }
});

test("srvids are 64-bit values from protocol.h", () => {
  assert.equal(SRVID_LEADER, 0xf101000000000000n);
  assert.equal(SRVID_RECONFIGURE, 0xf200000000000000n);
  assert.equal(SRVID_TAKEOVER_RUN, 0xfb00000000000000n);
  assert.equal(SRVID_DISABLE_IP_CHECK, 0xfc00000000000000n);
});

test("node flags, masks, capabilities, recovery modes, control flags", () => {
  assert.equal(NodeFlag.DISABLED, NodeFlag.UNHEALTHY | NodeFlag.PERMANENTLY_DISABLED);
  assert.equal(NodeFlag.INACTIVE, 0x39);
  assert.equal(Capability.DEFAULT, 0x30003);
  assert.equal(Capability.LEADER, Capability.RECMASTER);
  assert.equal(RecoveryMode.ACTIVE, 1);
  assert.equal(ControlFlag.NOREPLY, 1);
  assert.equal(ControlFlag.PUBLIC_IP_ONLY_AVAILABLE, 0x10000);
});

test("runstate names are CTDB's labels", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map(runstateName),
    ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"],
  );
  assert.equal(runstateName(99), "UNKNOWN");
  assert.equal(runstateFromName("first_recovery"), Runstate.FIRST_RECOVERY);
  assert.equal(runstateFromName("running"), Runstate.RUNNING);
  assert.equal(runstateFromName("bogus"), Runstate.UNKNOWN);
});

test("tunable list order has 62 distinct names", () => {
  assert.equal(TUNABLE_LIST_ORDER.length, TUNABLE_LIST_COUNT);
  assert.equal(new Set(TUNABLE_LIST_ORDER).size, 62);
  assert.equal(TUNABLE_LIST_ORDER[2], "ControlTimeout");
  assert.equal(TUNABLE_LIST_ORDER[61], "AllowMixedVersions");
});
