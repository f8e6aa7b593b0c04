/**
 * What every `tandem` subcommand module receives. Shared with the event and
 * local command families, so keep it small and free of I/O handles other
 * than the two output sinks.
 */
export interface CliContext {
  /** Environment to resolve paths from (normally process.env). */
  env: Record<string, string | undefined>;
  /** Write to standard output exactly as given (no newline added). */
  stdout(s: string): void;
  /** Write to standard error exactly as given (no newline added). */
  stderr(s: string): void;
  /** Set by -Y / -X; separator from -x (default "|", as CTDB 4.17 does). */
  machineReadable: { separator: string } | null;
  /** Set by --json: commands print one JSON document instead of text. */
  json: boolean;
  /** -t: per-control timeout in seconds (default 10). */
  timeoutSec: number;
  /** -n: the node to send controls to, as a decimal string; undefined = local node. */
  pnnOption: string | undefined;
  /** --all-nodes: setvar on every connected node. */
  allNodes?: boolean;
}

/** Context writing to the real process streams. */
export function processContext(): CliContext {
  return {
    env: process.env,
    stdout: (s) => {
      process.stdout.write(s);
    },
    stderr: (s) => {
      process.stderr.write(s);
    },
    machineReadable: null,
    json: false,
    timeoutSec: 10,
    pnnOption: undefined,
  };
}
