// Samba-style INI reader with the exact line rules of the "tini" parser that
// CTDB uses for ctdb.conf and ctdb.tunables (Samba's lib/util/tini.c):
// - leading whitespace is skipped; a line whose first character is then '#'
//   or ';' is a comment (there are no trailing comments: '#' later in a line
//   is part of the value);
// - a line ending in '\' (or '\' plus one space) continues on the next line;
// - runs of whitespace inside a line collapse to their first character, then
//   one whitespace character is trimmed from each side of key and value;
// - "[name]" starts a section; text after the first ']' is ignored and the
//   name is not trimmed ("[ cluster ]" is the section " cluster ").
// Keys are returned as written; whether they match case-insensitively is the
// caller's rule (ctdb.conf option names are case-sensitive, section names and
// tunable names are not).
//
// tini silently skips a line without '=' and silently stops reading at a
// section header without ']' or an empty key, leaving CTDB with default
// values and no message. We report those lines as errors instead: a mistyped
// "cluster lock /path" silently ignored would run a cluster without its lock.

import { configError, type ConfigError, type Result } from "./result.ts";

export type IniEntry =
  | { kind: "section"; name: string; line: number }
  | { kind: "option"; key: string; value: string; line: number };

export interface IniOptions {
  /**
   * Accept a line without '=' as a key with an empty value (tini's
   * allow_empty_value, which CTDB uses for ctdb.tunables so that such a line
   * can be reported by the caller). Default false: such a line is an error.
   */
  allowMissingEquals?: boolean;
}

// C isspace() for the "C" locale; tini ignores bytes above 127.
function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

interface RawLine {
  text: string;
  line: number;
}

// Splits text into logical lines the way tini's get_line does.
function logicalLines(text: string): RawLine[] {
  const out: RawLine[] = [];
  let i = 0;
  let lineNo = 1;
  const n = text.length;
  while (i < n) {
    // skip leading whitespace, stopping at a newline
    while (i < n && text[i] !== "\n" && isSpace(text[i] as string)) i++;
    if (i >= n) break;
    const c = text[i] as string;
    if (c === "\n") {
      i++;
      lineNo++;
      continue;
    }
    if (c === "#" || c === ";") {
      while (i < n && text[i] !== "\n") i++;
      if (i < n) {
        i++;
        lineNo++;
      }
      continue;
    }
    const startLine = lineNo;
    let buf = "";
    for (; i < n; i++) {
      const ch = text[i] as string;
      if (ch === "\n") {
        lineNo++;
        if (buf.endsWith("\\")) {
          buf = buf.slice(0, -1);
          continue;
        }
        if (buf.length > 1 && buf[buf.length - 2] === "\\" && isSpace(buf[buf.length - 1] as string)) {
          buf = buf.slice(0, -2);
          continue;
        }
        i++;
        break;
      }
      if (buf.length > 0 && isSpace(buf[buf.length - 1] as string) && isSpace(ch)) continue;
      buf += ch;
    }
    out.push({ text: buf, line: startLine });
  }
  return out;
}

function trimOneSpace(s: string): string {
  let t = s;
  if (t.length > 0 && isSpace(t[0] as string)) t = t.slice(1);
  if (t.length > 0 && isSpace(t[t.length - 1] as string)) t = t.slice(0, -1);
  return t;
}

export function parseIni(text: string, file: string, options: IniOptions = {}): Result<IniEntry[]> {
  const { entries, errors } = readIni(text, file, options);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: entries };
}

/**
 * Like parseIni, but also returns the well-formed entries when some lines
 * are bad, so callers can report every problem of a file at once.
 */
export function readIni(
  text: string,
  file: string,
  options: IniOptions = {},
): { entries: IniEntry[]; errors: ConfigError[] } {
  const entries: IniEntry[] = [];
  const errors: ConfigError[] = [];
  let skipping = false;
  for (const { text: buf, line } of logicalLines(text)) {
    if (buf === "") continue;
    if (buf.startsWith("[")) {
      const close = buf.indexOf("]");
      if (close === -1) {
        errors.push(configError(file, line, `section header "${buf}" has no closing ']'`));
        // Its options belong to no section we know; attributing them to the
        // previous section would only add misleading errors.
        skipping = true;
        continue;
      }
      skipping = false;
      entries.push({ kind: "section", name: buf.slice(1, close), line });
      continue;
    }
    if (skipping) continue;
    const eq = buf.indexOf("=");
    if (eq === -1 && !options.allowMissingEquals) {
      errors.push(configError(file, line, `expected "key = value", found "${buf}"`));
      continue;
    }
    const key = trimOneSpace(eq === -1 ? buf : buf.slice(0, eq));
    if (key === "") {
      errors.push(configError(file, line, `missing key before '=' in "${buf}"`));
      continue;
    }
    const value = eq === -1 ? "" : trimOneSpace(buf.slice(eq + 1));
    entries.push({ kind: "option", key, value, line });
  }
  return { entries, errors };
}
