// The contract between the event daemon's socket server (and the daemon's own
// callers) and the event component that runs scripts. Results follow CTDB's
// eventd: 0 on success, a script's positive exit code on failure, or a negative
// errno (-ETIMEDOUT, -ECANCELED, -ENOEXEC for a disabled script, -ENOENT, ...).

export interface EventScriptStatus {
  name: string;
  result: number;
  beginMs: number; // wall-clock epoch milliseconds (fractions allowed)
  endMs: number;
  output: string;
}

export interface EventStatus {
  summary: number;
  scripts: EventScriptStatus[];
}

export interface EventRunRequest {
  component: string;
  event: string;
  args: string[];
  timeoutSec: number;
  runAll: boolean; // CTDB's RUN_ALL flag: carry on after a failing script
}

export interface EventBackend {
  run(request: EventRunRequest): Promise<number>;
  status(component: string, event: string): EventStatus | { error: number };
  setScriptEnabled(component: string, script: string, enable: boolean): Promise<number>;
}
