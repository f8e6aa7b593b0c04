// tandem.conf: Tandem's own options, kept out of ctdb.conf so that a real
// CTDB can still read (and ctdb-config validate) the same ctdb.conf. Same
// INI syntax and value rules as ctdb.conf. The file is optional.
//
//   [cluster]
//   require majority = true|false   (default true)
//   port = 4379                     (node-to-node TCP port, 1..65535)
//   shared key = STRING             (optional; authenticates node connections)
//   peer timeout ms = 1500          (a node silent this long is declared gone,
//                                    100..600000; unless ctdb.tunables sets
//                                    KeepaliveInterval or KeepaliveLimit)
//   etcd lock = HOST:PORT ...       (optional; the cluster lock in etcd, see lock/etcd-lock.ts)
//   etcd lock key = KEY             (default tandem/cluster-lock)
//   etcd lock ttl = SECONDS         (lease TTL, default 5)
//
//   [http]
//   listen = ADDRESS:PORT           (optional; metrics and status page, off when absent)

import { parseIPv4, parseIPv6 } from "../net/ip.ts";
import { readIni } from "./ini.ts";
import { configError, type ConfigError, type Result } from "./result.ts";
import { parseConfBoolean, parseConfInteger } from "./values.ts";

export interface TandemConf {
  cluster: {
    /**
     * Without a cluster lock, elect a leader only in a partition that holds
     * a majority of the configured, non-deleted nodes.
     */
    requireMajority: boolean;
    /** CTDB's port (CTDB_PORT, or the "ctdb" service); also Tandem's. */
    port: number;
    sharedKey: string | undefined;
    /** A peer silent this long is declared DISCONNECTED (see cluster/detection.ts). */
    peerTimeoutMs: number;
    /** The cluster lock in etcd instead of ctdb.conf's `cluster lock`. */
    etcdLock: { endpoints: string[]; key: string; ttlSec: number } | undefined;
  };
  /** Where the metrics and status page listen; undefined = off. */
  http: { listen: HostPort | undefined };
}

export interface HostPort {
  host: string;
  port: number;
}

export const DEFAULT_ETCD_LOCK_KEY = "tandem/cluster-lock";
export const DEFAULT_ETCD_LOCK_TTL_SEC = 5;

export const DEFAULT_NODE_PORT = 4379;
export const DEFAULT_PEER_TIMEOUT_MS = 1500;

export function defaultTandemConf(): TandemConf {
  return {
    cluster: {
      requireMajority: true,
      port: DEFAULT_NODE_PORT,
      sharedKey: undefined,
      peerTimeoutMs: DEFAULT_PEER_TIMEOUT_MS,
      etcdLock: undefined,
    },
    http: { listen: undefined },
  };
}

function parsePort(s: string): number | undefined {
  // Stricter than ctdb.conf integers: a port with trailing junk is a typo.
  const n = /^[0-9]+$/.test(s) ? parseConfInteger(s.replace(/^0+(?=\d)/, "")) : undefined;
  return n === undefined || n < 1 || n > 65535 ? undefined : n;
}

/**
 * HOST:PORT, [IPV6]:PORT, or a scheme-less or http:// URL of that form.
 * With `literal`, the host must be an IP address (something to bind to).
 */
export function parseHostPort(s: string, literal: boolean): HostPort | string {
  const m = /^(?:http:\/\/)?(?:\[([^\]]+)\]|([^:/[\]]+)):([0-9]+)\/?$/.exec(s);
  if (m === null) {
    if (/^https:\/\//.test(s)) return `"${s}": https is not supported (no TLS settings yet)`;
    return `"${s}" is not HOST:PORT`;
  }
  const host = m[1] ?? m[2] ?? "";
  const port = parsePort(m[3] ?? "");
  if (port === undefined) return `"${s}": port must be 1..65535`;
  const isIp = m[1] !== undefined ? parseIPv6(host) !== undefined : parseIPv4(host) !== undefined;
  if (m[1] !== undefined && !isIp) return `"${s}": "${host}" is not an IPv6 address`;
  if (literal && !isIp) return `"${s}": "${host}" is not an IP address`;
  if (!literal && !isIp && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) return `"${s}": "${host}" is not a host name`;
  return { host, port };
}

export function parseTandemConf(text: string, file: string): Result<TandemConf> {
  const { entries, errors: iniErrors } = readIni(text, file);
  const errors: ConfigError[] = [...iniErrors];
  const conf = defaultTandemConf();
  let section: string | undefined;
  const etcd: { endpoints?: string[]; key?: string; ttlSec?: number; line?: number } = {};
  for (const e of entries) {
    if (e.kind === "section") {
      section = e.name.toLowerCase();
      if (section !== "cluster" && section !== "http") errors.push(configError(file, e.line, `unknown section [${e.name}]`));
      continue;
    }
    if (section === undefined) {
      errors.push(configError(file, e.line, `option "${e.key}" appears before any [section]`));
      continue;
    }
    if (section !== "cluster" && section !== "http") continue;
    if (e.value === "") {
      errors.push(configError(file, e.line, `empty value [${section}] -> "${e.key}"`));
      continue;
    }
    if (section === "http") {
      if (e.key !== "listen") {
        errors.push(configError(file, e.line, `unknown option [http] -> "${e.key}"`));
        continue;
      }
      const hp = parseHostPort(e.value, true);
      if (typeof hp === "string") errors.push(configError(file, e.line, `invalid value [http] -> "listen" = ${hp} (expected ADDRESS:PORT)`));
      else conf.http.listen = hp;
      continue;
    }
    switch (e.key) {
      case "require majority": {
        const b = parseConfBoolean(e.value);
        if (b === undefined) {
          errors.push(
            configError(file, e.line, `invalid value [cluster] -> "require majority" = "${e.value}" (expected true, false, yes or no)`),
          );
        } else {
          conf.cluster.requireMajority = b;
        }
        break;
      }
      case "port": {
        const n = parsePort(e.value);
        if (n === undefined) {
          errors.push(configError(file, e.line, `invalid value [cluster] -> "port" = "${e.value}" (expected 1..65535)`));
        } else {
          conf.cluster.port = n;
        }
        break;
      }
      case "peer timeout ms": {
        const n = /^[0-9]+$/.test(e.value) ? Number.parseInt(e.value, 10) : undefined;
        if (n === undefined || n < 100 || n > 600_000) {
          errors.push(configError(file, e.line, `invalid value [cluster] -> "peer timeout ms" = "${e.value}" (expected 100..600000)`));
        } else {
          conf.cluster.peerTimeoutMs = n;
        }
        break;
      }
      case "shared key":
        conf.cluster.sharedKey = e.value;
        break;
      case "etcd lock": {
        const endpoints: string[] = [];
        const before = errors.length;
        for (const word of e.value.split(/[\s,]+/).filter((w) => w !== "")) {
          const hp = parseHostPort(word, false);
          if (typeof hp === "string") {
            errors.push(configError(file, e.line, `invalid value [cluster] -> "etcd lock": endpoint ${hp}`));
          } else {
            endpoints.push(hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`);
          }
        }
        if (endpoints.length === 0 && errors.length === before) errors.push(configError(file, e.line, `invalid value [cluster] -> "etcd lock" = "${e.value}" (no endpoints)`));
        etcd.endpoints = endpoints;
        etcd.line = e.line;
        break;
      }
      case "etcd lock key":
        if (/[\s\0]/.test(e.value)) errors.push(configError(file, e.line, `invalid value [cluster] -> "etcd lock key" = "${e.value}" (no spaces)`));
        else etcd.key = e.value;
        break;
      case "etcd lock ttl": {
        const n = /^[0-9]+$/.test(e.value) ? Number(e.value) : Number.NaN;
        if (!(n >= 2 && n <= 3600)) {
          errors.push(configError(file, e.line, `invalid value [cluster] -> "etcd lock ttl" = "${e.value}" (expected 2..3600 seconds)`));
        } else {
          etcd.ttlSec = n;
        }
        break;
      }
      default:
        errors.push(configError(file, e.line, `unknown option [cluster] -> "${e.key}"`));
    }
  }
  if (etcd.endpoints !== undefined) {
    conf.cluster.etcdLock = { endpoints: etcd.endpoints, key: etcd.key ?? DEFAULT_ETCD_LOCK_KEY, ttlSec: etcd.ttlSec ?? DEFAULT_ETCD_LOCK_TTL_SEC };
  } else if (etcd.key !== undefined || etcd.ttlSec !== undefined) {
    errors.push(configError(file, undefined, `[cluster] -> "etcd lock key" and "etcd lock ttl" need "etcd lock" (the etcd endpoints)`));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: conf };
}
