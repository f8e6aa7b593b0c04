// The client-socket controls of public address failover and banning, with
// CTDB's numbers and wire layouts (ctdb/protocol/protocol_types.c). Reads
// answer at once from the participant's state; changes are requests to the
// participant or the banning core and answer when they are done (a takeip
// answers after its event ran), so these handlers may return a promise.

import { CONTROL_START_IPREALLOCATE, CONTROL_TANDEM_FAILOVER_HISTORY, Control, ControlFlag, controlName } from "../protocol/constants.ts";
import type { ReqControl } from "../protocol/packets.ts";
import {
  decodeAddrInfo,
  decodeBanState,
  decodeIface,
  decodePublicIp,
  decodeSockAddr,
  encodeBanState,
  encodeIfaceList,
  encodePublicIpInfo,
  encodePublicIpList,
  encodeString,
} from "../protocol/types.ts";
import { parseIpLiteral } from "../net/ip.ts";
import type { RunRecord } from "../failover/coordinator.ts";
import type { IfaceInfo } from "../failover/participant.ts";
import type { RequestResult } from "../failover/shell.ts";
import type { PublicAddress } from "../failover/types.ts";
import type { ControlReply } from "./dispatch.ts";

/** What the failover controls need from the node. */
export interface FailoverControls {
  pnn: number;
  publicIps(availableOnly: boolean): { address: string; pnn: number }[];
  ipInfo(address: string): { address: string; pnn: number; activeIdx: number; ifaces: IfaceInfo[] } | undefined;
  ifaces(): IfaceInfo[];
  banTime(): number;
  setBan(seconds: number): void;
  take(address: string): Promise<RequestResult>;
  release(address: string, pnn: number): Promise<RequestResult>;
  runEvent(event: "startipreallocate" | "ipreallocated"): Promise<RequestResult>;
  setLink(iface: string, up: boolean): Promise<RequestResult>;
  addAddress(address: PublicAddress): Promise<RequestResult>;
  delAddress(address: string): Promise<RequestResult>;
  reloadAddresses(): Promise<RequestResult>;
  history(): RunRecord[];
}

const EMPTY = Buffer.alloc(0);
const U32_NONE = 0xffffffff;

function ok(data: Buffer = EMPTY): ControlReply {
  return { status: 0, data, errmsg: "" };
}

function fail(errmsg: string, status = -1): ControlReply {
  return { status, data: EMPTY, errmsg };
}

async function done(p: Promise<RequestResult>): Promise<ControlReply> {
  const r = await p;
  return r.status === 0 ? ok() : fail(r.errmsg || "failed", r.status);
}

function ifaceWire(i: IfaceInfo): { name: string; linkState: number; references: number } {
  return { name: i.name, linkState: i.linkUp ? 1 : 0, references: i.references };
}

type Handler = (f: FailoverControls, req: ReqControl) => ControlReply | Promise<ControlReply>;

const handlers = new Map<number, Handler>([
  [
    Control.GET_PUBLIC_IPS,
    (f, req) => {
      const only = (req.flags & ControlFlag.PUBLIC_IP_ONLY_AVAILABLE) !== 0;
      return ok(encodePublicIpList(f.publicIps(only).map((ip) => ({ pnn: ip.pnn >>> 0, addr: ip.address }))));
    },
  ],
  [
    Control.GET_PUBLIC_IP_INFO,
    (f, req) => {
      const address = decodeSockAddr(req.data);
      const info = f.ipInfo(address);
      if (info === undefined) return fail(`Node does not know about IP ${address}`);
      return ok(
        encodePublicIpInfo({
          ip: { pnn: info.pnn >>> 0, addr: info.address },
          activeIdx: info.activeIdx < 0 ? U32_NONE : info.activeIdx,
          ifaces: info.ifaces.map(ifaceWire),
        }),
      );
    },
  ],
  [Control.GET_IFACES, (f) => ok(encodeIfaceList(f.ifaces().map(ifaceWire)))],
  [
    Control.SET_IFACE_LINK_STATE,
    (f, req) => {
      const iface = decodeIface(req.data);
      if (iface.linkState > 1) return fail(`Bad link state ${iface.linkState} for interface ${iface.name}`);
      return done(f.setLink(iface.name, iface.linkState === 1));
    },
  ],
  [Control.TAKEOVER_IP, (f, req) => done(f.take(decodePublicIp(req.data).addr))],
  [
    Control.RELEASE_IP,
    (f, req) => {
      const ip = decodePublicIp(req.data);
      return done(f.release(ip.addr, ip.pnn === U32_NONE ? -1 : ip.pnn));
    },
  ],
  [Control.IPREALLOCATED, (f) => done(f.runEvent("ipreallocated"))],
  [CONTROL_START_IPREALLOCATE, (f) => done(f.runEvent("startipreallocate"))],
  [
    Control.ADD_PUBLIC_IP,
    (f, req) => {
      const a = decodeAddrInfo(req.data);
      const ip = parseIpLiteral(a.addr);
      if (ip === undefined) return fail(`Bad public address ${a.addr}`);
      const family = ip.family;
      if (a.mask > (family === 4 ? 32 : 128)) return fail(`Bad prefix length ${a.mask} for ${a.addr}`);
      const interfaces = a.iface.split(",").filter((i) => i !== "");
      if (interfaces.length === 0 || interfaces.some((i) => Buffer.byteLength(i) > 15)) return fail(`Bad interface list "${a.iface}"`);
      return done(f.addAddress({ address: ip.text, prefix: a.mask, family, interfaces }));
    },
  ],
  [Control.DEL_PUBLIC_IP, (f, req) => done(f.delAddress(decodeAddrInfo(req.data).addr))],
  [Control.RELOAD_PUBLIC_IPS, (f) => done(f.reloadAddresses())],
  [
    Control.SET_BAN_STATE,
    (f, req) => {
      const b = decodeBanState(req.data);
      // CTDB sends the control to the node being banned and refuses any other PNN.
      if (b.pnn !== f.pnn) return fail(`SET_BAN_STATE control for PNN ${b.pnn} rejected`);
      f.setBan(b.time);
      return ok();
    },
  ],
  [Control.GET_BAN_STATE, (f) => ok(encodeBanState({ pnn: f.pnn, time: f.banTime() }))],
  [CONTROL_TANDEM_FAILOVER_HISTORY, (f) => ok(encodeString(JSON.stringify(f.history(), (_k, v) => (typeof v === "bigint" ? v.toString() : v))))],
]);

/** The reply to a failover control, or undefined when `req` is not one. */
export function dispatchFailoverControl(f: FailoverControls, req: ReqControl): ControlReply | Promise<ControlReply> | undefined {
  const handler = handlers.get(req.opcode);
  if (handler === undefined) return undefined;
  const bad = (err: unknown) => fail(`Bad data for control ${controlName(req.opcode)}: ${(err as Error).message}`);
  try {
    const r = handler(f, req);
    return r instanceof Promise ? r.catch(bad) : r;
  } catch (err) {
    return bad(err);
  }
}
