// One Tandem node: the cluster shell, the node transport, the client socket and
// the lifecycle shell (runstates, their events, the monitor loop), wired
// together; every decision is the cores'. Routing of CTDB
// packets between local clients, this node and other nodes lives here too:
// controls for another node are forwarded to it and its reply relayed, as
// CTDB's daemon does.

import fs from "node:fs";
import path from "node:path";
import { ClusterShell, loadVote } from "../cluster/shell.ts";
import { nodeFlags } from "../cluster/core.ts";
import { failoverGraces, type KeepaliveSettings, keepaliveSettings } from "../cluster/detection.ts";
import { type ClusterConfig, FLAGS_INACTIVE, Flag, Runstate, UNKNOWN_PNN } from "../cluster/types.ts";
import type { NodeConfig } from "../config/load.ts";
import { findTunable, getTunable, listTunableNames, setTunable, type Tunables, tunablesToWireOrder } from "../config/tunables.ts";
import { type ControlContext, type ControlReply, dispatchAnyControl, dispatchControl } from "../control/dispatch.ts";
import { RecoveryService } from "../database/recovery-service.ts";
import { DatabaseService } from "../database/service.ts";
import { Messaging } from "./messaging.ts";
import { FailoverShell } from "../failover/shell.ts";
import { NetworkEffects } from "../failover/net-effects.ts";
import { clusterFacts, failoverControls, failoverMessage, failoverSettings, type FailoverSettings } from "./failover.ts";
import { DEFAULT_LIFECYCLE_CONFIG, type LifecycleConfig } from "../lifecycle/core.ts";
import { LifecycleShell } from "../lifecycle/shell.ts";
import { createClusterLock } from "../lock/cluster-lock.ts";
import { EtcdLock } from "../lock/etcd-lock.ts";
import {
  BROADCAST_ACTIVE,
  BROADCAST_ALL,
  BROADCAST_CONNECTED,
  CURRENT_NODE,
  type Control,
  Operation,
  SRVID_LEADER,
} from "../protocol/constants.ts";
import {
  decodePacket,
  encodeReplyCall,
  encodeReplyControl,
  encodeReqControl,
  encodeReqMessage,
  encodeReqTunnel,
  type Packet,
  type ReplyControl,
  type ReqControl,
  type ReqMessage,
  type ReqTunnel,
} from "../protocol/packets.ts";
import { encodeU32, type NodeMap, type Timeval } from "../protocol/types.ts";
import { Transport } from "../transport/tcp.ts";
import { advertisedVersion, formatVersion } from "../transport/version.ts";
import { ClientServer, type ClientConnection } from "./client-server.ts";
import type { Log, Logger } from "./logger.ts";
import type { NodeServices } from "./services.ts";

interface PendingForward {
  dest: number;
  reply: (reply: Pick<ReplyControl, "status" | "data" | "errmsg">) => void;
  timer: NodeJS.Timeout;
}


/** Replies now or when a control that runs an event is done. */
function replyWhenDone(reply: ControlReply | Promise<ControlReply>, respond: (r: ControlReply) => void): void {
  if (reply instanceof Promise) void reply.then(respond);
  else respond(reply);
}

function timeval(ms: number): Timeval {
  return { sec: Math.floor(ms / 1000), usec: Math.floor((ms % 1000) * 1000) };
}

export class Node {
  readonly pnn: number;
  private readonly log: Log;
  readonly cluster: ClusterShell;
  readonly transport: Transport;
  readonly clients: ClientServer;
  readonly databases: DatabaseService;
  readonly messaging: Messaging;
  /** Packets by operation, from clients and from nodes (STATISTICS). */
  private readonly opCounts = { client: new Map<number, number>(), node: new Map<number, number>() };
  private recoveries = 0;
  readonly recovery: RecoveryService;
  private tunables: Tunables;
  /** Tunables set in ctdb.tunables or by setvar: CTDB's keepalives apply once one of them is. */
  private readonly explicitTunables: Set<string>;
  private lifecycle: LifecycleShell | undefined;
  private services: NodeServices | undefined;
  private readonly startedWallMs = Date.now();
  private lastRecoveryStartMs = 0;
  private lastRecoveryEndMs = 0;
  private pending = new Map<number, PendingForward>();
  private nextReqid = 1;
  private exiting = false;
  private startFailed: ((err: Error) => void) | undefined;
  /** Public addresses, takeover runs and bans (src/failover/). */
  readonly failover: FailoverShell;
  private readonly netEffects: NetworkEffects;
  private readonly failoverSettings: FailoverSettings;
  onExit: (code: number) => void = (code) => process.exit(code);

  constructor(
    readonly config: NodeConfig,
    pnn: number,
    private readonly logger: Pick<Logger, "log" | "level" | "setLevel">,
  ) {
    const log = logger.log;
    this.log = log;
    this.pnn = pnn;
    this.tunables = { ...config.tunables };
    this.explicitTunables = new Set(config.tunablesSet);
    const lockSetting = config.conf.cluster.clusterLock;
    const etcdLock = config.tandem.cluster.etcdLock;
    const lock =
      etcdLock !== undefined
        ? new EtcdLock(etcdLock, { log, holder: `node ${pnn} (${config.nodes[pnn]?.address})` })
        : lockSetting === undefined
          ? undefined
          : createClusterLock(lockSetting, { log, helperBindir: config.paths.helperBindir });
    if (lock === undefined) {
      log(
        "warning",
        config.tandem.cluster.requireMajority
          ? "No cluster lock configured: a leader is elected only in a partition holding a majority of the nodes"
          : "No cluster lock configured and majority not required: a network partition WILL elect two leaders (split brain)",
      );
    }
    const k = this.keepalives();
    log(
      "info",
      `Peers are declared gone after ${k.keepaliveIntervalMs * k.keepaliveLimit} ms of silence ` +
        (k.source === "tunables" ? "(KeepaliveInterval × KeepaliveLimit)" : "(tandem.conf peer timeout ms)"),
    );
    fs.mkdirSync(config.paths.vardir, { recursive: true });
    const voteFile = path.join(config.paths.vardir, "tandem-vote.json");
    this.cluster = new ClusterShell({ ...this.clusterConfig(lock !== undefined), savedVote: loadVote(voteFile) }, lock, {
      log,
      leaderToClients: (leader) => this.leaderToClients(leader),
      firstRecoveryDone: () => this.lifecycle?.feed({ kind: "first-recovery-done" }),
      recovered: (generation, vnnmap) => {
        this.recoveries++;
        this.databases.migration.membership(generation, vnnmap);
        this.lastRecoveryStartMs = Date.now();
        this.lastRecoveryEndMs = this.lastRecoveryStartMs;
        this.recovery.generationChanged(generation);
        this.lifecycle?.feed({ kind: "recovered", generation });
      },
      stepped: (state) => {
        this.lifecycle?.feed({
          kind: "cluster",
          recoveryActive: state.recoveryMode !== 0,
          inactive: (state.ownFlags & FLAGS_INACTIVE) !== 0,
        });
        // After this step's packets are sent: a peer learns who leads before it
        // hears from the leader's coordinator.
        queueMicrotask(() => this.failover.cluster(clusterFacts(state)));
      },
      flagsChanged: (p, flags, previous) => {
        log("info", `Node ${p} flags 0x${previous.toString(16)} -> 0x${flags.toString(16)}`);
        if (p === this.pnn && (flags & FLAGS_INACTIVE) !== 0 && (previous & FLAGS_INACTIVE) === 0) this.recovery.ownFlagsChanged(true);
      },
      leaderChanged: () => {},
      lostMajority: () => this.failover.lostMajority(),
    }, voteFile);
    this.transport = new Transport({
      pnn,
      nodes: config.nodes,
      port: config.tandem.cluster.port,
      sharedKey: config.tandem.cluster.sharedKey,
      version: advertisedVersion(process.env),
      log,
      onPeerUp: (peer) => {
        this.cluster.onPeerUp(peer);
        this.databases.peerUp(peer);
      },
      onPeerDown: (peer) => {
        this.failForwards(peer);
        this.cluster.onPeerDown(peer);
        this.databases.peerDown(peer);
        this.recovery.peerDown(peer);
      },
      onDatabase: (from, payload) => this.recovery.onMessage(from, payload),
      onCluster: (from, packet) => {
        this.cluster.onPacket(from, packet);
        if (packet.t === "failover") this.failover.feed({ kind: "message", from, msg: packet.m });
        else if (packet.t === "ban" && packet.pnn === this.pnn) {
          this.failover.feed({ kind: "ban", seconds: packet.seconds, reason: `banned by node ${from}` });
        }
      },
      onCtdb: (from, bytes) => this.onNodePacket(from, bytes),
    });
    this.cluster.attach(this.transport);
    this.databases = this.createDatabases();
    this.failoverSettings = failoverSettings(pnn, config, () => this.tunables, this.keepalives(), (m) => log("warning", m));
    this.failover = new FailoverShell(this.failoverSettings.config, config.publicAddresses, {
      log,
      requestEvent: (ref, event, args) => this.lifecycle?.feed({ kind: "request-event", ref, event, args }),
      sendPacket: (to, packet) => this.transport.send(to, packet),
      notifyClients: (srvid, data) => this.deliverMessage({
        operation: Operation.REQ_MESSAGE,
        generation: this.cluster.state.generation,
        destnode: this.pnn,
        srcnode: this.pnn,
        reqid: 0,
        srvid,
        data,
      }),
      sendMessage: (pnn, srvid, data) =>
        this.routeMessage(
          { operation: Operation.REQ_MESSAGE, generation: this.cluster.state.generation, destnode: pnn, srcnode: this.pnn, reqid: 0, srvid, data },
          true,
        ),
      setBanned: (on) => this.cluster.feed({ kind: "admin", action: on ? "ban" : "unban" }),
    });
    this.netEffects = new NetworkEffects({
      addresses: () => config.publicAddresses,
      log,
      leaseMs: failoverGraces(this.keepalives()).watchdogLeaseMs,
      removed: (addresses) => this.failover.addressesRemoved(addresses),
    });
    this.failover.address = this.netEffects;
    this.messaging = new Messaging({
      clients: () => this.clients.clients,
      counters: () => this.statisticsCounters(),
      hopCountBuckets: () => this.databases.migration.stats.hopCountBuckets,
      memoryLines: () => [
        `clients                        ${this.clients.clients.size}`,
        ...this.databases.local.list().map((db) => `database ${db.name.padEnd(22)} ${db.path}`),
      ],
    });
    this.recovery = new RecoveryService({
      pnn,
      log,
      local: this.databases.local,
      send: (to, payload) => this.transport.sendDatabase(to, payload),
      activeNodes: () => this.cluster.state.vnnmap.filter((p) => p === this.pnn || this.transport.isUp(p)),
      connectedNodes: () => this.config.nodes.filter((n) => !n.deleted && this.transport.isUp(n.pnn)).map((n) => n.pnn),
      leader: () => this.cluster.state.leader,
      generation: () => this.cluster.state.generation,
      forceRecovery: () => this.cluster.feed({ kind: "force-recovery" }),
      // The banning core (src/failover/) applies a ban on the node it is for.
      ban: (p, seconds) => {
        if (p === this.pnn) this.failover.feed({ kind: "ban", seconds, reason: "recovery kept failing here" });
        else this.transport.send(p, { t: "ban", pnn: p, seconds });
      },
      tunable: (name) => this.tunable(name),
    });
    this.clients = new ClientServer(
      config.paths.ctdbdSocket,
      { onPacket: (client, packet) => this.onClientPacket(client, packet), onClose: (client) => this.messaging.clientClosed(client) },
      log,
    );
  }

  private statisticsCounters(): Map<string, number> {
    const c = new Map<string, number>();
    const state = this.cluster.state;
    const t = this.transport.counters;
    const op = (from: "client" | "node", o: number) => this.opCounts[from].get(o) ?? 0;
    c.set("num_clients", this.clients.clients.size);
    c.set("frozen", state.recoveryMode !== 0 ? 1 : 0);
    c.set("recovering", state.recoveryMode !== 0 ? 1 : 0);
    c.set("num_recoveries", this.recoveries);
    c.set("client_packets_sent", this.clients.counters.sent);
    c.set("client_packets_recv", this.clients.counters.recv);
    c.set("node_packets_sent", t.ctdbSent);
    c.set("node_packets_recv", t.ctdbRecv);
    c.set("keepalive_packets_sent", t.clusterSent);
    c.set("keepalive_packets_recv", t.clusterRecv);
    const nodeOps: [string, number][] = [
      ["node.req_call", Operation.REQ_CALL],
      ["node.reply_call", Operation.REPLY_CALL],
      ["node.req_dmaster", Operation.REQ_DMASTER],
      ["node.reply_dmaster", Operation.REPLY_DMASTER],
      ["node.reply_error", Operation.REPLY_ERROR],
      ["node.req_message", Operation.REQ_MESSAGE],
      ["node.req_control", Operation.REQ_CONTROL],
      ["node.reply_control", Operation.REPLY_CONTROL],
      ["node.req_tunnel", Operation.REQ_TUNNEL],
    ];
    for (const [name, o] of nodeOps) c.set(name, op("node", o));
    c.set("client.req_call", op("client", Operation.REQ_CALL));
    c.set("client.req_message", op("client", Operation.REQ_MESSAGE));
    c.set("client.req_control", op("client", Operation.REQ_CONTROL));
    c.set("client.req_tunnel", op("client", Operation.REQ_TUNNEL));
    const dbs = this.databases.local.list();
    const sum = (f: (s: (typeof dbs)[number]["statistics"]) => number) => dbs.reduce((n, db) => n + f(db.statistics), 0);
    c.set("locks.num_calls", sum((s) => s.locks.numCalls));
    c.set("locks.num_pending", sum((s) => s.locks.numPending));
    c.set("locks.num_failed", sum((s) => s.locks.numFailed));
    const m = this.databases.migration;
    c.set("total_calls", m.stats.totalCalls);
    c.set("pending_calls", m.pendingCalls);
    c.set("memory_used", Math.min(process.memoryUsage().heapUsed, 0xffffffff));
    c.set("max_hop_count", m.stats.maxHopCount);
    return c;
  }

  private count(from: "client" | "node", operation: number): void {
    const m = this.opCounts[from];
    m.set(operation, (m.get(operation) ?? 0) + 1);
  }

  private createDatabases(): DatabaseService {
    const others = (active: boolean) =>
      this.config.nodes
        .filter((n) => n.pnn !== this.pnn && !n.deleted)
        .map((n) => n.pnn)
        .filter((p) => {
          const flags = nodeFlags(this.cluster.state, p);
          return (flags & (active ? Flag.INACTIVE : Flag.DISCONNECTED)) === 0;
        });
    const db = this.config.conf.database;
    return new DatabaseService(
      {
        pnn: this.pnn,
        log: this.log,
        sendToNode: (pnn, packet) => this.transport.sendCtdb(pnn, packet),
        sendMessage: (dest, srvid, data) =>
          this.routeMessage(
            { operation: Operation.REQ_MESSAGE, generation: this.cluster.state.generation, destnode: dest, srcnode: this.pnn, reqid: 0, srvid, data },
            true,
          ),
        otherConnectedNodes: () => others(false),
        otherActiveNodes: () => others(true),
        generation: () => this.cluster.state.generation,
        tunable: (name) => this.tunable(name),
      },
      {
        dirs: { volatile: db.volatileDir, persistent: db.persistentDir, state: db.stateDir },
        hashSize: this.tunables["DatabaseHashSize"] ?? 100001,
        maxDead: this.tunables["DatabaseMaxDead"] ?? 5,
        mutexes: db.tdbMutexes,
      },
    );
  }

  private clusterConfig(lockConfigured: boolean): ClusterConfig {
    const t = this.tunables;
    const { conf, tandem } = this.config;
    // CTDB starts every node UNHEALTHY; the first successful monitor clears it.
    let startFlags: number = Flag.UNHEALTHY;
    if (conf.legacy.startAsDisabled) startFlags |= Flag.PERMANENTLY_DISABLED;
    if (conf.legacy.startAsStopped) startFlags |= Flag.STOPPED;
    const keepalives = this.keepalives();
    return {
      pnn: this.pnn,
      nodes: this.config.nodes.map((n) => ({ pnn: n.pnn, deleted: n.deleted })),
      lockConfigured,
      requireMajority: tandem.cluster.requireMajority,
      leaderTimeoutMs: conf.cluster.leaderTimeoutSec * 1000,
      keepaliveIntervalMs: keepalives.keepaliveIntervalMs,
      keepaliveLimit: keepalives.keepaliveLimit,
      recoverIntervalMs: (t["RecoverInterval"] ?? 1) * 1000,
      leaderBroadcastMs: 1000,
      lockRetryMs: 100,
      electionBackoffMs: 150,
      startFlags,
      leaderCapable: conf.cluster.leaderCapability,
      lmasterCapable: conf.legacy.lmasterCapability,
      seed: (Math.random() * 0xffffffff) >>> 0,
    };
  }

  private lifecycleConfig(): LifecycleConfig {
    const t = this.tunables;
    return {
      ...DEFAULT_LIFECYCLE_CONFIG,
      // The takeover run (src/failover/) runs ipreallocated itself.
      ipreallocatedAfterRecovery: false,
      recoverDatabases: true,
      eventTimeoutSec: t["EventScriptTimeout"] ?? 30,
      monitor: { monitorIntervalSec: t["MonitorInterval"] ?? 15, monitorTimeoutCount: t["MonitorTimeoutCount"] ?? 20 },
    };
  }

  /**
   * Opens the client socket and starts the lifecycle walk with these services.
   * Resolves once the node is set up (FIRST_RECOVERY); rejects with the reason
   * when start-up fails, after everything is closed (the caller then exits).
   */
  async start(services: NodeServices): Promise<void> {
    this.services = services;
    await this.clients.start();
    return new Promise((resolve, reject) => {
      this.startFailed = reject;
      this.lifecycle = new LifecycleShell(this.lifecycleConfig(), {
        runEvent: (event, args, timeoutSec) => services.runEvent(event, args, timeoutSec),
        setRunstate: (runstate) => {
          this.cluster.feed({ kind: "runstate", runstate });
          if (runstate === Runstate.FIRST_RECOVERY) {
            this.startFailed = undefined;
            resolve();
          }
        },
        joinCluster: () => this.transport.start(),
        recoverDatabases: (generation) => this.recovery.recoverDatabases(generation),
        setHealth: (healthy) => this.cluster.feed({ kind: "health", healthy }),
        notify: (event) => services.notify(event),
        recoveryFinished: () => this.failover.feed({ kind: "recovery-finished" }),
        eventFinished: (ref, _event, result) => void this.failover.eventFinished(ref, result),
        log: this.log,
        exit: (code, reason) => void this.exit(code, reason),
      });
      this.lifecycle.feed({ kind: "start" });
    });
  }

  /** Stops the node through its lifecycle (the shutdown event runs first). */
  shutdown(code = 0): void {
    if (this.lifecycle === undefined) void this.exit(code, undefined);
    else this.lifecycle.feed({ kind: "shutdown", code });
  }

  private async exit(code: number, reason: string | undefined): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.failover.stop();
    this.netEffects.stop();
    this.cluster.stop();
    this.transport.close();
    this.clients.close();
    this.recovery.close();
    this.databases.close();
    await this.services?.close();
    try {
      fs.unlinkSync(this.config.paths.pidFile);
    } catch {
      // never written or already gone
    }
    if (reason !== undefined && this.startFailed !== undefined) {
      this.startFailed(new Error(reason));
      return;
    }
    this.onExit(code);
  }

  // ---- what the control handlers see ----

  nodemap(): NodeMap {
    const state = this.cluster.state;
    return {
      nodes: this.config.nodes.map((n) => ({
        pnn: n.pnn,
        flags: n.deleted ? Flag.DELETED : nodeFlags(state, n.pnn),
        addr: n.deleted ? "0.0.0.0" : n.address,
      })),
    };
  }

  private context(client: ClientConnection | undefined): ControlContext {
    const state = this.cluster.state;
    return {
      pnn: this.pnn,
      pid: process.pid,
      nodemap: () => this.nodemap(),
      nodesFile: () => ({
        nodes: this.config.nodes.map((n) => ({ pnn: n.pnn, flags: n.deleted ? Flag.DELETED : 0, addr: n.deleted ? "0.0.0.0" : n.address })),
      }),
      runstate: () => state.runstate,
      vnnmap: () => ({ generation: state.generation, map: state.vnnmap }),
      // The leader stays in recovery until its databases are recovered: `ctdb recover` waits on that.
      recoveryMode: () => (state.recoveryMode !== 0 || (state.leader === this.pnn && !this.recovery.recovered(state.generation)) ? 1 : 0),
      forceRecovery: () => this.cluster.feed({ kind: "force-recovery" }),
      capabilities: () => state.caps,
      setCapability: (which, on) =>
        this.cluster.feed({ kind: "capabilities", ...(which === "leader" ? { leader: on } : { lmaster: on }) }),
      uptime: () => ({
        currentTime: timeval(Date.now()),
        ctdbdStartTime: timeval(this.startedWallMs),
        lastRecoveryStarted: timeval(this.lastRecoveryStartMs),
        lastRecoveryFinished: timeval(this.lastRecoveryEndMs),
      }),
      clientCount: () => this.clients.clients.size,
      reclock: () => this.config.conf.cluster.clusterLock ?? "",
      debugLevel: () => this.logger.level(),
      setDebugLevel: (level) => this.logger.setLevel(level),
      tunableNames: () => listTunableNames(),
      getTunable: (name) => getTunable(this.tunables, name),
      setTunable: (name, value) => {
        const result = setTunable(this.tunables, name, value);
        if (!result.ok) return result.status;
        this.tunables = result.tunables;
        const canonical = findTunable(name)?.name;
        if (canonical !== undefined) this.explicitTunables.add(canonical);
        this.applyTunables();
        return 0;
      },
      allTunables: () => tunablesToWireOrder(this.tunables),
      admin: (action) => this.cluster.feed({ kind: "admin", action }),
      shutdown: () => setImmediate(() => this.shutdown()),
      registerSrvid: (srvid) => {
        client?.srvids.add(srvid);
        if (client !== undefined && srvid === SRVID_LEADER) {
          // The real `ctdb` learns the leader only from this message; answering
          // at once instead of at the next broadcast saves it up to a second.
          setImmediate(() => {
            const leader = this.cluster.state.leader;
            if (leader !== UNKNOWN_PNN) client.write(this.leaderMessage(leader));
          });
        }
      },
      deregisterSrvid: (srvid) => client?.srvids.delete(srvid) ?? false,
      tandemInfo: () => ({
        transport: formatVersion(this.transport.version),
        sharedKey: this.config.tandem.cluster.sharedKey !== undefined,
        peers: [
          ...[...this.transport.peerVersions].map(([pnn, v]) => ({ pnn, transport: formatVersion(v), joined: true })),
          ...[...this.transport.refusedVersions].map(([pnn, transport]) => ({ pnn, transport, joined: false })),
        ].sort((a, b) => a.pnn - b.pnn),
      }),
      failover: failoverControls(this.failover, this.failoverSettings, this.config),
      processExists: (pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === "EPERM";
        }
      },
    };
  }

  private keepalives(): KeepaliveSettings {
    return keepaliveSettings({
      peerTimeoutMs: this.config.tandem.cluster.peerTimeoutMs,
      tunables: this.tunables,
      explicit: this.explicitTunables,
    });
  }

  private applyTunables(): void {
    const config = this.cluster.state.config;
    const { keepaliveIntervalMs, keepaliveLimit } = this.keepalives();
    config.keepaliveIntervalMs = keepaliveIntervalMs;
    config.keepaliveLimit = keepaliveLimit;
    config.recoverIntervalMs = (this.tunables["RecoverInterval"] ?? 1) * 1000;
    this.cluster.feed({ kind: "tick" });
    const { eventTimeoutSec, monitor } = this.lifecycleConfig();
    this.lifecycle?.feed({ kind: "tunables", eventTimeoutSec, monitor });
  }

  tunable(name: string): number | undefined {
    return getTunable(this.tunables, name);
  }

  // ---- routing ----

  private onClientPacket(client: ClientConnection, packet: Packet): void {
    this.count("client", packet.operation);
    switch (packet.operation) {
      case Operation.REQ_CONTROL:
        return this.clientControl(client, packet);
      case Operation.REQ_MESSAGE:
        return this.routeMessage(packet, true);
      case Operation.REQ_CALL:
        return this.databases.migration.clientCall(packet, (reply) => client.write(encodeReplyCall(reply)));
      case Operation.REQ_TUNNEL:
        return this.routeTunnel(packet, true);
      default:
        this.log("warning", `Client ${client.id} sent unsupported operation ${packet.operation}; ignored`);
    }
  }

  private clientControl(client: ClientConnection, req: ReqControl): void {
    const respond = (reply: Pick<ReplyControl, "status" | "data" | "errmsg">) => {
      if ((req.flags & 1) !== 0) return; // CTDB_CTRL_FLAG_NOREPLY
      client.write(
        encodeReplyControl({
          operation: Operation.REPLY_CONTROL,
          generation: this.cluster.state.generation,
          destnode: this.pnn,
          srcnode: req.destnode === CURRENT_NODE ? this.pnn : req.destnode,
          reqid: req.reqid,
          status: reply.status,
          data: reply.status === 0 ? reply.data : Buffer.alloc(0),
          errmsg: reply.errmsg,
        }),
      );
    };
    const dest = req.destnode === CURRENT_NODE ? this.pnn : req.destnode;
    if (dest === this.pnn) {
      const answer = this.messaging.control(req, client);
      if (answer !== undefined) return respond(answer);
      if (this.recovery.control(req, respond)) return;
      if (this.databases.control(req, { kind: "client", clientId: client.id }, respond)) return;
      replyWhenDone(dispatchAnyControl(this.context(client), req), respond);
      return;
    }
    if (dest === BROADCAST_ALL || dest === BROADCAST_ACTIVE || dest === BROADCAST_CONNECTED) {
      respond({ status: -1, data: Buffer.alloc(0), errmsg: "Broadcast controls are not supported" });
      return;
    }
    this.forwardControl(dest, req, respond);
  }

  private forwardControl(
    dest: number,
    req: ReqControl,
    reply: (r: Pick<ReplyControl, "status" | "data" | "errmsg">) => void,
  ): void {
    if (!this.config.nodes.some((n) => n.pnn === dest && !n.deleted)) {
      reply({ status: -1, data: Buffer.alloc(0), errmsg: `Node ${dest} does not exist` });
      return;
    }
    const reqid = this.nextReqid++;
    const packet = encodeReqControl({ ...req, destnode: dest, srcnode: this.pnn, reqid });
    if (!this.transport.sendCtdb(dest, packet)) {
      reply({ status: -1, data: Buffer.alloc(0), errmsg: `Node ${dest} is disconnected` });
      return;
    }
    const timeoutMs = (this.tunables["ControlTimeout"] ?? 60) * 1000;
    const timer = setTimeout(() => {
      this.pending.delete(reqid);
      reply({ status: -1, data: Buffer.alloc(0), errmsg: `Control ${req.opcode} to node ${dest} timed out` });
    }, timeoutMs);
    this.pending.set(reqid, { dest, reply, timer });
  }

  private failForwards(peer: number): void {
    for (const [reqid, p] of this.pending) {
      if (p.dest !== peer) continue;
      clearTimeout(p.timer);
      this.pending.delete(reqid);
      p.reply({ status: -1, data: Buffer.alloc(0), errmsg: `Node ${peer} disconnected` });
    }
  }

  private onNodePacket(from: number, bytes: Buffer): void {
    let packet: Packet;
    try {
      packet = decodePacket(bytes);
    } catch (err) {
      this.log("error", `Node ${from} forwarded a malformed CTDB packet: ${(err as Error).message}`);
      return;
    }
    this.count("node", packet.operation);
    switch (packet.operation) {
      case Operation.REQ_CONTROL: {
        const respond = (reply: Pick<ReplyControl, "status" | "data" | "errmsg">) => {
          if ((packet.flags & 1) !== 0) return;
          this.transport.sendCtdb(
            from,
            encodeReplyControl({
              operation: Operation.REPLY_CONTROL,
              generation: this.cluster.state.generation,
              destnode: from,
              srcnode: this.pnn,
              reqid: packet.reqid,
              status: reply.status,
              data: reply.status === 0 ? reply.data : Buffer.alloc(0),
              errmsg: reply.errmsg,
            }),
          );
        };
        const answer = this.messaging.control(packet, undefined);
        if (answer !== undefined) return respond(answer);
        if (this.recovery.control(packet, respond)) return;
        if (this.databases.control(packet, { kind: "node", pnn: from }, respond)) return;
        replyWhenDone(dispatchAnyControl(this.context(undefined), packet), respond);
        return;
      }
      case Operation.REPLY_CONTROL: {
        const pending = this.pending.get(packet.reqid);
        if (pending === undefined || pending.dest !== from) return;
        clearTimeout(pending.timer);
        this.pending.delete(packet.reqid);
        pending.reply(packet);
        return;
      }
      case Operation.REQ_MESSAGE:
        return this.routeMessage(packet, false);
      case Operation.REQ_CALL:
      case Operation.REQ_DMASTER:
      case Operation.REPLY_DMASTER:
      case Operation.REPLY_CALL:
      case Operation.REPLY_ERROR:
        return this.databases.migration.nodePacket(from, packet);
      case Operation.REQ_TUNNEL:
        return this.routeTunnel(packet, false);
      default:
        this.log("warning", `Node ${from} forwarded unsupported operation ${packet.operation}`);
    }
  }

  /** Delivers a message here and/or passes it on; broadcasts fan out only from their origin. */
  private routeMessage(msg: ReqMessage, fromLocalClient: boolean): void {
    const dest = msg.destnode === CURRENT_NODE ? this.pnn : msg.destnode;
    const broadcast = dest === BROADCAST_ALL || dest === BROADCAST_ACTIVE || dest === BROADCAST_CONNECTED;
    if (dest === this.pnn || broadcast) this.deliverMessage(msg);
    if (!fromLocalClient) return;
    const bytes = encodeReqMessage({ ...msg, srcnode: this.pnn });
    if (broadcast) {
      for (const n of this.config.nodes) if (n.pnn !== this.pnn && !n.deleted) this.transport.sendCtdb(n.pnn, bytes);
    } else if (dest !== this.pnn) {
      this.transport.sendCtdb(dest, bytes);
    }
  }

  /** Tunnel packets go to the client that registered the tunnel id on the destination node(s). */
  private routeTunnel(p: ReqTunnel, fromLocalClient: boolean): void {
    const dest = p.destnode === CURRENT_NODE ? this.pnn : p.destnode;
    const broadcast = dest === BROADCAST_ALL || dest === BROADCAST_ACTIVE || dest === BROADCAST_CONNECTED;
    const bytes = encodeReqTunnel({ ...p, destnode: broadcast ? p.destnode : dest, srcnode: fromLocalClient ? this.pnn : p.srcnode });
    if (dest === this.pnn || broadcast) {
      const target = this.messaging.tunnelClient(p.tunnelId);
      if (target === undefined) this.log("debug", `No client for tunnel 0x${p.tunnelId.toString(16)}; dropped`);
      else target.write(bytes);
    }
    if (!fromLocalClient) return;
    if (broadcast) {
      for (const n of this.config.nodes) if (n.pnn !== this.pnn && !n.deleted) this.transport.sendCtdb(n.pnn, bytes);
    } else if (dest !== this.pnn) {
      this.transport.sendCtdb(dest, bytes);
    }
  }

  private deliverMessage(msg: ReqMessage): void {
    failoverMessage(
      this.failover,
      msg.srvid,
      msg.data,
      (pnn, srvid, data) =>
        this.routeMessage(
          { operation: Operation.REQ_MESSAGE, generation: this.cluster.state.generation, destnode: pnn, srcnode: this.pnn, reqid: 0, srvid, data },
          true,
        ),
      (m) => this.log("error", m),
    );
    const bytes = encodeReqMessage({ ...msg, destnode: this.pnn });
    for (const client of this.clients.clients) if (client.srvids.has(msg.srvid)) client.write(bytes);
  }

  private leaderMessage(leader: number): Buffer {
    return encodeReqMessage({
      operation: Operation.REQ_MESSAGE,
      generation: this.cluster.state.generation,
      destnode: this.pnn,
      srcnode: leader === UNKNOWN_PNN ? this.pnn : leader,
      reqid: 0,
      srvid: SRVID_LEADER,
      data: encodeU32(leader),
    });
  }

  private leaderToClients(leader: number): void {
    const bytes = this.leaderMessage(leader);
    for (const client of this.clients.clients) if (client.srvids.has(SRVID_LEADER)) client.write(bytes);
  }

  /** For tests and tools inside the daemon: answer a control as a client would get it. */
  control(opcode: Control, data: Buffer = Buffer.alloc(0)) {
    return dispatchControl(this.context(undefined), {
      operation: Operation.REQ_CONTROL,
      generation: 0,
      destnode: this.pnn,
      srcnode: this.pnn,
      reqid: 0,
      opcode,
      srvid: 0n,
      clientId: 0,
      flags: 0,
      data,
    });
  }
}
