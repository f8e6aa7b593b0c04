// Marshalling of CTDB's control and message payloads (CTDB's
// protocol/protocol_types.c and protocol_basic.c), LP64 layout: explicit
// padding where CTDB pushes it, zero-filled here. Every decoder is
// bounds-checked and throws ProtocolError naming the type and field.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./address.ts";
import { Reader, Writer } from "./codec.ts";
import { IFACE_NAME_SIZE, TUNABLE_LIST_COUNT } from "./constants.ts";
import { ProtocolError } from "./errors.ts";

export { ProtocolError, Reader, Writer };

const AF_INET = 2;
const AF_INET6 = 10;
export const SOCK_ADDR_SIZE = 28;
export const TIMEVAL_SIZE = 16;

function decodeAll<T>(buf: Buffer, what: string, read: (r: Reader) => T): T {
  return read(new Reader(buf, what));
}

// ---- basic types ----

export function encodeU32(v: number): Buffer {
  return new Writer(4).u32(v).finish();
}
export function decodeU32(buf: Buffer): number {
  return new Reader(buf, "uint32").u32("value");
}
export function encodeI32(v: number): Buffer {
  return new Writer(4).i32(v).finish();
}
export function decodeI32(buf: Buffer): number {
  return new Reader(buf, "int32").i32("value");
}
export function encodeU64(v: bigint): Buffer {
  return new Writer(8).u64(v).finish();
}
export function decodeU64(buf: Buffer): bigint {
  return new Reader(buf, "uint64").u64("value");
}
export function encodeDouble(v: number): Buffer {
  return new Writer(8).f64(v).finish();
}
export function decodeDouble(buf: Buffer): number {
  return new Reader(buf, "double").f64("value");
}

/** CTDB `string`: bytes plus NUL, size implied by the enclosing length; null -> nothing. */
export function encodeString(s: string | null): Buffer {
  return s === null ? Buffer.alloc(0) : Buffer.from(`${s}\0`, "utf8");
}
/** Text up to the first NUL of the whole buffer; an empty buffer is "". */
export function decodeString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.toString("utf8", 0, nul < 0 ? buf.length : nul);
}

function stringnSize(s: string): number {
  return 4 + Buffer.byteLength(s, "utf8") + 1;
}
function writeStringn(w: Writer, s: string): void {
  const b = encodeString(s);
  w.u32(b.length).bytes(b);
}
function readStringn(r: Reader, field: string): string {
  const len = r.u32(`${field} length`);
  return decodeString(r.bytes(len, field));
}
/** CTDB `stringn`: u32 length (including NUL), then the bytes. */
export function encodeStringn(s: string): Buffer {
  const w = new Writer(stringnSize(s));
  writeStringn(w, s);
  return w.finish();
}
export function decodeStringn(buf: Buffer): string {
  return readStringn(new Reader(buf, "stringn"), "string");
}

// ---- timeval ----

export interface Timeval {
  sec: number;
  usec: number;
}
function writeTimeval(w: Writer, t: Timeval): void {
  w.i64(BigInt(Math.trunc(t.sec))).i64(BigInt(Math.trunc(t.usec)));
}
function readTimeval(r: Reader, field: string): Timeval {
  return { sec: Number(r.i64(`${field}.tv_sec`)), usec: Number(r.i64(`${field}.tv_usec`)) };
}
export function encodeTimeval(t: Timeval): Buffer {
  const w = new Writer(TIMEVAL_SIZE);
  writeTimeval(w, t);
  return w.finish();
}
export function decodeTimeval(buf: Buffer): Timeval {
  return readTimeval(new Reader(buf, "timeval"), "timeval");
}

// ---- sock_addr (28 bytes: a Linux sockaddr_in6-sized union) ----

export interface SockAddr {
  addr: string;
  port: number;
}

/** Writes an IPv4/IPv6 address; "" writes an all-zero (AF_UNSPEC) address. */
function writeSockAddr(w: Writer, addr: string, port: number): void {
  const start = w.offset;
  if (addr === "") {
    w.zeros(SOCK_ADDR_SIZE);
    return;
  }
  const v4 = parseIPv4(addr);
  if (v4) {
    w.u16(AF_INET);
    w.buf.writeUInt16BE(port, w.offset);
    w.offset += 2;
    w.bytes(v4);
  } else {
    const v6 = parseIPv6(addr);
    if (!v6) throw new RangeError(`not an IPv4 or IPv6 address: "${addr}"`);
    w.u16(AF_INET6);
    w.buf.writeUInt16BE(port, w.offset);
    w.offset += 2;
    w.zeros(4); // flowinfo
    w.bytes(v6);
    w.zeros(4); // scope_id
  }
  w.zeros(SOCK_ADDR_SIZE - (w.offset - start));
}

function readSockAddr(r: Reader, field: string): SockAddr {
  r.need(SOCK_ADDR_SIZE, field);
  const b = r.buf.subarray(r.offset, r.offset + SOCK_ADDR_SIZE);
  r.offset += SOCK_ADDR_SIZE;
  const family = b.readUInt16LE(0);
  const port = b.readUInt16BE(2);
  if (family === AF_INET) return { addr: formatIPv4(b.subarray(4, 8)), port };
  if (family === AF_INET6) return { addr: formatIPv6(b.subarray(8, 24)), port };
  if (family === 0) return { addr: "", port: 0 };
  throw new ProtocolError(`${r.what}: ${field} has unknown address family ${family}`);
}

export function encodeSockAddr(addr: string | SockAddr, port = 0): Buffer {
  const a = typeof addr === "string" ? { addr, port } : addr;
  const w = new Writer(SOCK_ADDR_SIZE);
  writeSockAddr(w, a.addr, a.port);
  return w.finish();
}
/** The address as text (no port). */
export function decodeSockAddr(buf: Buffer): string {
  return readSockAddr(new Reader(buf, "sock_addr"), "addr").addr;
}
export function decodeSockAddrWithPort(buf: Buffer): SockAddr {
  return readSockAddr(new Reader(buf, "sock_addr"), "addr");
}

// ---- node_map ----

export interface NodeMapEntry {
  pnn: number;
  flags: number;
  addr: string;
}
export interface NodeMap {
  nodes: NodeMapEntry[];
}
const NODE_SIZE = 8 + SOCK_ADDR_SIZE;

export function encodeNodeMap(m: NodeMap): Buffer {
  const w = new Writer(4 + m.nodes.length * NODE_SIZE);
  w.u32(m.nodes.length);
  for (const n of m.nodes) {
    w.u32(n.pnn).u32(n.flags);
    writeSockAddr(w, n.addr, 0);
  }
  return w.finish();
}
export function decodeNodeMap(buf: Buffer): NodeMap {
  return decodeAll(buf, "node_map", (r) => {
    const num = r.u32("num");
    r.needArray(num, NODE_SIZE, "nodes");
    const nodes: NodeMapEntry[] = [];
    for (let i = 0; i < num; i++) {
      const pnn = r.u32(`node[${i}].pnn`);
      const flags = r.u32(`node[${i}].flags`);
      nodes.push({ pnn, flags, addr: readSockAddr(r, `node[${i}].addr`).addr });
    }
    return { nodes };
  });
}

// ---- vnn_map ----

export interface VnnMap {
  generation: number;
  map: number[];
}
export function encodeVnnMap(m: VnnMap): Buffer {
  const w = new Writer(8 + 4 * m.map.length);
  w.u32(m.generation).u32(m.map.length);
  for (const p of m.map) w.u32(p);
  return w.finish();
}
export function decodeVnnMap(buf: Buffer): VnnMap {
  return decodeAll(buf, "vnn_map", (r) => {
    const generation = r.u32("generation");
    const size = r.u32("size");
    r.needArray(size, 4, "map");
    const map: number[] = [];
    for (let i = 0; i < size; i++) map.push(r.u32(`map[${i}]`));
    return { generation, map };
  });
}

// ---- uptime ----

export interface Uptime {
  currentTime: Timeval;
  ctdbdStartTime: Timeval;
  lastRecoveryStarted: Timeval;
  lastRecoveryFinished: Timeval;
}
export function encodeUptime(u: Uptime): Buffer {
  const w = new Writer(4 * TIMEVAL_SIZE);
  writeTimeval(w, u.currentTime);
  writeTimeval(w, u.ctdbdStartTime);
  writeTimeval(w, u.lastRecoveryStarted);
  writeTimeval(w, u.lastRecoveryFinished);
  return w.finish();
}
export function decodeUptime(buf: Buffer): Uptime {
  return decodeAll(buf, "uptime", (r) => ({
    currentTime: readTimeval(r, "current_time"),
    ctdbdStartTime: readTimeval(r, "ctdbd_start_time"),
    lastRecoveryStarted: readTimeval(r, "last_recovery_started"),
    lastRecoveryFinished: readTimeval(r, "last_recovery_finished"),
  }));
}

// ---- var_list (LIST_TUNABLES reply): u32 size, then "a:b:c\0" ----

export function encodeVarList(names: string[]): Buffer {
  const text = names.length === 0 ? Buffer.alloc(0) : encodeString(names.join(":"));
  return new Writer(4 + text.length).u32(text.length).bytes(text).finish();
}
export function decodeVarList(buf: Buffer): string[] {
  return decodeAll(buf, "var_list", (r) => {
    const len = r.u32("length");
    const text = decodeString(r.bytes(len, "names"));
    return text.split(":").filter((s) => s !== "");
  });
}

// ---- tunables ----

export interface Tunable {
  name: string;
  value: number;
}
/** SET_TUNABLE request: u32 value, stringn name. */
export function encodeTunable(t: Tunable): Buffer {
  const w = new Writer(4 + stringnSize(t.name));
  w.u32(t.value);
  writeStringn(w, t.name);
  return w.finish();
}
export function decodeTunable(buf: Buffer): Tunable {
  return decodeAll(buf, "tunable", (r) => {
    const value = r.u32("value");
    return { name: readStringn(r, "name"), value };
  });
}
/** GET_TUNABLE request: the name as stringn. */
export function encodeGetTunableRequest(name: string): Buffer {
  return encodeStringn(name);
}
export function decodeGetTunableRequest(buf: Buffer): string {
  return decodeStringn(buf);
}
/** GET_ALL_TUNABLES reply: the 62 u32 fields of struct ctdb_tunable_list, in order. */
export function encodeTunableList(values: number[]): Buffer {
  if (values.length !== TUNABLE_LIST_COUNT) {
    throw new RangeError(`tunable_list needs ${TUNABLE_LIST_COUNT} values, got ${values.length}`);
  }
  const w = new Writer(4 * TUNABLE_LIST_COUNT);
  for (const v of values) w.u32(v);
  return w.finish();
}
export function decodeTunableList(buf: Buffer): number[] {
  return decodeAll(buf, "tunable_list", (r) => {
    const out: number[] = [];
    for (let i = 0; i < TUNABLE_LIST_COUNT; i++) out.push(r.u32(`value[${i}]`));
    return out;
  });
}

// ---- interfaces ----

export interface Iface {
  name: string;
  linkState: number;
  references: number;
}
export type IfaceList = Iface[];
const IFACE_SIZE = IFACE_NAME_SIZE + 2 + 4;

function writeIface(w: Writer, i: Iface): void {
  const name = Buffer.from(i.name, "utf8");
  if (name.length > IFACE_NAME_SIZE - 1) {
    throw new RangeError(`interface name "${i.name}" longer than ${IFACE_NAME_SIZE - 1} bytes`);
  }
  w.bytes(name).zeros(IFACE_NAME_SIZE - name.length);
  w.u16(i.linkState).u32(i.references);
}
function readIface(r: Reader, field: string): Iface {
  const name = decodeString(r.bytes(IFACE_NAME_SIZE, `${field}.name`));
  const linkState = r.u16(`${field}.link_state`);
  const references = r.u32(`${field}.references`);
  return { name, linkState, references };
}
function writeIfaceList(w: Writer, list: IfaceList): void {
  w.u32(list.length);
  for (const i of list) writeIface(w, i);
}
function readIfaceList(r: Reader): IfaceList {
  const num = r.u32("num");
  r.needArray(num, IFACE_SIZE, "ifaces");
  const out: IfaceList = [];
  for (let i = 0; i < num; i++) out.push(readIface(r, `iface[${i}]`));
  return out;
}
export function encodeIface(i: Iface): Buffer {
  const w = new Writer(IFACE_SIZE);
  writeIface(w, i);
  return w.finish();
}
export function decodeIface(buf: Buffer): Iface {
  return decodeAll(buf, "iface", (r) => readIface(r, "iface"));
}
export function encodeIfaceList(list: IfaceList): Buffer {
  const w = new Writer(4 + list.length * IFACE_SIZE);
  writeIfaceList(w, list);
  return w.finish();
}
export function decodeIfaceList(buf: Buffer): IfaceList {
  return decodeAll(buf, "iface_list", readIfaceList);
}

// ---- public IPs ----

export interface PublicIp {
  pnn: number;
  addr: string;
}
export type PublicIpList = PublicIp[];
const PUBLIC_IP_SIZE = 4 + SOCK_ADDR_SIZE;

function writePublicIp(w: Writer, ip: PublicIp): void {
  w.u32(ip.pnn);
  writeSockAddr(w, ip.addr, 0);
}
function readPublicIp(r: Reader, field: string): PublicIp {
  const pnn = r.u32(`${field}.pnn`);
  return { pnn, addr: readSockAddr(r, `${field}.addr`).addr };
}
export function encodePublicIp(ip: PublicIp): Buffer {
  const w = new Writer(PUBLIC_IP_SIZE);
  writePublicIp(w, ip);
  return w.finish();
}
export function decodePublicIp(buf: Buffer): PublicIp {
  return decodeAll(buf, "public_ip", (r) => readPublicIp(r, "ip"));
}
export function encodePublicIpList(list: PublicIpList): Buffer {
  const w = new Writer(4 + list.length * PUBLIC_IP_SIZE);
  w.u32(list.length);
  for (const ip of list) writePublicIp(w, ip);
  return w.finish();
}
export function decodePublicIpList(buf: Buffer): PublicIpList {
  return decodeAll(buf, "public_ip_list", (r) => {
    const num = r.u32("num");
    r.needArray(num, PUBLIC_IP_SIZE, "ips");
    const out: PublicIpList = [];
    for (let i = 0; i < num; i++) out.push(readPublicIp(r, `ip[${i}]`));
    return out;
  });
}

export interface PublicIpInfo {
  ip: PublicIp;
  activeIdx: number;
  ifaces: IfaceList;
}
export function encodePublicIpInfo(info: PublicIpInfo): Buffer {
  const w = new Writer(PUBLIC_IP_SIZE + 4 + 4 + info.ifaces.length * IFACE_SIZE);
  writePublicIp(w, info.ip);
  w.u32(info.activeIdx);
  writeIfaceList(w, info.ifaces);
  return w.finish();
}
export function decodePublicIpInfo(buf: Buffer): PublicIpInfo {
  return decodeAll(buf, "public_ip_info", (r) => {
    const ip = readPublicIp(r, "ip");
    const activeIdx = r.u32("active_idx");
    return { ip, activeIdx, ifaces: readIfaceList(r) };
  });
}

export interface AddrInfo {
  addr: string;
  mask: number;
  iface: string;
}
export function encodeAddrInfo(a: AddrInfo): Buffer {
  const w = new Writer(SOCK_ADDR_SIZE + 4 + stringnSize(a.iface));
  writeSockAddr(w, a.addr, 0);
  w.u32(a.mask);
  writeStringn(w, a.iface);
  return w.finish();
}
export function decodeAddrInfo(buf: Buffer): AddrInfo {
  return decodeAll(buf, "addr_info", (r) => {
    const addr = readSockAddr(r, "addr").addr;
    const mask = r.u32("mask");
    return { addr, mask, iface: readStringn(r, "iface") };
  });
}

// ---- connections / tickles ----

export interface Connection {
  src: SockAddr; // server side
  dst: SockAddr; // client side
}
const CONNECTION_SIZE = 2 * SOCK_ADDR_SIZE;
function writeConnection(w: Writer, c: Connection): void {
  writeSockAddr(w, c.src.addr, c.src.port);
  writeSockAddr(w, c.dst.addr, c.dst.port);
}
function readConnection(r: Reader, field: string): Connection {
  return { src: readSockAddr(r, `${field}.src`), dst: readSockAddr(r, `${field}.dst`) };
}
export function encodeConnection(c: Connection): Buffer {
  const w = new Writer(CONNECTION_SIZE);
  writeConnection(w, c);
  return w.finish();
}
export function decodeConnection(buf: Buffer): Connection {
  return decodeAll(buf, "connection", (r) => readConnection(r, "conn"));
}

export interface TickleList {
  addr: SockAddr;
  conns: Connection[];
}
export function encodeTickleList(t: TickleList): Buffer {
  const w = new Writer(SOCK_ADDR_SIZE + 4 + t.conns.length * CONNECTION_SIZE);
  writeSockAddr(w, t.addr.addr, t.addr.port);
  w.u32(t.conns.length);
  for (const c of t.conns) writeConnection(w, c);
  return w.finish();
}
export function decodeTickleList(buf: Buffer): TickleList {
  return decodeAll(buf, "tickle_list", (r) => {
    const addr = readSockAddr(r, "addr");
    const num = r.u32("num");
    r.needArray(num, CONNECTION_SIZE, "conns");
    const conns: Connection[] = [];
    for (let i = 0; i < num; i++) conns.push(readConnection(r, `conn[${i}]`));
    return { addr, conns };
  });
}

// ---- small fixed structs ----

export interface BanState {
  pnn: number;
  time: number; // seconds; 0 = unban
}
export function encodeBanState(b: BanState): Buffer {
  return new Writer(8).u32(b.pnn).u32(b.time).finish();
}
export function decodeBanState(buf: Buffer): BanState {
  return decodeAll(buf, "ban_state", (r) => ({ pnn: r.u32("pnn"), time: r.u32("time") }));
}

export interface NodeFlagChange {
  pnn: number;
  newFlags: number;
  oldFlags: number;
}
export function encodeNodeFlagChange(c: NodeFlagChange): Buffer {
  return new Writer(12).u32(c.pnn).u32(c.newFlags).u32(c.oldFlags).finish();
}
export function decodeNodeFlagChange(buf: Buffer): NodeFlagChange {
  return decodeAll(buf, "node_flag_change", (r) => ({
    pnn: r.u32("pnn"),
    newFlags: r.u32("new_flags"),
    oldFlags: r.u32("old_flags"),
  }));
}

export interface Transdb {
  dbId: number;
  tid: number;
}
export function encodeTransdb(t: Transdb): Buffer {
  return new Writer(8).u32(t.dbId).u32(t.tid).finish();
}
export function decodeTransdb(buf: Buffer): Transdb {
  return decodeAll(buf, "transdb", (r) => ({ dbId: r.u32("db_id"), tid: r.u32("tid") }));
}

export interface DbidEntry {
  dbId: number;
  flags: number;
}
export type DbidMap = DbidEntry[];
export function encodeDbidMap(m: DbidMap): Buffer {
  const w = new Writer(4 + m.length * 8);
  w.u32(m.length);
  for (const d of m) w.u32(d.dbId).u8(d.flags).zeros(3);
  return w.finish();
}
export function decodeDbidMap(buf: Buffer): DbidMap {
  return decodeAll(buf, "dbid_map", (r) => {
    const num = r.u32("num");
    r.needArray(num, 8, "dbs");
    const out: DbidMap = [];
    for (let i = 0; i < num; i++) {
      const dbId = r.u32(`db[${i}].db_id`);
      const flags = r.u8(`db[${i}].flags`);
      r.skip(3, `db[${i}] padding`);
      out.push({ dbId, flags });
    }
    return out;
  });
}

export interface PulldbExt {
  dbId: number;
  lmaster: number;
  srvid: bigint;
}
export function encodePulldbExt(p: PulldbExt): Buffer {
  return new Writer(16).u32(p.dbId).u32(p.lmaster).u64(p.srvid).finish();
}
export function decodePulldbExt(buf: Buffer): PulldbExt {
  return decodeAll(buf, "pulldb_ext", (r) => ({ dbId: r.u32("db_id"), lmaster: r.u32("lmaster"), srvid: r.u64("srvid") }));
}

export interface TraverseStart {
  dbId: number;
  reqid: number;
  srvid: bigint;
  withEmptyRecords?: boolean; // present only in the _ext form
}
export function encodeTraverseStart(t: TraverseStart): Buffer {
  const ext = t.withEmptyRecords !== undefined;
  const w = new Writer(ext ? 24 : 16).u32(t.dbId).u32(t.reqid).u64(t.srvid);
  if (ext) w.u8(t.withEmptyRecords ? 1 : 0).zeros(7);
  return w.finish();
}
export function decodeTraverseStart(buf: Buffer): TraverseStart {
  return decodeAll(buf, "traverse_start", (r) => ({ dbId: r.u32("db_id"), reqid: r.u32("reqid"), srvid: r.u64("srvid") }));
}
export function decodeTraverseStartExt(buf: Buffer): TraverseStart {
  return decodeAll(buf, "traverse_start_ext", (r) => {
    const dbId = r.u32("db_id");
    const reqid = r.u32("reqid");
    const srvid = r.u64("srvid");
    const withEmptyRecords = r.bool("withemptyrecords");
    r.skip(7, "padding");
    return { dbId, reqid, srvid, withEmptyRecords };
  });
}

/** The 24-byte header CTDB prefixes to every record value. */
export interface LtdbHeader {
  rsn: bigint;
  dmaster: number;
  reserved1: number;
  flags: number;
}
export const LTDB_HEADER_SIZE = 24;
export function encodeLtdbHeader(h: LtdbHeader): Buffer {
  return new Writer(LTDB_HEADER_SIZE).u64(h.rsn).u32(h.dmaster).u32(h.reserved1).u32(h.flags).zeros(4).finish();
}
export function decodeLtdbHeader(buf: Buffer): LtdbHeader {
  return decodeAll(buf, "ltdb_header", (r) => {
    const h = { rsn: r.u64("rsn"), dmaster: r.u32("dmaster"), reserved1: r.u32("reserved1"), flags: r.u32("flags") };
    r.skip(4, "padding");
    return h;
  });
}

/** CHECK_PID_SRVID request: pid_t then u64, 12 bytes with no padding. */
export interface PidSrvid {
  pid: number;
  srvid: bigint;
}
export function encodePidSrvid(p: PidSrvid): Buffer {
  return new Writer(12).i32(p.pid).u64(p.srvid).finish();
}
export function decodePidSrvid(buf: Buffer): PidSrvid {
  return decodeAll(buf, "pid_srvid", (r) => ({ pid: r.i32("pid"), srvid: r.u64("srvid") }));
}

// ---- message payloads ----

export interface SrvidMessage {
  pnn: number;
  srvid: bigint;
}
export function encodeSrvidMessage(m: SrvidMessage): Buffer {
  return new Writer(16).u32(m.pnn).zeros(4).u64(m.srvid).finish();
}
export function decodeSrvidMessage(buf: Buffer): SrvidMessage {
  return decodeAll(buf, "srvid_message", (r) => {
    const pnn = r.u32("pnn");
    r.skip(4, "padding");
    return { pnn, srvid: r.u64("srvid") };
  });
}

export interface DisableMessage {
  pnn: number;
  srvid: bigint;
  timeout: number;
}
export function encodeDisableMessage(m: DisableMessage): Buffer {
  return new Writer(24).u32(m.pnn).zeros(4).u64(m.srvid).u32(m.timeout).zeros(4).finish();
}
export function decodeDisableMessage(buf: Buffer): DisableMessage {
  return decodeAll(buf, "disable_message", (r) => {
    const pnn = r.u32("pnn");
    r.skip(4, "padding");
    const srvid = r.u64("srvid");
    const timeout = r.u32("timeout");
    r.skip(4, "padding");
    return { pnn, srvid, timeout };
  });
}

export interface ElectionMessage {
  numConnected: number;
  priorityTime: Timeval;
  pnn: number;
  nodeFlags: number;
}
export function encodeElectionMessage(m: ElectionMessage): Buffer {
  const w = new Writer(32);
  w.u32(m.numConnected).zeros(4);
  writeTimeval(w, m.priorityTime);
  w.u32(m.pnn).u32(m.nodeFlags);
  return w.finish();
}
export function decodeElectionMessage(buf: Buffer): ElectionMessage {
  return decodeAll(buf, "election_message", (r) => {
    const numConnected = r.u32("num_connected");
    r.skip(4, "padding");
    const priorityTime = readTimeval(r, "priority_time");
    return { numConnected, priorityTime, pnn: r.u32("pnn"), nodeFlags: r.u32("node_flags") };
  });
}
