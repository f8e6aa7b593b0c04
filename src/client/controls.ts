// Typed wrappers for the controls the tandem tool and tests use. Request and
// reply payloads follow CTDB's protocol/protocol_client.c: a few controls
// carry their answer in the status field, the rest fail on any non-zero status.
import { Control, TANDEM_NODE_INFO } from "../protocol/constants.ts";
import {
  decodeI32,
  decodeIfaceList,
  decodeNodeMap,
  decodePublicIpList,
  decodeString,
  decodeTunableList,
  decodeU32,
  decodeUptime,
  decodeVarList,
  decodeVnnMap,
  encodeGetTunableRequest,
  encodeTunable,
  encodeU32,
  type IfaceList,
  type NodeMap,
  type PublicIpList,
  type Uptime,
  type VnnMap,
} from "../protocol/types.ts";
import type { TandemNodeInfo } from "../control/dispatch.ts";
import type { ControlReply, CtdbClient } from "./client.ts";
import { ControlError } from "./errors.ts";

export { ControlError };

const EMPTY = Buffer.alloc(0);

async function run(
  c: CtdbClient,
  dest: number,
  opcode: Control,
  data: Buffer,
  timeoutMs: number | undefined,
  flags = 0,
): Promise<ControlReply> {
  const opts: { timeoutMs?: number; flags?: number } = { flags };
  if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
  return c.control(dest, opcode, data, opts);
}

/** Sends a control whose only answer is success or failure. */
async function ok(c: CtdbClient, dest: number, opcode: Control, data: Buffer, timeoutMs?: number, flags = 0): Promise<ControlReply> {
  const r = await run(c, dest, opcode, data, timeoutMs, flags);
  if (r.status !== 0) throw new ControlError(opcode, r.status, r.errmsg);
  return r;
}

/** For controls that return a non-negative value in status. */
async function statusValue(c: CtdbClient, dest: number, opcode: Control, timeoutMs?: number): Promise<number> {
  const r = await run(c, dest, opcode, EMPTY, timeoutMs);
  if (r.status < 0) throw new ControlError(opcode, r.status, r.errmsg);
  return r.status;
}

export function getPnn(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return statusValue(c, dest, Control.GET_PNN, timeoutMs);
}

export async function getNodemap(c: CtdbClient, dest: number, timeoutMs?: number): Promise<NodeMap> {
  return decodeNodeMap((await ok(c, dest, Control.GET_NODEMAP, EMPTY, timeoutMs)).data);
}

export async function getRunstate(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return decodeU32((await ok(c, dest, Control.GET_RUNSTATE, EMPTY, timeoutMs)).data);
}

export async function getVnnmap(c: CtdbClient, dest: number, timeoutMs?: number): Promise<VnnMap> {
  return decodeVnnMap((await ok(c, dest, Control.GETVNNMAP, EMPTY, timeoutMs)).data);
}

export function getRecmode(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return statusValue(c, dest, Control.GET_RECMODE, timeoutMs);
}

export async function getUptime(c: CtdbClient, dest: number, timeoutMs?: number): Promise<Uptime> {
  return decodeUptime((await ok(c, dest, Control.UPTIME, EMPTY, timeoutMs)).data);
}

/** The number of clients connected to the daemon. */
export function ping(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return statusValue(c, dest, Control.PING, timeoutMs);
}

/** CTDB takes GET_PID's status as the pid whatever its sign. */
export async function getPid(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return (await run(c, dest, Control.GET_PID, EMPTY, timeoutMs)).status;
}

export async function getCapabilities(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return decodeU32((await ok(c, dest, Control.GET_CAPABILITIES, EMPTY, timeoutMs)).data);
}

/** The cluster lock setting, "" when none is configured. */
export async function getReclockFile(c: CtdbClient, dest: number, timeoutMs?: number): Promise<string> {
  return decodeString((await ok(c, dest, Control.GET_RECLOCK_FILE, EMPTY, timeoutMs)).data);
}

export async function listTunables(c: CtdbClient, dest: number, timeoutMs?: number): Promise<string[]> {
  return decodeVarList((await ok(c, dest, Control.LIST_TUNABLES, EMPTY, timeoutMs)).data);
}

export async function getTunable(c: CtdbClient, dest: number, name: string, timeoutMs?: number): Promise<number> {
  return decodeU32((await ok(c, dest, Control.GET_TUNABLE, encodeGetTunableRequest(name), timeoutMs)).data);
}

/** Returns the status as is: 0 set, 1 obsolete tunable (set, with a warning), -1 unknown. */
export async function setTunable(c: CtdbClient, dest: number, name: string, value: number, timeoutMs?: number): Promise<number> {
  return (await run(c, dest, Control.SET_TUNABLE, encodeTunable({ name, value }), timeoutMs)).status;
}

export async function getAllTunables(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number[]> {
  return decodeTunableList((await ok(c, dest, Control.GET_ALL_TUNABLES, EMPTY, timeoutMs)).data);
}

export async function getIfaces(c: CtdbClient, dest: number, timeoutMs?: number): Promise<IfaceList> {
  return decodeIfaceList((await ok(c, dest, Control.GET_IFACES, EMPTY, timeoutMs)).data);
}

export async function getDebug(c: CtdbClient, dest: number, timeoutMs?: number): Promise<number> {
  return decodeI32((await ok(c, dest, Control.GET_DEBUG, EMPTY, timeoutMs)).data);
}

export async function setDebug(c: CtdbClient, dest: number, level: number, timeoutMs?: number): Promise<void> {
  await ok(c, dest, Control.SET_DEBUG, encodeU32(level >>> 0), timeoutMs);
}

export async function disableNode(c: CtdbClient, dest: number, timeoutMs?: number): Promise<void> {
  await ok(c, dest, Control.DISABLE_NODE, EMPTY, timeoutMs);
}

export async function enableNode(c: CtdbClient, dest: number, timeoutMs?: number): Promise<void> {
  await ok(c, dest, Control.ENABLE_NODE, EMPTY, timeoutMs);
}

export async function stopNode(c: CtdbClient, dest: number, timeoutMs?: number): Promise<void> {
  await ok(c, dest, Control.STOP_NODE, EMPTY, timeoutMs);
}

export async function continueNode(c: CtdbClient, dest: number, timeoutMs?: number): Promise<void> {
  await ok(c, dest, Control.CONTINUE_NODE, EMPTY, timeoutMs);
}

export async function shutdown(c: CtdbClient, dest: number, timeoutMs?: number): Promise<void> {
  await ok(c, dest, Control.SHUTDOWN, EMPTY, timeoutMs);
}

/** flags: 0 or ControlFlag.PUBLIC_IP_ONLY_AVAILABLE. */
export async function getPublicIps(c: CtdbClient, dest: number, flags = 0, timeoutMs?: number): Promise<PublicIpList> {
  return decodePublicIpList((await ok(c, dest, Control.GET_PUBLIC_IPS, EMPTY, timeoutMs, flags)).data);
}

/** Tandem's own node facts (versions, shared key set); fails against a daemon that is not Tandem. */
export async function getTandemInfo(c: CtdbClient, dest: number, timeoutMs?: number): Promise<TandemNodeInfo> {
  const r = await ok(c, dest, TANDEM_NODE_INFO as Control, EMPTY, timeoutMs);
  return JSON.parse(decodeString(r.data)) as TandemNodeInfo;
}
