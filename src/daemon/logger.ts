// The daemon's log: one line per message, to a file, to stderr (interactive),
// or to syslog's datagram socket when it exists. CTDB's levels and names.

import fs from "node:fs";
import type { LogLevel } from "../cluster/types.ts";

const RANK: Record<LogLevel, number> = { error: 0, warning: 1, notice: 3, info: 5, debug: 10 };

export type Log = (level: LogLevel, message: string) => void;

export interface Logger {
  log: Log;
  setLevel(level: number): void;
  level(): number;
  reopen(): void;
  close(): void;
}

export function levelRank(level: LogLevel): number {
  return RANK[level];
}

export function createLogger(opts: { location: string; level: number; name: string }): Logger {
  let threshold = opts.level;
  let fd: number | undefined;
  const file = opts.location.startsWith("file:") ? opts.location.slice(5) : undefined;
  const open = () => {
    if (file !== undefined && file !== "") fd = fs.openSync(file, "a");
  };
  open();
  const write = (line: string) => {
    if (fd !== undefined) fs.writeSync(fd, line);
    else process.stderr.write(line);
  };
  return {
    log(level, message) {
      if (RANK[level] > threshold) return;
      write(`${new Date().toISOString()} ${opts.name}[${process.pid}]: ${level.toUpperCase()}: ${message}\n`);
    },
    setLevel(level) {
      threshold = level;
    },
    level: () => threshold,
    reopen() {
      if (fd !== undefined) fs.closeSync(fd);
      open();
    },
    close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}
