// The process id at the other end of a client's unix socket (SO_PEERCRED),
// which CTDB records for every client: CHECK_PID_SRVID asks whether the
// process with a given pid has registered a server id.

import type net from "node:net";
import koffi from "koffi";

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** struct ucred { pid_t pid; uid_t uid; gid_t gid; } */
const UCRED_SIZE = 12;

type Getsockopt = (fd: number, level: number, name: number, value: Buffer, len: Buffer) => number;
let getsockopt: Getsockopt | null = null;

/** The peer's pid, or undefined when the platform or socket cannot tell. */
export function peerPid(socket: net.Socket): number | undefined {
  if (process.platform !== "linux") return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) return undefined;
  if (getsockopt === null) {
    getsockopt = koffi
      .load("libc.so.6")
      .func("int getsockopt(int fd, int level, int optname, _Out_ uint8_t *optval, _Inout_ uint8_t *optlen)") as unknown as Getsockopt;
  }
  const value = Buffer.alloc(UCRED_SIZE);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(UCRED_SIZE, 0);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, value, len) !== 0) return undefined;
  return value.readInt32LE(0);
}
