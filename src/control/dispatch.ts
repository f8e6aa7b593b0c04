// Answers CTDB controls addressed to this node. Each handler reads or changes
// the node through ControlContext and returns CTDB's reply: a status, data, and
// an error message when the status means failure. Controls that CTDB answers
// in `status` (PING, GET_PID, GET_PNN, GET_RECMODE, ...) do so here too.

import { Control, controlName, TANDEM_NODE_INFO } from "../protocol/constants.ts";
import { dispatchFailoverControl, type FailoverControls } from "./failover.ts";
import type { ReqControl } from "../protocol/packets.ts";
import {
  decodeGetTunableRequest,
  decodeI32,
  decodeTunable,
  decodeU32,
  encodeIfaceList,
  encodeNodeMap,
  encodePublicIpList,
  encodeString,
  encodeTunableList,
  encodeU32,
  encodeUptime,
  encodeVarList,
  encodeVnnMap,
  type NodeMap,
  type Uptime,
  type VnnMap,
} from "../protocol/types.ts";

export interface ControlReply {
  status: number;
  data: Buffer;
  errmsg: string;
}

export interface ControlContext {
  pnn: number;
  pid: number;
  nodemap(): NodeMap;
  nodesFile(): NodeMap;
  runstate(): number;
  vnnmap(): VnnMap;
  recoveryMode(): number;
  forceRecovery(): void;
  capabilities(): number;
  setCapability(which: "leader" | "lmaster", on: boolean): void;
  uptime(): Uptime;
  clientCount(): number;
  reclock(): string;
  debugLevel(): number;
  setDebugLevel(level: number): void;
  tunableNames(): string[];
  getTunable(name: string): number | undefined;
  /** 0 set, -1 unknown name or bad value, 1 obsolete (CTDB's SET_TUNABLE statuses). */
  setTunable(name: string, value: number): number;
  allTunables(): number[];
  admin(action: "disable" | "enable" | "stop" | "continue"): void;
  shutdown(): void;
  registerSrvid(srvid: bigint): void;
  deregisterSrvid(srvid: bigint): boolean;
  processExists(pid: number): boolean;
  /** Public addresses and banning (control/failover.ts), where the node runs them. */
  failover?: FailoverControls;
  /** Tandem's own facts about this node, answered to TANDEM_NODE_INFO. */
  tandemInfo?(): TandemNodeInfo;
}

export interface TandemNodeInfo {
  /** The transport version this node speaks, MAJOR.MINOR. */
  transport: string;
  sharedKey: boolean;
  /** What each peer announced: joined (compatible, connected) or refused. */
  peers: { pnn: number; transport: string; joined: boolean }[];
}

const EMPTY = Buffer.alloc(0);

function ok(data: Buffer = EMPTY, status = 0): ControlReply {
  return { status, data, errmsg: "" };
}

function fail(errmsg: string, status = -1): ControlReply {
  return { status, data: EMPTY, errmsg };
}

type Handler = (ctx: ControlContext, req: ReqControl) => ControlReply;

const handlers = new Map<number, Handler>([
  [Control.PROCESS_EXISTS, (ctx, req) => ok(EMPTY, ctx.processExists(decodeI32(req.data)) ? 0 : -1)],
  [Control.PING, (ctx) => ok(EMPTY, ctx.clientCount())],
  [TANDEM_NODE_INFO, (ctx) => (ctx.tandemInfo === undefined ? fail("not supported") : ok(encodeString(JSON.stringify(ctx.tandemInfo()))))],
  [Control.GET_PID, (ctx) => ok(EMPTY, ctx.pid)],
  [Control.GET_PNN, (ctx) => ok(EMPTY, ctx.pnn)],
  [Control.GETVNNMAP, (ctx) => ok(encodeVnnMap(ctx.vnnmap()))],
  [Control.GET_RECMODE, (ctx) => ok(EMPTY, ctx.recoveryMode())],
  [
    Control.SET_RECMODE,
    (ctx, req) => {
      // Asking for recovery mode ACTIVE is how `ctdb recover` forces a recovery.
      if (decodeU32(req.data) === 1) ctx.forceRecovery();
      return ok();
    },
  ],
  [Control.GET_NODEMAP, (ctx) => ok(encodeNodeMap(ctx.nodemap()))],
  [Control.GET_NODES_FILE, (ctx) => ok(encodeNodeMap(ctx.nodesFile()))],
  [Control.GET_RUNSTATE, (ctx) => ok(encodeU32(ctx.runstate()))],
  [Control.GET_CAPABILITIES, (ctx) => ok(encodeU32(ctx.capabilities()))],
  [
    Control.SET_RECMASTERROLE,
    (ctx, req) => {
      ctx.setCapability("leader", decodeU32(req.data) !== 0);
      return ok();
    },
  ],
  [
    Control.SET_LMASTERROLE,
    (ctx, req) => {
      ctx.setCapability("lmaster", decodeU32(req.data) !== 0);
      return ok();
    },
  ],
  [Control.UPTIME, (ctx) => ok(encodeUptime(ctx.uptime()))],
  [Control.GET_RECLOCK_FILE, (ctx) => ok(encodeString(ctx.reclock() === "" ? null : ctx.reclock()))],
  [Control.GET_DEBUG, (ctx) => ok(encodeU32(ctx.debugLevel()))],
  [
    Control.SET_DEBUG,
    (ctx, req) => {
      ctx.setDebugLevel(decodeU32(req.data));
      return ok();
    },
  ],
  [Control.LIST_TUNABLES, (ctx) => ok(encodeVarList(ctx.tunableNames()))],
  [
    Control.GET_TUNABLE,
    (ctx, req) => {
      const name = decodeGetTunableRequest(req.data);
      const value = ctx.getTunable(name);
      return value === undefined ? fail(`Unknown tunable ${name}`) : ok(encodeU32(value));
    },
  ],
  [
    Control.SET_TUNABLE,
    (ctx, req) => {
      const { name, value } = decodeTunable(req.data);
      const status = ctx.setTunable(name, value);
      return status === 0 ? ok() : fail(status === 1 ? `Obsolete tunable ${name}` : `Unable to set ${name}`, status);
    },
  ],
  [Control.GET_ALL_TUNABLES, (ctx) => ok(encodeTunableList(ctx.allTunables()))],
  [Control.GET_IFACES, () => ok(encodeIfaceList([]))],
  [Control.GET_PUBLIC_IPS, () => ok(encodePublicIpList([]))],
  [Control.REGISTER_SRVID, (ctx, req) => {
      ctx.registerSrvid(req.srvid);
      return ok();
    }],
  [
    Control.DEREGISTER_SRVID,
    (ctx, req) => (ctx.deregisterSrvid(req.srvid) ? ok() : fail(`srvid 0x${req.srvid.toString(16)} not registered`)),
  ],
  [Control.DISABLE_NODE, (ctx) => {
      ctx.admin("disable");
      return ok();
    }],
  [Control.ENABLE_NODE, (ctx) => {
      ctx.admin("enable");
      return ok();
    }],
  [Control.STOP_NODE, (ctx) => {
      ctx.admin("stop");
      return ok();
    }],
  [Control.CONTINUE_NODE, (ctx) => {
      ctx.admin("continue");
      return ok();
    }],
  [Control.SHUTDOWN, (ctx) => {
      ctx.shutdown();
      return ok();
    }],
]);

export function dispatchControl(ctx: ControlContext, req: ReqControl): ControlReply {
  const handler = handlers.get(req.opcode);
  if (handler === undefined) return fail(`Unsupported control ${controlName(req.opcode)} (${req.opcode})`);
  try {
    return handler(ctx, req);
  } catch (err) {
    // A decoder refusing malformed control data lands here: answer, don't crash.
    return fail(`Bad data for control ${controlName(req.opcode)}: ${(err as Error).message}`);
  }
}

/** Any control this node answers: the failover ones may answer later (a takeip runs its event first). */
export function dispatchAnyControl(ctx: ControlContext, req: ReqControl): ControlReply | Promise<ControlReply> {
  const failover = ctx.failover === undefined ? undefined : dispatchFailoverControl(ctx.failover, req);
  return failover ?? dispatchControl(ctx, req);
}
