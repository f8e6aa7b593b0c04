// The native seam for raw packets: libc's socket(2) family through koffi.
// Link-layer frames (ARP, neighbour advertisements) go out of an AF_PACKET
// socket bound to the interface; TCP segments go out of a raw IP socket with
// the header included, so the kernel routes them like any packet of this
// host; a capture is an AF_PACKET socket read without blocking. Needs
// CAP_NET_RAW (root), as CTDB's own raw sends do.

import { getSystemErrorMap } from "node:util";
import koffi from "koffi";

const AF_INET = 2;
const AF_INET6 = 10;
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;
const ETH_P_ALL = 0x0003;
const MSG_DONTWAIT = 0x40;
const SIOCGIFHWADDR = 0x8927;
const EAGAIN = 11;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, alen: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  if_nametoindex(name: string): number;
  ioctl(fd: number, req: number, type: unknown, arg: Buffer): number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc !== undefined) return libc;
  if (process.platform !== "linux") throw new Error(`raw packets are supported on Linux only, not ${process.platform}`);
  const lib = koffi.load("libc.so.6");
  libc = {
    socket: lib.func("int socket(int, int, int)"),
    bind: lib.func("int bind(int, const void *, uint32_t)"),
    sendto: lib.func("intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)"),
    recv: lib.func("intptr_t recv(int, _Out_ void *, size_t, int)"),
    close: lib.func("int close(int)"),
    if_nametoindex: lib.func("unsigned int if_nametoindex(const char *)"),
    ioctl: lib.func("int ioctl(int, unsigned long, ...)") as unknown as Libc["ioctl"],
  };
  return libc;
}

function fail(what: string): never {
  const errno = koffi.errno();
  const [code, message] = getSystemErrorMap().get(-errno) ?? [`errno ${errno}`, "unknown error"];
  throw new Error(`${what}: ${message} (${code})`);
}

const htons = (v: number) => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

/** The interface's index, or an error naming it. */
export function interfaceIndex(iface: string): number {
  const index = load().if_nametoindex(iface);
  if (index === 0) fail(`no interface ${iface}`);
  return index;
}

/** The interface's hardware address (SIOCGIFHWADDR). */
export function interfaceMac(iface: string): Uint8Array {
  const c = load();
  if (Buffer.byteLength(iface) >= 16) throw new Error(`interface name too long: ${iface}`);
  const fd = c.socket(AF_INET, 2 /* SOCK_DGRAM */ | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  try {
    const ifr = Buffer.alloc(40);
    ifr.write(iface, 0);
    if (c.ioctl(fd, SIOCGIFHWADDR, "void *", ifr) !== 0) fail(`hardware address of ${iface}`);
    return Uint8Array.from(ifr.subarray(18, 24));
  } finally {
    c.close(fd);
  }
}

function sockaddrLl(protocol: number, ifindex: number, mac?: Uint8Array): Buffer {
  const a = Buffer.alloc(20);
  a.writeUInt16LE(AF_PACKET, 0);
  a.writeUInt16BE(protocol, 2);
  a.writeInt32LE(ifindex, 4);
  if (mac !== undefined) {
    a[11] = mac.length;
    a.set(mac, 12);
  }
  return a;
}

/** Sends whole Ethernet frames out of `iface`. */
export function sendFrames(iface: string, frames: readonly Buffer[]): void {
  const c = load();
  const ifindex = interfaceIndex(iface);
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("raw link-layer socket");
  try {
    for (const f of frames) {
      const dest = sockaddrLl(f.readUInt16BE(12), ifindex, f.subarray(0, 6));
      if (c.sendto(fd, f, f.length, 0, dest, dest.length) !== f.length) fail(`sending on ${iface}`);
    }
  } finally {
    c.close(fd);
  }
}

/** Sends IP packets (headers included, as tcpSegment builds them); the kernel routes each. */
export function sendIpPackets(packets: readonly Buffer[]): void {
  const c = load();
  const fds = new Map<number, number>();
  try {
    for (const p of packets) {
      const v6 = p[0]! >> 4 === 6;
      const family = v6 ? AF_INET6 : AF_INET;
      let fd = fds.get(family);
      if (fd === undefined) {
        // IPPROTO_RAW: the header is ours (IPv6 included, on Linux).
        fd = c.socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
        if (fd < 0) fail(`raw IPv${v6 ? 6 : 4} socket`);
        fds.set(family, fd);
      }
      const dest = Buffer.alloc(v6 ? 28 : 16);
      dest.writeUInt16LE(family, 0);
      if (v6) p.copy(dest, 8, 24, 40);
      else p.copy(dest, 4, 16, 20);
      if (c.sendto(fd, p, p.length, 0, dest, dest.length) !== p.length) fail("sending a TCP segment");
    }
  } finally {
    for (const fd of fds.values()) c.close(fd);
  }
}

/** Every frame seen on an interface, in and out, read without blocking. */
export class Capture {
  private fd: number;
  private readonly buf = Buffer.alloc(65536);

  constructor(readonly iface: string) {
    const c = load();
    const ifindex = interfaceIndex(iface);
    this.fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (this.fd < 0) fail("capture socket");
    const addr = sockaddrLl(ETH_P_ALL, ifindex);
    if (c.bind(this.fd, addr, addr.length) !== 0) {
      c.close(this.fd);
      fail(`capture on ${iface}`);
    }
  }

  /** The frames queued now (none when there are none). */
  drain(): Buffer[] {
    if (this.fd < 0) throw new Error("capture closed");
    const c = load();
    const out: Buffer[] = [];
    for (;;) {
      const n = c.recv(this.fd, this.buf, this.buf.length, MSG_DONTWAIT);
      if (n < 0) {
        if (koffi.errno() === EAGAIN) return out;
        fail(`reading the capture on ${this.iface}`);
      }
      out.push(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  close(): void {
    if (this.fd >= 0) load().close(this.fd);
    this.fd = -1;
  }
}
