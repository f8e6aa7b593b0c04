// Event script directories as CTDB lays them out: `<etc>/events/<component>/`
// holds `NN.name.script` files (often symlinks into `<datadir>/events/...`),
// enabled when executable. Follows CTDB's common/event_script.c (listing,
// chmod) and event/event_tool.c (enable by symlink, disable by unlink).
import * as fs from "node:fs";
import * as path from "node:path";
import { EINVAL, EIO, ENOENT, errnoOf } from "./errno.ts";

export const SCRIPT_SUFFIX = ".script";

// fnmatch("[0-9][0-9].*.script", name, 0): `*` may be empty and may contain dots.
const SCRIPT_PATTERN = /^[0-9][0-9]\..*\.script$/s;

export function isScriptFileName(fileName: string): boolean {
  return SCRIPT_PATTERN.test(fileName);
}

export interface ScriptInfo {
  name: string; // without ".script"
  path: string;
  enabled: boolean;
  /** Set when stat() of the entry failed (e.g. a dangling symlink): running it fails with this errno. */
  statErrno?: number;
}

/** alphasort() in the C locale: plain byte order. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** List the scripts of one directory in run order, or the errno of the failure. */
export function listScripts(dir: string): { scripts: ScriptInfo[] } | { errno: number } {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    return { errno: errnoOf(err) };
  }
  const files = names.filter(isScriptFileName).sort(compareNames);
  const scripts: ScriptInfo[] = [];
  for (const file of files) {
    const p = `${dir}/${file}`;
    const info: ScriptInfo = { name: file.slice(0, -SCRIPT_SUFFIX.length), path: p, enabled: false };
    try {
      // Follows symlinks: a link to an executable script is enabled.
      const st = fs.statSync(p);
      info.enabled = (st.mode & 0o100) !== 0;
    } catch (err) {
      info.statErrno = errnoOf(err);
    }
    scripts.push(info);
  }
  return { scripts };
}

/**
 * Set or clear all execute bits of a local (non-symlink) script, as eventd's
 * "script enable/disable" command does. Returns 0 or an errno: EINVAL for a
 * name outside the pattern or a symlink, ENOENT when absent.
 */
export function chmodScript(dir: string, scriptName: string, enable: boolean): number {
  const file =
    scriptName.length > SCRIPT_SUFFIX.length && scriptName.endsWith(SCRIPT_SUFFIX)
      ? scriptName
      : `${scriptName}${SCRIPT_SUFFIX}`;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    return errnoOf(err);
  }
  if (!entries.includes(file)) return ENOENT;
  if (!isScriptFileName(file)) return EINVAL;
  const p = `${dir}/${file}`;
  let fd: number | undefined;
  try {
    const entryIno = fs.lstatSync(p).ino;
    fd = fs.openSync(p, "r+");
    const st = fs.fstatSync(fd);
    // A different inode means the entry is a symlink: not ours to chmod.
    if (st.ino !== entryIno) return EINVAL;
    const mode = enable ? st.mode | 0o111 : st.mode & ~0o111;
    fs.fchmodSync(fd, mode & 0o7777);
    return 0;
  } catch (err) {
    return errnoOf(err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface ToolResult {
  result: number; // 0 or errno, the tool's exit status
  output: string; // what `ctdb event script ...` prints on stdout
}

function chmodWithMessage(etcDir: string, component: string, script: string, enable: boolean): ToolResult {
  const result = chmodScript(`${etcDir}/events/${component}`, script, enable);
  if (result === EINVAL) return { result, output: `Script ${script} is invalid in ${component}\n` };
  if (result === ENOENT) return { result, output: `Script ${script} does not exist in ${component}\n` };
  return { result, output: "" };
}

/**
 * `ctdb event script enable COMPONENT SCRIPT`: an existing symlink is left
 * alone, a local file gets its x bits, otherwise a symlink to the provided
 * script in `<datadir>/events/COMPONENT/` is created.
 */
export function enableScript(etcDir: string, dataDir: string, component: string, script: string): ToolResult {
  const rel = `events/${component}/${script}${SCRIPT_SUFFIX}`;
  const etcScript = `${etcDir}/${rel}`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(etcScript);
  } catch (err) {
    if (errnoOf(err) !== ENOENT) return { result: EINVAL, output: `Script ${etcScript} does not exist\n` };
    let dataScript: string;
    try {
      dataScript = fs.realpathSync(`${dataDir}/${rel}`);
      fs.statSync(dataScript);
    } catch (e) {
      const n = errnoOf(e);
      if (n !== ENOENT) return { result: n, output: "" };
      return { result: ENOENT, output: `Script ${script} does not exist in ${component}\n` };
    }
    try {
      fs.symlinkSync(dataScript, etcScript);
    } catch {
      return { result: EIO, output: `Failed to create symlink ${etcScript}\n` };
    }
    return { result: 0, output: "" };
  }
  if (st.isSymbolicLink()) return { result: 0, output: "" };
  if (st.isFile()) return chmodWithMessage(etcDir, component, script, true);
  return { result: EINVAL, output: `Script ${etcScript} is not a file or a link\n` };
}

/** `ctdb event script disable COMPONENT SCRIPT`: remove a symlink, or clear a local file's x bits. */
export function disableScript(etcDir: string, component: string, script: string): ToolResult {
  const etcScript = `${etcDir}/events/${component}/${script}${SCRIPT_SUFFIX}`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(etcScript);
  } catch {
    return { result: 0, output: "" };
  }
  if (st.isSymbolicLink()) {
    try {
      fs.unlinkSync(etcScript);
    } catch {
      return { result: EIO, output: `Failed to remove symlink ${etcScript}\n` };
    }
    return { result: 0, output: "" };
  }
  if (st.isFile()) return chmodWithMessage(etcDir, component, script, false);
  return { result: EINVAL, output: `Script ${etcScript} is not a file or a link\n` };
}

export interface LocalScriptInfo extends ScriptInfo {
  /** Symlink target, or null when the entry is not a symlink. */
  link: string | null;
}

/**
 * ctdb-event's `script list` output: provided scripts flagged '*' when the
 * local entry links to exactly that file, then (after a blank line when both
 * parts are printed) the remaining local scripts flagged by their x bit.
 */
export function formatScriptList(data: ScriptInfo[] | null, local: LocalScriptInfo[]): string {
  let out = "";
  const consumed = new Set<number>();
  if (data !== null) {
    let j = 0;
    let matched = 0;
    for (const d of data) {
      let flag = " ";
      while (j < local.length) {
        const e = local[j]!;
        const c = compareNames(e.name, d.name);
        if (c > 0) break;
        if (c < 0) {
          j++;
          continue;
        }
        j++;
        if (e.link !== null && e.link === d.path) {
          flag = "*";
          consumed.add(j - 1);
          matched++;
        }
        break;
      }
      out += `${flag} ${d.name}\n`;
    }
    if (data.length > 0 && matched !== local.length) out += "\n";
  }
  local.forEach((e, j) => {
    if (!consumed.has(j)) out += `${e.enabled ? "*" : " "} ${e.name}\n`;
  });
  return out;
}

export interface ScriptListing extends ToolResult {
  provided: ScriptInfo[] | null;
  local: LocalScriptInfo[];
}

/** `ctdb event script list COMPONENT`: the provided scripts, then the local-only ones. */
export function scriptListing(etcDir: string, dataDir: string, component: string): ScriptListing {
  const subdir = `events/${component}`;
  const failed = (result: number): ScriptListing => ({ result, output: "", provided: null, local: [] });
  let dataReal: string;
  try {
    dataReal = fs.realpathSync(`${dataDir}/${subdir}`);
  } catch (err) {
    return failed(errnoOf(err));
  }
  const data = listScripts(dataReal);
  if ("errno" in data && data.errno !== ENOENT) return failed(data.errno);
  const etc = listScripts(`${etcDir}/${subdir}`);
  if ("errno" in etc) return failed(etc.errno);
  const local = etc.scripts.map((e) => {
    let link: string | null = null;
    try {
      link = fs.readlinkSync(e.path);
    } catch {
      link = null;
    }
    return { ...e, link };
  });
  const provided = "scripts" in data ? data.scripts : null;
  return { result: 0, output: formatScriptList(provided, local), provided, local };
}

/** The directory of one component's scripts. */
export function componentDir(etcDir: string, component: string): string {
  return path.join(etcDir, "events", component);
}
