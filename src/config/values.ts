// Value syntax shared by ctdb.conf and tandem.conf, as CTDB's common/conf.c
// and common/logging.c accept it.

/** conf.c: true/yes and false/no, any case. Nothing else (not on/off/1/0). */
export function parseConfBoolean(s: string): boolean | undefined {
  const l = s.toLowerCase();
  if (l === "true" || l === "yes") return true;
  if (l === "false" || l === "no") return false;
  return undefined;
}

/**
 * conf.c reads integers with strtol(s, &end, 0) and then ignores `end`, so
 * it accepts a numeric prefix ("12abc" is 12, "0x10" is 16, "010" is 8, and
 * text without digits is 0); only a result outside 0..INT_MAX is refused.
 * We accept exactly that, so a file CTDB takes is not refused by us.
 */
export function parseConfInteger(s: string): number | undefined {
  let i = 0;
  while (i < s.length && /[ \t\n\v\f\r]/.test(s[i] as string)) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  let radix = 10;
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && /[0-9a-fA-F]/.test(s[i + 2] ?? "")) {
    radix = 16;
    i += 2;
  } else if (s[i] === "0") {
    radix = 8;
  }
  const digitRe = radix === 16 ? /[0-9a-fA-F]/ : radix === 8 ? /[0-7]/ : /[0-9]/;
  let value = 0;
  while (i < s.length && digitRe.test(s[i] as string)) {
    value = value * radix + Number.parseInt(s[i] as string, radix);
    if (value > 2 ** 63) break;
    i++;
  }
  if (neg) value = -value;
  if (value < 0 || value > 2147483647) return undefined;
  return value === 0 ? 0 : value; // no -0
}

/** CTDB's debug levels (common/logging.c log_string_map). */
export const DEBUG_LEVEL_NAMES = [
  "ERROR",
  "WARNING",
  "WARNING",
  "NOTICE",
  "NOTICE",
  "INFO",
  "INFO",
  "INFO",
  "INFO",
  "INFO",
  "DEBUG",
] as const;

/**
 * common/logging.c debug_level_parse: a string starting with a digit is read
 * with atoi and must be 0..10; otherwise it must be a case-insensitive
 * prefix of a level name ("warn", "E", "debug"). Returns the numeric level.
 */
export function parseDebugLevel(s: string): number | undefined {
  if (/^[0-9]/.test(s)) {
    const m = /^[0-9]+/.exec(s);
    const level = Number(m?.[0] ?? "0");
    return level >= 0 && level < DEBUG_LEVEL_NAMES.length ? level : undefined;
  }
  const upper = s.toUpperCase();
  const levels: [string, number][] = [
    ["ERROR", 0],
    ["WARNING", 1],
    ["NOTICE", 3],
    ["INFO", 5],
    ["DEBUG", 10],
  ];
  for (const [name, level] of levels) {
    if (name.startsWith(upper)) return level;
  }
  return undefined;
}

/** The canonical name of a numeric debug level (CTDB's debug_level_to_string). */
export function debugLevelName(level: number): string {
  return DEBUG_LEVEL_NAMES[level] ?? "UNKNOWN";
}

export type LoggingLocation =
  | { kind: "file"; path: string | undefined }
  | { kind: "syslog"; method: "syslog" | "nonblocking" | "udp" | "udp-rfc5424" };

/**
 * common/logging.c log_backend_parse + validators: the text is split on ':'
 * the way strtok does (empty fields skipped, only the first two fields
 * used). "file" with no path or "-" means stderr.
 */
export function parseLoggingLocation(s: string): LoggingLocation | undefined {
  const fields = s.split(":").filter((f) => f !== "");
  const name = fields[0];
  const option = fields[1];
  if (name === "file") {
    return { kind: "file", path: option === undefined || option === "-" ? undefined : option };
  }
  if (name === "syslog") {
    if (option === undefined) return { kind: "syslog", method: "syslog" };
    if (option === "nonblocking" || option === "udp" || option === "udp-rfc5424") return { kind: "syslog", method: option };
  }
  return undefined;
}
