// The event daemon's unix socket: CTDB's eventd protocol served on top of an
// EventBackend, so the real `ctdb event ...` (ctdb-event) can talk to Tandem.
//
// Like CTDB's eventd, every request is handled on its own as soon as it is
// read: a long RUN never holds up a STATUS from the same or another client,
// and replies go out in completion order, matched by reqid. A packet that
// cannot be parsed closes that connection (eventd does the same) and is
// logged; nothing a client sends can take the server down.

import { promises as fsp } from "node:fs";
import net from "node:net";
import type { EventBackend, EventScriptStatus } from "./api.ts";
import {
  EVENT_RUN_ALL,
  Errno,
  type EventReply,
  type EventRequest,
  FrameReader,
  type Timeval,
  decodeRequest,
  encodeReply,
} from "./protocol.ts";

export interface EventServerLog {
  info(message: string): void;
  error(message: string): void;
}

export interface EventServer {
  close(): Promise<void>;
}

/** Requests carry a few short strings; anything near this is hostile. */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** Requests of one connection being served at once before we stop reading it. */
const MAX_IN_FLIGHT_PER_CLIENT = 64;

export function msToTimeval(ms: number): Timeval {
  if (!Number.isFinite(ms)) return { sec: 0, usec: 0 };
  let sec = Math.floor(ms / 1000);
  let usec = Math.round((ms - sec * 1000) * 1000);
  if (usec >= 1_000_000) {
    sec += 1;
    usec -= 1_000_000;
  }
  return { sec, usec };
}

/** Arguments travel as one space-joined string; eventd splits them with strtok(" "). */
export function splitRunArgs(args: string | null): string[] {
  if (args === null) return [];
  return args.split(" ").filter((a) => a.length > 0);
}

/**
 * Map the outcome of EventBackend.run() (the event's summary: 0, a failing
 * script's exit code, -ETIMEDOUT, -ECANCELED, or a negative errno for a run
 * that could not start, such as -ENOENT for a missing event directory) to
 * the RUN reply's result, as eventd's event_cmd.c does.
 */
export function runResultToReply(summary: number): number {
  if (summary === 0) return 0;
  if (summary === -Errno.ECANCELED) return Errno.ECANCELED;
  if (summary === -Errno.ETIMEDOUT) return Errno.ETIMEDOUT;
  if (summary > 0) return Errno.ENOEXEC;
  return -summary;
}

function toWireScript(s: EventScriptStatus) {
  return {
    name: s.name,
    begin: msToTimeval(s.beginMs),
    end: msToTimeval(s.endMs),
    result: s.result,
    // eventd sends a NULL output for a script that printed nothing.
    output: s.output === "" ? null : s.output,
  };
}

function positiveErrno(n: number): number {
  const v = Math.abs(n);
  return v === 0 ? Errno.EIO : v;
}

/** Serve one decoded request against the backend; never rejects. */
export async function handleEventRequest(
  backend: EventBackend,
  request: EventRequest,
  log: EventServerLog,
): Promise<EventReply> {
  const cmd = request.cmd;
  try {
    switch (request.cmd) {
      case "run": {
        if (request.component === null || request.event === null) {
          return { cmd, result: Errno.EINVAL };
        }
        const summary = await backend.run({
          component: request.component,
          event: request.event,
          args: splitRunArgs(request.args),
          timeoutSec: request.timeout,
          runAll: (request.flags & EVENT_RUN_ALL) !== 0,
        });
        let result = runResultToReply(summary);
        if (summary < 0 && result !== Errno.ETIMEDOUT && result !== Errno.ECANCELED) {
          // -errno is either a run that could not start (eventd replies that
          // errno) or a completed run whose failing script got a negative
          // result (eventd replies ENOEXEC). Only a completed run records its
          // status, so tell them apart by what is recorded now.
          const st = backend.status(request.component, request.event);
          if (!("error" in st) && st.summary === summary) result = Errno.ENOEXEC;
        }
        return { cmd, result };
      }
      case "status": {
        if (request.component === null || request.event === null) {
          return { cmd, result: Errno.EINVAL };
        }
        const st = backend.status(request.component, request.event);
        if ("error" in st) {
          return { cmd, result: positiveErrno(st.error) };
        }
        return {
          cmd,
          result: 0,
          status: { summary: st.summary, scripts: st.scripts.map(toWireScript) },
        };
      }
      case "script": {
        if (request.component === null || request.script === null) {
          return { cmd, result: Errno.EINVAL };
        }
        const r = await backend.setScriptEnabled(
          request.component,
          request.script,
          request.action === "enable",
        );
        return { cmd, result: Math.abs(r) };
      }
    }
  } catch (err) {
    // eventd answers a command that failed internally with EIO.
    log.error(`event server: ${cmd.toUpperCase()} failed: ${errorText(err)}`);
    return { cmd, result: Errno.EIO };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function encodeOrFallback(reqid: number, reply: EventReply, log: EventServerLog): Buffer {
  try {
    return encodeReply(reqid, reply);
  } catch (err) {
    log.error(`event server: cannot encode ${reply.cmd} reply: ${errorText(err)}`);
    return encodeReply(reqid, { cmd: reply.cmd, result: Errno.EIO });
  }
}

async function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    const timer = setTimeout(() => {
      probe.destroy();
      resolve(true);
    }, 1000);
    probe.once("connect", () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function removeStaleSocket(path: string): Promise<void> {
  let st: import("node:fs").Stats;
  try {
    st = await fsp.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new Error(`${path} exists and is not a socket; not removing it`);
  }
  if (await socketIsLive(path)) {
    throw new Error(`another event daemon is already listening on ${path}`);
  }
  await fsp.unlink(path);
}

// The socket is chmod'ed to 0600 right after bind. Changing the umask around
// bind instead would be process-wide and could affect files that libuv's
// thread pool creates at the same moment; and under any usual umask the
// freshly bound socket is not writable by others, so nobody else can connect
// to it in between.
function listen(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(path, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

export async function startEventServer(
  socketPath: string,
  backend: EventBackend,
  log: EventServerLog,
): Promise<EventServer> {
  await removeStaleSocket(socketPath);

  const clients = new Set<net.Socket>();
  let nextClientId = 1;

  const server = net.createServer((sock) => {
    const clientId = nextClientId++;
    const frames = new FrameReader(MAX_REQUEST_BYTES);
    let inFlight = 0;
    clients.add(sock);

    const reject = (why: string) => {
      log.error(`event server: client ${clientId}: ${why}; closing connection`);
      sock.destroy();
    };

    const serve = async (reqid: number, request: EventRequest) => {
      inFlight++;
      if (inFlight >= MAX_IN_FLIGHT_PER_CLIENT) sock.pause();
      const reply = await handleEventRequest(backend, request, log);
      inFlight--;
      if (sock.destroyed) return; // client went away: drop the reply, as eventd does
      sock.write(encodeOrFallback(reqid, reply, log));
      if (inFlight < MAX_IN_FLIGHT_PER_CLIENT && sock.isPaused()) sock.resume();
    };

    sock.on("data", (chunk: Buffer) => {
      let packets: Buffer[];
      try {
        packets = frames.push(chunk);
      } catch (err) {
        reject(`bad framing: ${errorText(err)}`);
        return;
      }
      for (const packet of packets) {
        let decoded: ReturnType<typeof decodeRequest>;
        try {
          decoded = decodeRequest(packet);
        } catch (err) {
          reject(`invalid packet of ${packet.length} bytes: ${errorText(err)}`);
          return;
        }
        void serve(decoded.header.reqid, decoded.request);
      }
    });
    sock.on("error", () => {
      // A reset by the peer is normal; "close" follows and cleans up.
    });
    sock.on("close", () => {
      clients.delete(sock);
    });
  });

  server.on("error", (err) => {
    log.error(`event server: ${errorText(err)}`);
  });

  await listen(server, socketPath);
  await fsp.chmod(socketPath, 0o600);
  log.info(`event server: listening on ${socketPath}`);

  let closing: Promise<void> | undefined;
  return {
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of clients) c.destroy();
      }).then(async () => {
        await fsp.rm(socketPath, { force: true });
      });
      return closing;
    },
  };
}
