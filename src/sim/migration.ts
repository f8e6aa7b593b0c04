// The record migration simulator: clients on every node fetch-lock and store
// volatile records (what smbd does with locking.tdb) while nodes die and
// restart, all from one seed. It runs the real migration core
// (database/migration.ts) on every node and, after each membership change,
// the real recovery core (database/recovery.ts) led by the lowest live node;
// it models only the world around them: each node's TDB as a map, the links
// between nodes (ordered per direction, as TCP), node deaths (a dead node's
// volatile store is gone, its links drop what they carry) and the client
// library's loop (fetch-lock migrates until the local node is the dmaster,
// then the client writes its value under the lock).
//
// Checked after every step: at most one live node holds any record as its
// dmaster, and that copy's RSN is the highest of all live copies; after a
// recovery every node holds what the surviving dmasters held (no write of a
// live node lost). Checked at the end, once the network is drained: every
// client call on a live node was answered, and every record that exists has
// exactly one dmaster.

import { lmasterOf } from "../database/hash.ts";
import {
  type Copy,
  initialMigrationState,
  type MigrationEffect,
  type MigrationInput,
  type MigrationPacket,
  type MigrationState,
  stepMigration,
} from "../database/migration.ts";
import { type RecordCopy, type RecoveryEffect, type RecoveryResult, startRecovery, stepRecovery } from "../database/recovery.ts";
import { CallFlag, NULL_FUNC } from "../protocol/constants.ts";
import { Prng } from "./prng.ts";

const DB = { dbId: 0x5eed0001, name: "locking.tdb", flags: 0 };

export interface MigrationSimOptions {
  seed: number;
  nodes?: number;
  keys?: number;
  steps?: number;
  /** Allow node deaths and restarts (default true). */
  faults?: boolean;
  trace?: boolean;
}

export interface MigrationSimResult {
  seed: number;
  ok: boolean;
  failure?: string;
  stats: { steps: number; migrations: number; writes: number; recoveries: number; deaths: number };
  trace: string[];
}

interface InFlight {
  generation: number;
  packet: MigrationPacket;
}

interface SimNode {
  pnn: number;
  alive: boolean;
  core: MigrationState;
  store: Map<string, Copy>;
  deferred: { from: number; flight: InFlight }[];
  /** Client calls waiting: call id → key. */
  calls: Map<number, string>;
  /** Retries per call id so a client loop cannot run forever. */
  tries: Map<number, number>;
}

class Failure extends Error {}

export function simulateMigration(o: MigrationSimOptions): MigrationSimResult {
  const prng = new Prng(o.seed);
  const nodeCount = o.nodes ?? 3 + prng.int(3);
  const keys = Array.from({ length: o.keys ?? 1 + prng.int(4) }, (_, i) => `rec${i}`);
  const steps = o.steps ?? 600;
  const faults = o.faults ?? true;
  const trace: string[] = [];
  const stats = { steps: 0, migrations: 0, writes: 0, recoveries: 0, deaths: 0 };
  const log = (line: string) => {
    if (o.trace) trace.push(line);
  };
  let generation = 1;
  let nextCallId = 1;
  const links = new Map<string, InFlight[]>();
  const nodes: SimNode[] = Array.from({ length: nodeCount }, (_, pnn) => freshNode(pnn));

  function freshNode(pnn: number): SimNode {
    return { pnn, alive: true, core: initialMigrationState(pnn, generation, []), store: new Map(), deferred: [], calls: new Map(), tries: new Map() };
  }
  const live = () => nodes.filter((n) => n.alive);
  const vnnmap = () => live().map((n) => n.pnn);

  function execute(n: SimNode, fx: MigrationEffect[], flight?: { from: number; flight: InFlight }): void {
    for (const e of fx) {
      switch (e.kind) {
        case "store":
          n.store.set(e.key.toString(), { header: { ...e.header }, value: Buffer.from(e.value) });
          break;
        case "send": {
          const id = `${n.pnn}>${e.to}`;
          const q = links.get(id) ?? [];
          q.push({ generation: e.generation, packet: e.packet });
          links.set(id, q);
          break;
        }
        case "reply-client":
          clientAnswered(n, e.callId, e.status);
          break;
        case "refetch":
          feed(n, { kind: "resend", reqid: e.reqid, local: n.store.get(e.key.toString()) ?? null });
          break;
        case "defer":
          if (flight !== undefined) n.deferred.push(flight);
          break;
        case "hop":
        case "log":
          break;
      }
    }
  }

  function feed(n: SimNode, input: MigrationInput, flight?: { from: number; flight: InFlight }): void {
    execute(n, stepMigration(n.core, input), flight);
  }

  function clientCall(n: SimNode, key: string, callId = nextCallId++): void {
    n.calls.set(callId, key);
    feed(n, {
      kind: "client-call",
      callId,
      dbId: DB.dbId,
      key: Buffer.from(key),
      flags: CallFlag.IMMEDIATE_MIGRATION,
      func: NULL_FUNC,
      local: n.store.get(key) ?? null,
    });
  }

  /** The client library: holding the chain lock, is this node the dmaster now? Write, or ask again. */
  function clientAnswered(n: SimNode, callId: number, status: number): void {
    const key = n.calls.get(callId);
    if (key === undefined) throw new Failure(`node ${n.pnn}: answer for unknown call ${callId}`);
    n.calls.delete(callId);
    const copy = n.store.get(key);
    if (status === 0 && copy !== undefined && copy.header.dmaster === n.pnn) {
      stats.migrations++;
      const value = Number(copy.value.toString() || "0") + 1;
      n.store.set(key, { header: copy.header, value: Buffer.from(String(value)) });
      stats.writes++;
      log(`node ${n.pnn} holds ${key} (rsn ${copy.header.rsn}) and writes ${value}`);
      return;
    }
    const tries = (n.tries.get(callId) ?? 0) + 1;
    if (tries > 20) throw new Failure(`node ${n.pnn}: fetch-lock of ${key} did not make it the dmaster after 20 tries`);
    n.tries.set(callId, tries);
    clientCall(n, key, callId);
  }

  function deliver(id: string): void {
    const q = links.get(id);
    const flight = q?.shift();
    if (flight === undefined) return;
    const [from, to] = id.split(">").map(Number) as [number, number];
    const n = nodes[to]!;
    if (!n.alive || !nodes[from]!.alive) return;
    const key = "key" in flight.packet ? flight.packet.key.toString() : undefined;
    log(`${from}->${to} ${flight.packet.op} gen ${flight.generation}${key === undefined ? "" : ` ${key}`}`);
    feed(
      n,
      { kind: "packet", from, generation: flight.generation, packet: flight.packet, local: key === undefined ? null : (n.store.get(key) ?? null) },
      { from, flight },
    );
  }

  /** Membership changed: the real recovery core, then every live node learns the new generation. */
  function recover(): void {
    generation++;
    stats.recoveries++;
    const members = vnnmap();
    const leader = members[0]!;
    log(`recovery: generation ${generation}, nodes [${members.join(",")}]`);
    // What the surviving dmasters hold must be what every node holds afterwards.
    const held = new Map<string, string>();
    for (const n of live()) for (const [k, c] of n.store) if (c.header.dmaster === n.pnn && c.value.length > 0) held.set(k, c.value.toString());
    const { run, effects } = startRecovery({ generation, leader, nodes: members, timeoutMs: 1000, banSeconds: 1 });
    const queue: RecoveryEffect[] = [...effects];
    let done = false;
    while (queue.length > 0) {
      const e = queue.shift()!;
      if (e.kind === "done") {
        if (!e.ok) throw new Failure(`recovery failed: ${e.reason ?? "?"}`);
        done = true;
        continue;
      }
      if (e.kind !== "request") continue;
      const n = nodes[e.to]!;
      let result: RecoveryResult;
      switch (e.req.op) {
        case "dbmap":
          result = { op: "dbmap", dbs: [DB] };
          break;
        case "attach":
          result = { op: "attach" };
          break;
        case "freeze":
          result = { op: "freeze", seqnum: 0n };
          break;
        case "pull":
          result = {
            op: "pull",
            records: [...n.store].map(([k, c]): RecordCopy => ({ key: Buffer.from(k), rsn: c.header.rsn, dmaster: c.header.dmaster, flags: c.header.flags, data: c.value })),
          };
          break;
        case "push":
          n.store.clear();
          for (const r of e.req.records) n.store.set(r.key.toString(), { header: { rsn: r.rsn, dmaster: r.dmaster, reserved1: 0, flags: r.flags }, value: r.data });
          result = { op: "push", count: e.req.records.length };
          break;
        case "thaw":
          result = { op: "thaw" };
          break;
      }
      queue.push(...stepRecovery(run, { kind: "reply", reqId: e.reqId, from: e.to, result }));
    }
    if (!done) throw new Failure("recovery did not finish");
    for (const [k, v] of held) {
      for (const n of live()) {
        const got = n.store.get(k)?.value.toString();
        if (got !== v) throw new Failure(`recovery lost ${k}=${v} of a surviving dmaster: node ${n.pnn} has ${got}`);
      }
    }
    for (const n of live()) {
      const deferred = n.deferred;
      n.deferred = [];
      feed(n, { kind: "membership", generation, vnnmap: members });
      for (const d of deferred) {
        const key = "key" in d.flight.packet ? d.flight.packet.key.toString() : undefined;
        feed(
          n,
          { kind: "packet", from: d.from, generation: d.flight.generation, packet: d.flight.packet, local: key === undefined ? null : (n.store.get(key) ?? null), deferred: true },
          d,
        );
      }
    }
  }

  function check(final: boolean): void {
    const alive = live();
    const names = new Set<string>();
    for (const n of alive) for (const k of n.store.keys()) names.add(k);
    for (const key of names) {
      const masters = alive.filter((n) => n.store.get(key)?.header.dmaster === n.pnn);
      if (masters.length > 1) throw new Failure(`${key} has ${masters.length} dmasters: nodes ${masters.map((n) => n.pnn).join(",")}`);
      if (masters.length === 1) {
        const m = masters[0]!;
        const rsn = m.store.get(key)!.header.rsn;
        for (const n of alive) {
          const other = n.store.get(key);
          if (n !== m && other !== undefined && other.header.rsn > rsn) {
            throw new Failure(`${key}: node ${n.pnn}'s copy (rsn ${other.header.rsn}) outranks dmaster ${m.pnn}'s (rsn ${rsn})`);
          }
        }
      }
      if (final && masters.length !== 1) throw new Failure(`${key} has no dmaster once everything settled`);
    }
    if (final) {
      for (const n of alive) {
        if (n.calls.size > 0) throw new Failure(`node ${n.pnn}: ${n.calls.size} client calls never answered`);
      }
    }
  }

  try {
    recover();
    for (let i = 0; i < steps; i++) {
      stats.steps++;
      const r = prng.next();
      const alive = live();
      if (r < 0.35) {
        clientCall(prng.pick(alive), prng.pick(keys));
      } else if (faults && r < 0.37 && alive.length > 1) {
        const victim = prng.pick(alive);
        victim.alive = false;
        stats.deaths++;
        log(`node ${victim.pnn} dies`);
        for (const id of links.keys()) if (id.startsWith(`${victim.pnn}>`) || id.endsWith(`>${victim.pnn}`)) links.delete(id);
        recover();
      } else if (faults && r < 0.39 && alive.length < nodeCount) {
        const dead = nodes.filter((n) => !n.alive);
        const back = prng.pick(dead);
        nodes[back.pnn] = freshNode(back.pnn);
        log(`node ${back.pnn} restarts empty`);
        recover();
      } else {
        const busy = [...links].filter(([, q]) => q.length > 0).map(([id]) => id);
        if (busy.length > 0) deliver(prng.pick(busy));
      }
      check(false);
    }
    // Settle: no new calls or faults; deliver until nothing is in flight.
    for (let guard = 0; guard < 100_000; guard++) {
      const busy = [...links].filter(([, q]) => q.length > 0).map(([id]) => id);
      if (busy.length === 0) break;
      deliver(prng.pick(busy));
      check(false);
    }
    check(true);
    // A record everyone asked for ends on exactly one node, as the lmaster knows.
    for (const key of keys) {
      const lm = lmasterOf(Buffer.from(key), vnnmap());
      const where = nodes[lm]!.store.get(key)?.header.dmaster;
      const master = live().find((n) => n.store.get(key)?.header.dmaster === n.pnn);
      if (master !== undefined && where !== master.pnn) {
        throw new Failure(`${key}: lmaster ${lm} says dmaster ${where}, but node ${master.pnn} is`);
      }
    }
    return { seed: o.seed, ok: true, stats, trace };
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    return { seed: o.seed, ok: false, failure: err.message, stats, trace };
  }
}
