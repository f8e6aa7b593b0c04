// Checks a failover message decoded from a node-to-node cluster packet.
// Anything malformed is refused by name, as for the other cluster packets.

import { PacketError } from "../cluster/packet.ts";
import type { AddressRef, AddressReport, FailoverMessage, Stage } from "./types.ts";

const STAGES: readonly Stage[] = ["gather", "start", "release", "take", "done"];

function obj(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new PacketError(`field ${field} is not an object`);
  return value as Record<string, unknown>;
}

function u32(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new PacketError(`field ${field} is not a u32`);
  }
  return value;
}

function i32(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new PacketError(`field ${field} is not an i32`);
  }
  return value;
}

function str(value: unknown, field: string, max = 256): string {
  if (typeof value !== "string" || value.length > max) throw new PacketError(`field ${field} is not a string`);
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new PacketError(`field ${field} is not a boolean`);
  return value;
}

function list<T>(value: unknown, field: string, item: (v: unknown, f: string) => T): T[] {
  if (!Array.isArray(value)) throw new PacketError(`field ${field} is not a list`);
  return value.map((v, i) => item(v, `${field}[${i}]`));
}

function prefix(value: unknown, field: string): number {
  const p = u32(value, field);
  if (p > 128) throw new PacketError(`field ${field} is not a prefix length`);
  return p;
}

function addressRef(value: unknown, field: string): AddressRef {
  const o = obj(value, field);
  return { address: str(o["address"], `${field}.address`), prefix: prefix(o["prefix"], `${field}.prefix`) };
}

function report(value: unknown, field: string): AddressReport {
  const o = obj(value, field);
  const hostedOn = o["hostedOn"];
  return {
    address: str(o["address"], `${field}.address`),
    prefix: prefix(o["prefix"], `${field}.prefix`),
    interfaces: list(o["interfaces"], `${field}.interfaces`, (v, f) => str(v, f, 16)),
    available: bool(o["available"], `${field}.available`),
    hostedOn: hostedOn === null ? null : str(hostedOn, `${field}.hostedOn`, 16),
  };
}

function assignment(value: unknown, field: string): [string, number][] {
  return list(value, field, (v, f) => {
    if (!Array.isArray(v) || v.length !== 2) throw new PacketError(`field ${f} is not an [address, pnn] pair`);
    return [str(v[0], `${f}[0]`), i32(v[1], `${f}[1]`)] as [string, number];
  });
}

export function parseFailoverMessage(value: unknown): FailoverMessage {
  const m = obj(value, "m");
  const run = () => u32(m["run"], "m.run");
  switch (m["k"]) {
    case "gather":
      return { k: "gather", run: run() };
    case "start":
      return { k: "start", run: run() };
    case "release":
      return { k: "release", run: run(), ips: list(m["ips"], "m.ips", addressRef), assignment: assignment(m["assignment"], "m.assignment") };
    case "take":
      return { k: "take", run: run(), ips: list(m["ips"], "m.ips", addressRef), grace: bool(m["grace"], "m.grace") };
    case "done":
      return { k: "done", run: run(), assignment: assignment(m["assignment"], "m.assignment") };
    case "moved":
      return { k: "moved", token: u32(m["token"], "m.token"), ok: bool(m["ok"], "m.ok") };
    case "ips":
      return { k: "ips", run: run(), ips: list(m["ips"], "m.ips", report) };
    case "ack": {
      const stage = m["stage"];
      if (typeof stage !== "string" || !STAGES.includes(stage as Stage)) throw new PacketError("field m.stage is not a takeover stage");
      return { k: "ack", run: run(), stage: stage as Stage, status: i32(m["status"], "m.status") };
    }
    case "run-request":
      return { k: "run-request", reason: str(m["reason"], "m.reason", 1024) };
    case "move":
      return { k: "move", token: u32(m["token"], "m.token"), address: str(m["address"], "m.address"), to: u32(m["to"], "m.to") };
    default:
      throw new PacketError(`unknown failover message ${JSON.stringify(m["k"])}`);
  }
}
