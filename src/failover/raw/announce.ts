// Telling the link that an address now lives here: a gratuitous ARP pair for
// IPv4, an unsolicited neighbour advertisement for IPv6, out of the
// interface that holds the address, with that interface's MAC.

import { gratuitousArp, neighbourAdvertisement } from "./packets.ts";
import { interfaceMac, sendFrames } from "./socket.ts";

export function announceAddress(iface: string, address: string): void {
  const mac = interfaceMac(iface);
  sendFrames(iface, address.includes(":") ? [neighbourAdvertisement(mac, address)] : gratuitousArp(mac, address));
}
