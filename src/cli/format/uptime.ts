/**
 * `uptime` output: current time, daemon start and last recovery as C
 * ctime() strings with "(DDD HH:MM:SS)" ages, and the last recovery's
 * duration with six decimals. Pure apart from the local time zone, which
 * ctime() also uses.
 */
import { cInt, ctime, toCInt } from "./common.ts";

export interface Timeval {
  sec: number;
  usec: number;
}

export interface Uptime {
  currentTime: Timeval;
  ctdbdStartTime: Timeval;
  lastRecoveryStarted: Timeval;
  lastRecoveryFinished: Timeval;
}

/** ctdb keeps the difference in a C int and splits it with truncating division. */
function age(now: number, then: number): string {
  let tmp = toCInt(now - then);
  const seconds = tmp % 60;
  tmp = Math.trunc(tmp / 60);
  const minutes = tmp % 60;
  tmp = Math.trunc(tmp / 60);
  const hours = tmp % 24;
  tmp = Math.trunc(tmp / 24);
  return `(${cInt(tmp, 3, true)} ${cInt(hours, 2, true)}:${cInt(minutes, 2, true)}:${cInt(seconds, 2, true)})`;
}

export function formatUptime(pnn: number, u: Uptime, ctimeFn: (sec: number) => string = ctime): string {
  const now = u.currentTime.sec;
  const duration =
    u.lastRecoveryFinished.sec - u.lastRecoveryStarted.sec + (u.lastRecoveryFinished.usec - u.lastRecoveryStarted.usec) * 1.0e-6;
  return (
    `Current time of node ${String(pnn >>> 0).padEnd(4)}     :                ${ctimeFn(now)}` +
    `Ctdbd start time              : ${age(now, u.ctdbdStartTime.sec)} ${ctimeFn(u.ctdbdStartTime.sec)}` +
    `Time of last recovery/failover: ${age(now, u.lastRecoveryFinished.sec)} ${ctimeFn(u.lastRecoveryFinished.sec)}` +
    `Duration of last recovery/failover: ${duration.toFixed(6)} seconds\n`
  );
}

export function uptimeJson(pnn: number, u: Uptime): object {
  const t = (tv: Timeval) => tv.sec + tv.usec / 1e6;
  return {
    pnn: pnn >>> 0,
    currentTime: t(u.currentTime),
    ctdbdStartTime: t(u.ctdbdStartTime),
    lastRecoveryStarted: t(u.lastRecoveryStarted),
    lastRecoveryFinished: t(u.lastRecoveryFinished),
    uptimeSeconds: u.currentTime.sec - u.ctdbdStartTime.sec,
    lastRecoveryDurationSeconds: t(u.lastRecoveryFinished) - t(u.lastRecoveryStarted),
  };
}
