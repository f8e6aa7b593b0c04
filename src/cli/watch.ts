// `tandem status --watch`: the status redrawn in place every second, as
// watch(1) would show it, until interrupted. Each frame homes the cursor and
// overwrites line by line (clearing each line's tail and everything below),
// so nothing flickers and a shorter frame leaves no leftovers.

import type { CliContext } from "./context.ts";

export const WATCH_INTERVAL_MS = 1000;

const HOME = "\x1b[H";
const CLEAR_SCREEN = "\x1b[2J";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";
const HIDE_CURSOR = "\x1b[?25l";
export const SHOW_CURSOR = "\x1b[?25h";

/** One frame: header, a blank line, the command's output (stdout, then stderr). */
export function frame(header: string, body: string, first: boolean): string {
  const lines = [header, "", ...body.replace(/\n+$/, "").split("\n")];
  return (first ? HIDE_CURSOR + HOME + CLEAR_SCREEN : HOME) + lines.map((l) => `${l}${CLEAR_LINE_END}\n`).join("") + CLEAR_BELOW;
}

export function header(command: string, now: Date): string {
  const stamp = now.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return `Every ${(WATCH_INTERVAL_MS / 1000).toFixed(1)}s: tandem ${command}   ${stamp}   (Ctrl-C to stop)`;
}

/**
 * Runs `render` every interval and draws its output until SIGINT/SIGTERM
 * (or `stop` resolves, for tests). A failing render is shown, not fatal:
 * a watched daemon may be restarting.
 */
export async function watch(
  ctx: CliContext,
  command: string,
  render: (capture: CliContext) => Promise<number>,
  stop: Promise<void> = signalled(),
): Promise<number> {
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  let wake: () => void = () => {};
  void stop.then(() => wake());
  for (let first = true; !stopped; first = false) {
    let out = "";
    const add = (s: string) => {
      out += s;
    };
    const capture: CliContext = { ...ctx, stdout: add, stderr: add };
    const code = await render(capture).catch((e: unknown) => {
      out += `${e instanceof Error ? e.message : String(e)}\n`;
      return 1;
    });
    if (stopped) break;
    ctx.stdout(frame(header(command, new Date()), code === 0 ? out : `${out}(exit status ${code})\n`, first));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, WATCH_INTERVAL_MS);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
  ctx.stdout(SHOW_CURSOR);
  return 0;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => resolve());
  });
}
