import { controlName } from "../protocol/constants.ts";

/** A control that reached the daemon and came back with a failing status. */
export class ControlError extends Error {
  readonly opcode: number;
  readonly status: number;
  readonly errmsg: string;

  constructor(opcode: number, status: number, errmsg: string) {
    super(`control ${controlName(opcode)} failed with status ${status}${errmsg === "" ? "" : `: ${errmsg}`}`);
    this.name = "ControlError";
    this.opcode = opcode;
    this.status = status;
    this.errmsg = errmsg;
  }
}

/** No reply arrived within the per-call timeout. */
export class ControlTimeoutError extends Error {
  readonly opcode: number;

  constructor(opcode: number) {
    super("control timed out");
    this.name = "ControlTimeoutError";
    this.opcode = opcode;
  }
}
