// Short client sessions on a daemon's socket, of the kinds a real or careless
// client produces: valid controls, a leader registration, random bytes, and a
// packet cut short. Used by the connection-churn benchmark and by the test
// that connection state is released.

import net from "node:net";
import { Control, CURRENT_NODE, Operation, SRVID_LEADER } from "../../src/protocol/constants.ts";
import { encodeReqControl } from "../../src/protocol/packets.ts";
import { encodeU64 } from "../../src/protocol/types.ts";

export const SESSION_KINDS = [0, 1, 2, 3];

function control(opcode: number, reqid: number, data = Buffer.alloc(0), srvid = 0n): Buffer {
  return encodeReqControl({
    operation: Operation.REQ_CONTROL,
    generation: 0,
    destnode: CURRENT_NODE,
    srcnode: 0,
    reqid,
    opcode,
    srvid,
    clientId: 0,
    flags: 0,
    data,
  });
}

/** Deterministic pseudo-random bytes, so runs are comparable. */
function garbage(seed: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** What session `i` sends: valid controls, a leader registration, random bytes, or a truncated packet. */
export function sessionBytes(i: number, kind: number): Buffer {
  switch (kind) {
    case 0:
      return Buffer.concat([control(Control.GET_PNN, 1), control(Control.GET_NODEMAP, 2), control(Control.GET_RUNSTATE, 3)]);
    case 1:
      return Buffer.concat([control(Control.REGISTER_SRVID, 1, Buffer.alloc(0), SRVID_LEADER), control(Control.PING, 2)]);
    case 2:
      return garbage(i, 16 + (i % 200));
    default: {
      // A valid header announcing more bytes than ever come.
      const whole = control(Control.GET_PNN, 1, Buffer.from(encodeU64(BigInt(i))));
      return whole.subarray(0, whole.length - 4);
    }
  }
}

export function session(socketPath: string, i: number, kind: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      resolve();
    };
    s.on("connect", () => {
      s.write(sessionBytes(i, kind));
      // Read whatever answers come for a moment, then hang up.
      setTimeout(finish, 2);
    });
    s.on("data", () => {});
    s.on("error", finish);
    s.on("close", finish);
  });
}

