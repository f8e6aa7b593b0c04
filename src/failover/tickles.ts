// Connection tracking (tickle lists), a pure core. For every public address
// each node keeps the TCP connections clients have to it, so that whichever
// node takes the address over can send those clients a tickle ACK — their
// answer meets a host with no such connection and is reset, and they
// reconnect at once instead of waiting out a retransmission timeout.
//
// As in CTDB 4.17, a connection's dst is the public address (the server end)
// and src the client. Where lists come from:
// - TCP_CLIENT from a local client such as smbd: remembered for that client
//   and broadcast to every node as TCP_ADD;
// - TCP_ADD (from a node) and TCP_ADD_DELAYED_UPDATE (`ctdb addtickle`);
//   TCP_REMOVE (`ctdb deltickle`);
// - newer CTDB's TCP_CLIENT_DISCONNECTED (the client closed one: forget it
//   and broadcast TCP_REMOVE) and TCP_CLIENT_PASSED (smbd handed it to
//   another process: no longer this client's, but still tracked);
// - SET_TCP_TICKLE_LIST from the node hosting the address, which pushes its
//   list on every change-marked TickleUpdateInterval (the daemon's timer).
// A client going away forgets its connections to addresses this node hosts;
// for an address already moved away they stay, for the new host to tickle.
// On takeover the list is tickled and then kept (CTDB 4.17 dropped it, so a
// second move found nothing: fixed in 4.23.11); on release the connections
// are reset from here.

import type { Connection } from "../protocol/types.ts";

export interface TickleState {
  /** Public addresses configured on this node (others are not tracked). */
  addresses: Set<string>;
  /** Of those, the ones this node hosts now. */
  hosted: Set<string>;
  lists: Map<string, Connection[]>;
  /** Hosted addresses whose list changed since it was last pushed. */
  updateNeeded: Set<string>;
  /** Connections each local client registered with TCP_CLIENT. */
  clients: Map<number, Connection[]>;
}

export type TickleInput =
  | { kind: "configure"; addresses: readonly string[] }
  | { kind: "hosting"; addresses: readonly string[] }
  | { kind: "tcp-client"; client: number; conn: Connection }
  | { kind: "client-gone"; client: number }
  | { kind: "client-disconnected"; client: number; conn: Connection }
  | { kind: "client-passed"; client: number; conn: Connection }
  | { kind: "tcp-add"; conn: Connection; delayedUpdate: boolean }
  | { kind: "tcp-remove"; conn: Connection }
  | { kind: "set-list"; address: string; conns: readonly Connection[] }
  | { kind: "update-timer" }
  | { kind: "taken"; address: string; iface: string }
  | { kind: "released"; address: string; iface: string };

export type TickleEffect =
  /** A control to every other connected node, without a reply. */
  | { kind: "broadcast"; control: "TCP_ADD" | "TCP_REMOVE"; conn: Connection }
  | { kind: "broadcast"; control: "SET_TCP_TICKLE_LIST"; address: string; conns: Connection[] }
  /** A tickle ACK to each conn.src as if from conn.dst. */
  | { kind: "tickle"; conns: Connection[] }
  /** Reset each connection's client end, capturing on iface. */
  | { kind: "kill"; iface: string; conns: Connection[] }
  | { kind: "log"; level: "info" | "warning"; message: string };

export interface TickleStep {
  /** The control's status where the input came from one (CTDB's values). */
  status: number;
  effects: TickleEffect[];
}

export function tickleStart(): TickleState {
  return { addresses: new Set(), hosted: new Set(), lists: new Map(), updateNeeded: new Set(), clients: new Map() };
}

const same = (a: Connection, b: Connection) =>
  a.src.addr === b.src.addr && a.src.port === b.src.port && a.dst.addr === b.dst.addr && a.dst.port === b.dst.port;

/** The connections tracked for one address (for GET_TCP_TICKLE_LIST). */
export function tickleList(state: TickleState, address: string): readonly Connection[] {
  return state.lists.get(address) ?? [];
}

function add(state: TickleState, conn: Connection, markUpdate: boolean): boolean {
  const list = state.lists.get(conn.dst.addr) ?? [];
  if (list.some((c) => same(c, conn))) return false;
  state.lists.set(conn.dst.addr, [...list, conn]);
  if (markUpdate) state.updateNeeded.add(conn.dst.addr);
  return true;
}

function remove(state: TickleState, conn: Connection): void {
  const list = state.lists.get(conn.dst.addr);
  if (list === undefined || !list.some((c) => same(c, conn))) return;
  const rest = list.filter((c) => !same(c, conn));
  if (rest.length === 0) state.lists.delete(conn.dst.addr);
  else state.lists.set(conn.dst.addr, rest);
  state.updateNeeded.add(conn.dst.addr);
}

function forClient(state: TickleState, client: number, f: (list: Connection[]) => Connection[]): void {
  const list = f(state.clients.get(client) ?? []);
  if (list.length === 0) state.clients.delete(client);
  else state.clients.set(client, list);
}

export function tickleStep(state: TickleState, input: TickleInput): TickleStep {
  const fx: TickleEffect[] = [];
  const done = (status = 0): TickleStep => ({ status, effects: fx });
  switch (input.kind) {
    case "configure": {
      state.addresses = new Set(input.addresses);
      for (const a of [...state.lists.keys()]) if (!state.addresses.has(a)) state.lists.delete(a);
      for (const a of [...state.hosted]) if (!state.addresses.has(a)) state.hosted.delete(a);
      return done();
    }
    case "hosting": {
      state.hosted = new Set(input.addresses.filter((a) => state.addresses.has(a)));
      for (const a of [...state.updateNeeded]) if (!state.hosted.has(a)) state.updateNeeded.delete(a);
      return done();
    }
    case "tcp-client": {
      // Not one of ours (a node address, loopback): nothing to track, and no error.
      if (!state.addresses.has(input.conn.dst.addr)) return done();
      forClient(state, input.client, (l) => [...l, input.conn]);
      fx.push({ kind: "broadcast", control: "TCP_ADD", conn: input.conn });
      add(state, input.conn, false);
      return done();
    }
    case "client-gone": {
      for (const conn of state.clients.get(input.client) ?? []) {
        // Moved away already: the new host still needs it.
        if (state.hosted.has(conn.dst.addr)) remove(state, conn);
      }
      state.clients.delete(input.client);
      return done();
    }
    case "client-disconnected": {
      forClient(state, input.client, (l) => l.filter((c) => !same(c, input.conn)));
      if (!state.addresses.has(input.conn.dst.addr)) return done();
      remove(state, input.conn);
      fx.push({ kind: "broadcast", control: "TCP_REMOVE", conn: input.conn });
      return done();
    }
    case "client-passed": {
      forClient(state, input.client, (l) => l.filter((c) => !same(c, input.conn)));
      return done();
    }
    case "tcp-add": {
      if (!state.addresses.has(input.conn.dst.addr)) {
        fx.push({ kind: "log", level: "info", message: `TCP_ADD for ${input.conn.dst.addr}, which is not a public address` });
        return done(-1);
      }
      add(state, input.conn, input.delayedUpdate);
      return done();
    }
    case "tcp-remove": {
      if (!state.addresses.has(input.conn.dst.addr)) {
        fx.push({ kind: "log", level: "warning", message: `TCP_REMOVE for ${input.conn.dst.addr}, which is not a public address` });
        return done(-1);
      }
      remove(state, input.conn);
      return done();
    }
    case "set-list": {
      if (!state.addresses.has(input.address)) return done(1);
      // The hosting node's own list is the authority; ignore echoes of it.
      if (state.hosted.has(input.address)) return done();
      if (input.conns.length === 0) state.lists.delete(input.address);
      else state.lists.set(input.address, input.conns.filter((c) => c.dst.addr === input.address));
      return done();
    }
    case "update-timer": {
      for (const a of [...state.updateNeeded].sort()) {
        if (!state.hosted.has(a)) continue;
        fx.push({ kind: "broadcast", control: "SET_TCP_TICKLE_LIST", address: a, conns: [...tickleList(state, a)] });
      }
      state.updateNeeded.clear();
      return done();
    }
    case "taken": {
      if (state.addresses.has(input.address)) state.hosted.add(input.address);
      const conns = [...tickleList(state, input.address)];
      if (conns.length > 0) fx.push({ kind: "tickle", conns });
      // The others learn that this node now speaks for the list.
      state.updateNeeded.add(input.address);
      return done();
    }
    case "released": {
      state.hosted.delete(input.address);
      state.updateNeeded.delete(input.address);
      const conns = [...tickleList(state, input.address)];
      if (conns.length > 0) fx.push({ kind: "kill", iface: input.iface, conns });
      return done();
    }
  }
}
