// public_addresses, read as CTDB's server/ctdb_takeover.c
// ctdb_set_public_addresses reads it:
// - leading spaces/tabs skipped; a line then starting with '#' is a comment;
//   empty lines skipped; '\r' ends a line's text (Samba's file_lines_load);
// - fields are separated by spaces/tabs: ADDR/PREFIX then IFACE[,IFACE...];
//   further fields are ignored, as CTDB ignores them;
// - no interface field: error; ADDR must be an IP literal and PREFIX a plain
//   decimal number; the same address twice: error ("Duplicate public IP").
// The interface list is split on ',' with empty items dropped, as strtok
// does. Whether the interfaces exist is checked at run time by the failover
// component, not here.
//
// Stricter than CTDB, which would only fail later when adding the address:
// a prefix longer than the address (33+ for IPv4, 129+ for IPv6), an empty
// interface list (",") and interface names longer than Linux's 15 bytes.

import { parseIpLiteral } from "../net/ip.ts";
import { configError, type ConfigError, type Result } from "./result.ts";

export interface PublicAddress {
  /** Canonical address text as CTDB prints it. */
  address: string;
  prefix: number;
  family: 4 | 6;
  interfaces: string[];
}

const IFNAMSIZ = 16;

export function parsePublicAddresses(text: string, file: string): Result<PublicAddress[]> {
  const out: PublicAddress[] = [];
  const errors: ConfigError[] = [];
  const seen = new Map<string, number>();
  text.split("\n").forEach((raw, idx) => {
    const lineNo = idx + 1;
    const cr = raw.indexOf("\r");
    const line = (cr === -1 ? raw : raw.slice(0, cr)).replace(/^[ \t]+/, "");
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/[ \t]+/).filter((f) => f !== "");
    const addrField = fields[0];
    const ifaceField = fields[1];
    if (addrField === undefined) return;
    if (ifaceField === undefined) {
      errors.push(configError(file, lineNo, `No interface specified for public address ${addrField}`));
      return;
    }
    const slash = addrField.lastIndexOf("/");
    if (slash === -1) {
      errors.push(configError(file, lineNo, `Badly formed public address "${addrField}" (expected ADDRESS/PREFIX)`));
      return;
    }
    const prefixText = addrField.slice(slash + 1);
    const ip = parseIpLiteral(addrField.slice(0, slash));
    if (ip === undefined) {
      errors.push(configError(file, lineNo, `Badly formed public address "${addrField}" (not an IP address)`));
      return;
    }
    if (!/^[0-9]+$/.test(prefixText)) {
      errors.push(configError(file, lineNo, `Badly formed public address "${addrField}" (prefix must be a number)`));
      return;
    }
    const prefix = Number(prefixText);
    const maxPrefix = ip.family === 4 ? 32 : 128;
    if (prefix > maxPrefix) {
      errors.push(configError(file, lineNo, `prefix /${prefixText} is too long for ${ip.text} (at most ${maxPrefix})`));
      return;
    }
    const interfaces = ifaceField.split(",").filter((i) => i !== "");
    if (interfaces.length === 0) {
      errors.push(configError(file, lineNo, `No interface specified for public address ${addrField}`));
      return;
    }
    const longName = interfaces.find((i) => new TextEncoder().encode(i).length >= IFNAMSIZ);
    if (longName !== undefined) {
      errors.push(configError(file, lineNo, `interface name "${longName}" is longer than ${IFNAMSIZ - 1} bytes`));
      return;
    }
    const prev = seen.get(ip.text);
    if (prev !== undefined) {
      errors.push(configError(file, lineNo, `Duplicate public IP address '${ip.text}' (first at line ${prev})`));
      return;
    }
    seen.set(ip.text, lineNo);
    out.push({ address: ip.text, prefix, family: ip.family, interfaces });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}
