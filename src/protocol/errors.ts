// Raised for any malformed, truncated or unexpected bytes on a CTDB socket.
// Callers treat it as fatal for that connection (close it), never for the process.
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}
