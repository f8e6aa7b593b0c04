// Checks a node-to-node cluster packet decoded from JSON. A peer is trusted to
// be a Tandem node, not to be bug-free: anything malformed is refused by name.

import { parseFailoverMessage } from "../failover/packet.ts";
import type { ClusterPacket } from "./types.ts";

export class PacketError extends Error {}

function u32(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new PacketError(`field ${field} is not a u32`);
  }
  return value;
}

export function parseClusterPacket(value: unknown): ClusterPacket {
  if (typeof value !== "object" || value === null) throw new PacketError("packet is not an object");
  const p = value as Record<string, unknown>;
  switch (p["t"]) {
    case "state":
      return {
        t: "state",
        flags: u32(p["flags"], "flags"),
        runstate: u32(p["runstate"], "runstate"),
        caps: u32(p["caps"], "caps"),
        leader: u32(p["leader"], "leader"),
        term: u32(p["term"], "term"),
        generation: u32(p["generation"], "generation"),
      };
    case "leader":
      return { t: "leader", leader: u32(p["leader"], "leader"), term: u32(p["term"], "term") };
    case "vote-request":
      return { t: "vote-request", term: u32(p["term"], "term") };
    case "vote":
      if (typeof p["granted"] !== "boolean") throw new PacketError("field granted is not a boolean");
      return { t: "vote", term: u32(p["term"], "term"), granted: p["granted"] };
    case "recovered": {
      const vnnmap = p["vnnmap"];
      if (!Array.isArray(vnnmap)) throw new PacketError("field vnnmap is not a list");
      return {
        t: "recovered",
        term: u32(p["term"], "term"),
        generation: u32(p["generation"], "generation"),
        vnnmap: vnnmap.map((v, i) => u32(v, `vnnmap[${i}]`)),
      };
    }
    case "ban":
      return { t: "ban", pnn: u32(p["pnn"], "pnn"), seconds: u32(p["seconds"], "seconds") };
    case "recover-request":
      return { t: "recover-request" };
    case "failover":
      return { t: "failover", m: parseFailoverMessage(p["m"]) };
    default:
      throw new PacketError(`unknown packet type ${JSON.stringify(p["t"])}`);
  }
}
