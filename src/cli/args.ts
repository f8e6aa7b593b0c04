/**
 * Global option parsing for `tandem`, behaving like the popt-based parser of
 * CTDB 4.17's `ctdb` tool: the same options, the same permutation (options may
 * follow the command), the same error texts, and the same handling of
 * attached values (`-n1`, `-n=1`, `--node=1`, `-Xn 1`). Hand-written so that
 * the tool starts fast when event scripts call it in a loop.
 *
 * Pure: no I/O. The caller prints what the result asks for.
 */

export interface GlobalOptions {
  /** -d / --debug (not validated, as ctdb falls back to ERR silently). */
  debug: string | undefined;
  /** -t / --timelimit: control timeout in seconds. */
  timelimit: number;
  /** -n / --node: -1 means "not given" (ctdb treats `-n -1` the same way). */
  pnn: number;
  /** -Y or -X given. */
  machineReadable: boolean;
  /** -x / --separator (default "|" even for -Y, as CTDB 4.17 does). */
  separator: string;
  /** -v / --verbose: 0 or 1 (popt sets the flag, repeating it changes nothing). */
  verbose: number;
  /** -T / --maxruntime: 0 means "not given". */
  maxruntime: number;
  /** --json (Tandem extension). */
  json: boolean;
  /** --watch (Tandem extension): redraw `status` every second. */
  watch: boolean;
  /** --all-nodes (Tandem extension, for setvar): every connected node. */
  allNodes: boolean;
}

export type ParseResult =
  | { kind: "ok"; options: GlobalOptions; args: string[] }
  | { kind: "help" }
  | { kind: "usage" }
  | { kind: "error"; message: string };

type OptName = "debug" | "timelimit" | "node" | "Y" | "separator" | "X" | "verbose" | "maxruntime" | "help" | "usage" | "json" | "watch" | "allNodes";

interface OptSpec {
  name: OptName;
  short?: string;
  long?: string;
  arg: "none" | "string" | "int";
}

const SPECS: readonly OptSpec[] = [
  { name: "help", short: "?", long: "help", arg: "none" },
  { name: "usage", long: "usage", arg: "none" },
  { name: "debug", short: "d", long: "debug", arg: "string" },
  { name: "timelimit", short: "t", long: "timelimit", arg: "int" },
  { name: "node", short: "n", long: "node", arg: "int" },
  { name: "Y", short: "Y", arg: "none" },
  { name: "separator", short: "x", long: "separator", arg: "string" },
  { name: "X", short: "X", arg: "none" },
  { name: "verbose", short: "v", long: "verbose", arg: "none" },
  { name: "maxruntime", short: "T", long: "maxruntime", arg: "int" },
  { name: "json", long: "json", arg: "none" },
  { name: "watch", long: "watch", arg: "none" },
  { name: "allNodes", long: "all-nodes", arg: "none" },
];

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

export function defaultOptions(): GlobalOptions {
  return {
    debug: undefined,
    timelimit: 10,
    pnn: -1,
    machineReadable: false,
    separator: "|",
    verbose: 0,
    maxruntime: 0,
    json: false,
    watch: false,
    allNodes: false,
  };
}

/**
 * C `strtoll(s, &end, 0)`: optional leading white space and sign, then a
 * hexadecimal (0x), octal (leading 0) or decimal number. Returns the value
 * and how many characters were used (0 when nothing was converted), and
 * whether the value overflowed a 64-bit integer.
 */
export function cStrtol(s: string, fixedBase: 0 | 10 = 0): { value: bigint; used: number; overflow: boolean; negative: boolean } {
  let i = 0;
  while (i < s.length && " \t\n\v\f\r".includes(s[i]!)) i++;
  let negative = false;
  if (s[i] === "+" || s[i] === "-") {
    negative = s[i] === "-";
    i++;
  }
  let base = 10;
  if (fixedBase === 10) {
    base = 10;
  } else if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && isDigit(s[i + 2], 16)) {
    base = 16;
    i += 2;
  } else if (s[i] === "0") {
    base = 8;
  }
  const start = i;
  let value = 0n;
  while (i < s.length && isDigit(s[i], base)) {
    value = value * BigInt(base) + BigInt(Number.parseInt(s[i]!, base));
    i++;
  }
  if (i === start) return { value: 0n, used: 0, overflow: false, negative: false };
  const signed = negative ? -value : value;
  const overflow = signed > 9223372036854775807n || signed < -9223372036854775808n;
  return { value: signed, used: i, overflow, negative };
}

function isDigit(c: string | undefined, base: number): boolean {
  if (c === undefined) return false;
  const d = Number.parseInt(c, 36);
  return !Number.isNaN(d) && d < base && /[0-9a-zA-Z]/.test(c);
}

/** popt's POPT_ARG_INT conversion: whole string, base 0, within int range. */
export function parsePoptInt(s: string): { ok: true; value: number } | { ok: false; reason: string } {
  const r = cStrtol(s);
  // popt rejects only when characters are left over, so "" converts to 0.
  if (r.used !== s.length && !(r.used === 0 && s.length === 0)) {
    return { ok: false, reason: "invalid numeric value" };
  }
  if (r.overflow || r.value > BigInt(INT_MAX) || r.value < BigInt(INT_MIN)) {
    return { ok: false, reason: "number too large or too small" };
  }
  return { ok: true, value: Number(r.value) };
}

/**
 * Samba's `smb_strtoul(s, NULL, 0, &err, SMB_STR_STANDARD)` as used by ctdb
 * for node lists, tunable values and CTDB_TIMEOUT: something must convert,
 * no minus sign before the end of the number, trailing text is ignored.
 * Returns the errno-style failure (EINVAL 22, ERANGE 34) or the value
 * reduced to 64 bits unsigned.
 */
export function smbStrtoul(s: string, base: 0 | 10 = 0): { ok: true; value: bigint } | { ok: false; errno: number } {
  const r = cStrtol(s, base);
  if (r.used === 0) return { ok: false, errno: 22 };
  const magnitude = r.value < 0n ? -r.value : r.value;
  if (magnitude > 18446744073709551615n) return { ok: false, errno: 34 };
  const minus = s.indexOf("-");
  if (minus !== -1 && minus < r.used) return { ok: false, errno: 22 };
  return { ok: true, value: r.value };
}

interface Found {
  spec: OptSpec;
  /** The value, when the option takes one. */
  value?: string;
  /** Text ctdb names in an error about this option. */
  display: string;
  /** Text ctdb names in an error about the value (the value itself when it was a separate word). */
  valueDisplay: string;
}

/**
 * Parse argv (without the program name). Options are recognised anywhere
 * until `--`; everything else is collected, in order, as the command and its
 * arguments. Processing stops at the first error, or at --help/--usage, as
 * popt does. After a command named in rawCommands nothing more is parsed.
 */
export function parseArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  rawCommands: readonly string[] = [],
): ParseResult {
  const options = defaultOptions();
  const args: string[] = [];
  let machineParsable = false;
  // popt stops option processing at the first non-option word when asked to be POSIX-strict.
  const posix = env["POSIXLY_CORRECT"] !== undefined || env["POSIX_ME_HARDER"] !== undefined;
  let i = 0;
  let onlyArgs = false;
  while (i < argv.length) {
    const word = argv[i]!;
    i++;
    if (onlyArgs) {
      args.push(word);
      continue;
    }
    if (word === "--") {
      onlyArgs = true;
      continue;
    }
    if (!word.startsWith("-") || word === "-") {
      args.push(word);
      // A command family of our own gets its arguments untouched.
      if (posix || (args.length === 1 && rawCommands.includes(word))) onlyArgs = true;
      continue;
    }

    const found: Found[] = [];
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
      const spec = SPECS.find((s) => s.long === name);
      if (spec === undefined) return err(word, "unknown option");
      if (spec.arg === "none") {
        if (eq !== -1) return err(word, "option does not take an argument");
        found.push({ spec, display: word, valueDisplay: word });
      } else if (eq !== -1) {
        found.push({ spec, value: word.slice(eq + 1), display: word, valueDisplay: word });
      } else {
        if (i >= argv.length) return err(word, "missing argument");
        const v = argv[i]!;
        i++;
        found.push({ spec, value: v, display: word, valueDisplay: v });
      }
    } else {
      // A cluster of short options, e.g. -Xv or -Xn1 or -n=1.
      let j = 1;
      while (j < word.length) {
        const c = word[j]!;
        const spec = SPECS.find((s) => s.short === c);
        if (spec === undefined) return err(word, "unknown option");
        j++;
        if (spec.arg === "none") {
          if (word[j] === "=") return err(word, "option does not take an argument");
          found.push({ spec, display: word, valueDisplay: word });
          if (spec.name === "help") break;
          continue;
        }
        if (j < word.length) {
          const rest = word[j] === "=" ? word.slice(j + 1) : word.slice(j);
          found.push({ spec, value: rest, display: word, valueDisplay: word });
        } else {
          if (i >= argv.length) return err(word, "missing argument");
          const v = argv[i]!;
          i++;
          found.push({ spec, value: v, display: word, valueDisplay: v });
        }
        break;
      }
    }

    for (const f of found) {
      const r = apply(options, f);
      if (r === "help" || r === "usage") return { kind: r };
      if (r === "X") machineParsable = true;
      else if (r !== undefined) return r;
    }
  }
  if (machineParsable) options.machineReadable = true;
  return { kind: "ok", options, args };
}

function apply(options: GlobalOptions, f: Found): "help" | "usage" | "X" | { kind: "error"; message: string } | undefined {
  const v = f.value ?? "";
  switch (f.spec.name) {
    case "help":
      return "help";
    case "usage":
      return "usage";
    case "debug":
      options.debug = v;
      return undefined;
    case "separator":
      options.separator = v;
      return undefined;
    case "Y":
      options.machineReadable = true;
      return undefined;
    case "X":
      return "X";
    case "verbose":
      options.verbose = 1;
      return undefined;
    case "watch":
      options.watch = true;
      return undefined;
    case "json":
      options.json = true;
      return undefined;
    case "allNodes":
      options.allNodes = true;
      return undefined;
    case "timelimit":
    case "node":
    case "maxruntime": {
      const n = parsePoptInt(v);
      if (!n.ok) return err(f.valueDisplay, n.reason);
      if (f.spec.name === "timelimit") options.timelimit = n.value;
      else if (f.spec.name === "node") options.pnn = n.value;
      else options.maxruntime = n.value;
      return undefined;
    }
  }
}

function err(what: string, why: string): { kind: "error"; message: string } {
  return { kind: "error", message: `Invalid option ${what}: ${why}\n` };
}

/** The -T value in force: the option, else CTDB_TIMEOUT, else 120 seconds. */
export function resolveMaxRuntime(
  options: GlobalOptions,
  env: Record<string, string | undefined>,
): { ok: true; seconds: number } | { ok: false; message: string } {
  if (options.maxruntime !== 0) return { ok: true, seconds: options.maxruntime };
  const t = env["CTDB_TIMEOUT"];
  if (t === undefined) return { ok: true, seconds: 120 };
  const r = smbStrtoul(t);
  if (!r.ok) return { ok: false, message: "Invalid value CTDB_TIMEOUT\n" };
  // ctdb stores it in an int and hands it to alarm(); keep the low 32 bits.
  return { ok: true, seconds: Number(BigInt.asIntN(32, r.value)) };
}
