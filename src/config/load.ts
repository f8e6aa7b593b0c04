// The only I/O of the config component: reads a node's configuration files,
// carries out the filesystem checks the pure parsers ask for, and reports
// every problem of every file together.
//
// Files, as CTDB finds them (see paths.ts):
//   <etcdir>/ctdb.conf         optional (defaults)
//   <etcdir>/ctdb.tunables     optional (defaults)
//   <base>/tandem.conf         optional (defaults)
//   <base>/nodes               required
//   <base>/public_addresses    optional (no public addresses)

import { readFile, stat } from "node:fs/promises";
import { type CtdbConf, type FsCheck, parseCtdbConfDetailed } from "./ctdb-conf.ts";
import { type NodeEntry, parseNodesFile } from "./nodes.ts";
import { type Paths, pathsEnvProblem, resolvePaths } from "./paths.ts";
import { type PublicAddress, parsePublicAddresses } from "./public-addresses.ts";
import { configError, type ConfigError, type Result } from "./result.ts";
import { parseTandemConf, type TandemConf } from "./tandem-conf.ts";
import { defaultTunables, parseTunablesFile, type Tunables } from "./tunables.ts";

export interface NodeConfig {
  paths: Paths;
  conf: CtdbConf;
  tandem: TandemConf;
  nodes: NodeEntry[];
  publicAddresses: PublicAddress[];
  tunables: Tunables;
  /** Tunables that ctdb.tunables sets explicitly (canonical names). */
  tunablesSet: string[];
  /** Path of each file that was read; undefined when the file was absent. */
  files: {
    ctdbConf: string | undefined;
    tandemConf: string | undefined;
    nodes: string | undefined;
    publicAddresses: string | undefined;
    tunables: string | undefined;
  };
  /** Non-fatal remarks (e.g. a deprecated option), in file order. */
  warnings: ConfigError[];
}

type ReadOutcome = { kind: "text"; text: string } | { kind: "absent" } | { kind: "error"; error: ConfigError };

async function readOptional(path: string): Promise<ReadOutcome> {
  try {
    return { kind: "text", text: await readFile(path, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "absent" };
    return { kind: "error", error: configError(path, undefined, `cannot read file: ${(e as Error).message}`) };
  }
}

async function runCheck(c: FsCheck): Promise<ConfigError | undefined> {
  try {
    const st = await stat(c.path);
    if (c.kind === "directory") {
      return st.isDirectory() ? undefined : configError(c.file, c.line, c.message);
    }
    // CTDB asks for a regular file with the owner's execute bit (S_IXUSR).
    return st.isFile() && (st.mode & 0o100) !== 0 ? undefined : configError(c.file, c.line, c.message);
  } catch {
    return configError(c.file, c.line, c.message);
  }
}

export interface LoadOptions {
  /** Skip unknown ctdb.conf sections/options like ctdbd (default: refuse, like ctdb-config validate). */
  ignoreUnknown?: boolean;
}

export async function loadNodeConfig(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Promise<Result<NodeConfig>> {
  const envProblem = pathsEnvProblem(env);
  if (envProblem !== undefined) return { ok: false, errors: [configError("environment", undefined, envProblem)] };
  const paths = resolvePaths(env);
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  const files: NodeConfig["files"] = {
    ctdbConf: undefined,
    tandemConf: undefined,
    nodes: undefined,
    publicAddresses: undefined,
    tunables: undefined,
  };

  const [confFile, tandemFile, nodesFile, pubFile, tunFile] = await Promise.all([
    readOptional(paths.configFile),
    readOptional(paths.tandemConfFile),
    readOptional(paths.nodesFile),
    readOptional(paths.publicAddressesFile),
    readOptional(paths.tunablesFile),
  ]);

  let conf: CtdbConf | undefined;
  if (confFile.kind === "error") errors.push(confFile.error);
  else {
    const text = confFile.kind === "text" ? confFile.text : "";
    if (confFile.kind === "text") files.ctdbConf = paths.configFile;
    const r = parseCtdbConfDetailed(text, paths.configFile, { paths, ignoreUnknown: options.ignoreUnknown ?? false });
    if (r.ok) {
      conf = r.value.conf;
      warnings.push(...r.value.warnings);
      for (const c of r.value.checks) {
        const err = await runCheck(c);
        if (err) errors.push(err);
      }
    } else {
      errors.push(...r.errors);
    }
  }

  let tandem: TandemConf | undefined;
  if (tandemFile.kind === "error") errors.push(tandemFile.error);
  else {
    if (tandemFile.kind === "text") files.tandemConf = paths.tandemConfFile;
    const r = parseTandemConf(tandemFile.kind === "text" ? tandemFile.text : "", paths.tandemConfFile);
    if (r.ok) tandem = r.value;
    else errors.push(...r.errors);
  }

  let nodes: NodeEntry[] | undefined;
  if (nodesFile.kind === "error") errors.push(nodesFile.error);
  else if (nodesFile.kind === "absent") {
    errors.push(configError(paths.nodesFile, undefined, `Failed to read nodes file "${paths.nodesFile}"`));
  } else {
    files.nodes = paths.nodesFile;
    const r = parseNodesFile(nodesFile.text, paths.nodesFile);
    if (r.ok) nodes = r.value;
    else errors.push(...r.errors);
  }

  let publicAddresses: PublicAddress[] | undefined;
  if (pubFile.kind === "error") errors.push(pubFile.error);
  else if (pubFile.kind === "absent") publicAddresses = [];
  else {
    files.publicAddresses = paths.publicAddressesFile;
    const r = parsePublicAddresses(pubFile.text, paths.publicAddressesFile);
    if (r.ok) publicAddresses = r.value;
    else errors.push(...r.errors);
  }

  let tunables: Tunables | undefined;
  let tunablesSet: string[] = [];
  if (tunFile.kind === "error") errors.push(tunFile.error);
  else if (tunFile.kind === "absent") tunables = defaultTunables();
  else {
    files.tunables = paths.tunablesFile;
    const r = parseTunablesFile(tunFile.text, paths.tunablesFile);
    if (r.ok) {
      tunables = { ...defaultTunables(), ...r.value };
      tunablesSet = Object.keys(r.value);
    }
    else errors.push(...r.errors);
  }

  if (conf?.cluster.clusterLock !== undefined && tandem?.cluster.etcdLock !== undefined) {
    errors.push(
      configError(
        paths.tandemConfFile,
        undefined,
        `[cluster] -> "etcd lock" is set, and so is [cluster] -> "cluster lock" in ${paths.configFile}: choose one cluster lock`,
      ),
    );
  }

  if (
    errors.length > 0 ||
    conf === undefined ||
    tandem === undefined ||
    nodes === undefined ||
    publicAddresses === undefined ||
    tunables === undefined
  ) {
    return { ok: false, errors };
  }
  return { ok: true, value: { paths, conf, tandem, nodes, publicAddresses, tunables, tunablesSet, files, warnings } };
}
