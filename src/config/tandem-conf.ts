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
  };
}

export const DEFAULT_NODE_PORT = 4379;
export const DEFAULT_PEER_TIMEOUT_MS = 1500;

export function defaultTandemConf(): TandemConf {
  return {
    cluster: { requireMajority: true, port: DEFAULT_NODE_PORT, sharedKey: undefined, peerTimeoutMs: DEFAULT_PEER_TIMEOUT_MS },
  };
}

export function parseTandemConf(text: string, file: string): Result<TandemConf> {
  const { entries, errors: iniErrors } = readIni(text, file);
  const errors: ConfigError[] = [...iniErrors];
  const conf = defaultTandemConf();
  let section: string | undefined;
  for (const e of entries) {
    if (e.kind === "section") {
      section = e.name.toLowerCase();
      if (section !== "cluster") errors.push(configError(file, e.line, `unknown section [${e.name}]`));
      continue;
    }
    if (section === undefined) {
      errors.push(configError(file, e.line, `option "${e.key}" appears before any [section]`));
      continue;
    }
    if (section !== "cluster") continue;
    if (e.value === "") {
      errors.push(configError(file, e.line, `empty value [cluster] -> "${e.key}"`));
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
        // Stricter than ctdb.conf integers: a port with trailing junk is a typo.
        const n = /^[0-9]+$/.test(e.value) ? parseConfInteger(e.value.replace(/^0+(?=\d)/, "")) : undefined;
        if (n === undefined || n < 1 || n > 65535) {
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
      default:
        errors.push(configError(file, e.line, `unknown option [cluster] -> "${e.key}"`));
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: conf };
}
