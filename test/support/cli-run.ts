// Running the real `ctdb` tool and our `tandem` main side by side, capturing
// exit code, stdout and stderr, for byte-for-byte comparisons.

import { spawnSync } from "node:child_process";
import { main } from "../../src/cli/main.ts";

export const REAL_CTDB = "/usr/bin/ctdb";

export interface Out {
  rc: number;
  stdout: string;
  stderr: string;
}

export function runRealCtdb(argv: string[], env: Record<string, string>, timeoutMs = 20_000): Out {
  const r = spawnSync(REAL_CTDB, argv, { env: { PATH: "/usr/bin:/bin", ...env }, encoding: "utf8", timeout: timeoutMs });
  return { rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function runTandem(argv: string[], env: Record<string, string>): Promise<Out> {
  let stdout = "";
  let stderr = "";
  const rc = await main(argv, {
    env,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { rc, stdout, stderr };
}
