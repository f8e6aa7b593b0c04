// Deterministic simulation of one event component: the pure core driven by
// a seeded PRNG and a virtual clock, with fake scripts that pass, fail, hang,
// flap, run slowly or cannot run, and random interleavings of monitor and
// other events. Monitor replies feed the health rules. Invariants are
// checked after every step; a failure names the seed and step to replay.
import { type CoreEffect, type CoreInput, type CoreState, initialState, type ScriptOutcome, step } from "../event/core.ts";
import { ECANCELED, ENOENT, ENOEXEC, ETIMEDOUT } from "../event/errno.ts";
import { initialMonitorState, type MonitorState, monitorResult } from "../event/health.ts";

/** mulberry32: small, fast, good enough for schedules. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Behaviour = "pass" | "fail" | "hang" | "flap" | "slow" | "cannot-run";

interface FakeScript {
  name: string;
  enabled: boolean;
  dangling: boolean;
  behaviour: Behaviour;
  runs: number;
}

interface Proc {
  token: number;
  requestId: number;
  script: string;
  /** Running as far as the core is concerned (spawned, not finished/timed out/cancelled). */
  running: boolean;
  /** Process still exists (a hung script lives until killed). */
  alive: boolean;
}

type Pending =
  | { at: number; seq: number; kind: "done"; token: number; outcome: ScriptOutcome; output: string }
  | { at: number; seq: number; kind: "timer"; token: number }
  | { at: number; seq: number; kind: "debug-done"; token: number };

type PendingNoSeq = Pending extends infer P ? (P extends Pending ? Omit<P, "seq"> : never) : never;

const EVENTS = ["monitor", "monitor", "monitor", "takeip", "releaseip", "startrecovery", "recovered", "ipreallocated"];
const BEHAVIOURS: Behaviour[] = ["pass", "pass", "pass", "fail", "hang", "flap", "slow", "cannot-run"];
const TIMEOUT_COUNT = 3;

export function runEventSim(seed: number, steps: number): { ok: boolean; failure?: string } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const hasDebug = rnd() < 0.5;
  const scripts: FakeScript[] = [];
  const count = Math.floor(rnd() * 5);
  for (let i = 0; i < count; i++) {
    scripts.push({
      name: `${String(i * 10 + Math.floor(rnd() * 10)).padStart(2, "0")}.s${i}`,
      enabled: rnd() < 0.85,
      dangling: rnd() < 0.03,
      behaviour: pick(BEHAVIOURS),
      runs: 0,
    });
  }
  scripts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let state: CoreState = initialState(hasDebug);
  let now = 0;
  let seq = 0;
  let nextId = 1;
  let pending: Pending[] = [];
  const procs = new Map<number, Proc>();
  const requests = new Map<number, { event: string; replies: number; runAll: boolean }>();
  let lastRecord: Extract<CoreEffect, { kind: "record" }> | null = null;
  const timers = new Set<number>();
  let health: MonitorState = initialMonitorState();
  let lastMonitorFailed = false;
  let consecutiveTimeouts = 0;
  let listingFails = false;
  // What the current event's listing said: scripts enabled at that moment.
  let listed = new Map<string, boolean>();
  let stepNo = 0;
  let failure: string | undefined;

  const fail = (msg: string): void => {
    failure ??= `seed ${seed} step ${stepNo} t=${now}: ${msg}`;
  };

  const schedule = (p: PendingNoSeq): void => {
    pending.push({ ...p, seq: seq++ } as Pending);
  };

  // Effects in, follow-up inputs out (list answers are immediate, like the real shell).
  const execute = (effects: CoreEffect[], inbox: CoreInput[]): void => {
    for (const e of effects) {
      switch (e.kind) {
        case "list":
          listed = new Map(scripts.map((s) => [s.name, s.enabled && !s.dangling]));
          inbox.push({
            kind: "listed",
            token: e.token,
            nowMs: now,
            result: listingFails
              ? { errno: ENOENT }
              : {
                  scripts: scripts.map((s) =>
                    s.dangling ? { name: s.name, enabled: false, statErrno: ENOENT } : { name: s.name, enabled: s.enabled },
                  ),
                },
          });
          break;
        case "spawn": {
          const cur = state.current;
          if (cur === null) fail("spawn without a current event");
          for (const p of procs.values()) if (p.running) fail(`spawn of ${e.script} while ${p.script} still runs`);
          const fake = scripts.find((s) => s.name === e.script);
          if (!fake) {
            fail(`spawn of unknown script ${e.script}`);
            break;
          }
          if (listed.get(e.script) !== true) fail(`spawn of disabled script ${e.script}`);
          procs.set(e.token, { token: e.token, requestId: cur?.id ?? -1, script: e.script, running: true, alive: true });
          fake.runs++;
          const b = fake.behaviour;
          if (b === "hang") break;
          let outcome: ScriptOutcome = { kind: "exit", code: 0 };
          let dur = Math.floor(rnd() * 2000);
          if (b === "fail") outcome = { kind: "exit", code: 1 + Math.floor(rnd() * 3) };
          if (b === "flap") outcome = { kind: "exit", code: fake.runs % 2 };
          if (b === "slow") dur = Math.floor(rnd() * 60000);
          if (b === "cannot-run") {
            outcome = { kind: "spawn-error", errno: ENOENT };
            dur = 0;
          }
          schedule({ at: now + dur, kind: "done", token: e.token, outcome, output: b === "fail" ? "broken\n" : "" });
          break;
        }
        case "start-timer":
          timers.add(e.token);
          schedule({ at: Math.max(now, e.atMs), kind: "timer", token: e.token });
          break;
        case "cancel-timer":
          timers.delete(e.token);
          pending = pending.filter((p) => !(p.kind === "timer" && p.token === e.token));
          break;
        case "kill": {
          const p = procs.get(e.token);
          if (p) {
            p.running = false;
            p.alive = false;
          }
          pending = pending.filter((q) => !(q.kind === "done" && q.token === e.token));
          break;
        }
        case "debug": {
          const p = procs.get(e.token);
          if (!p?.alive) fail("debug of a process that is gone");
          if (!hasDebug) fail("debug without a debug script");
          schedule({ at: now + Math.floor(rnd() * 3000), kind: "debug-done", token: e.token });
          break;
        }
        case "reply": {
          const r = requests.get(e.id);
          if (!r) {
            fail(`reply to unknown request ${e.id}`);
            break;
          }
          r.replies++;
          if (lastRecord !== null) {
            const rec = lastRecord;
            lastRecord = null;
            if (rec.event !== r.event) fail(`status of ${rec.event} recorded for a ${r.event} request`);
            if (e.reply === ECANCELED) fail("a cancelled run recorded a status");
            const res = rec.status.scripts.map((x) => x.result);
            const failedAt = res.findIndex((x) => x !== 0 && x !== -ENOEXEC);
            if (!r.runAll && failedAt !== -1 && failedAt !== res.length - 1) fail("ran on after a failing script without RUN_ALL");
            if (!r.runAll && failedAt === -1 && res.length !== scripts.length) fail("stopped early without a failure");
          } else if (e.reply !== ECANCELED && e.summary !== null) {
            fail(`request ${e.id} completed without a recorded status`);
          }
          if (r.replies > 1) fail(`request ${e.id} answered twice`);
          for (const p of procs.values()) if (p.requestId === e.id && p.running) p.running = false;
          if (r.event === "monitor") {
            const v = monitorResult(health, e.reply, { monitorIntervalSec: 15, monitorTimeoutCount: TIMEOUT_COUNT });
            health = v.state;
            if (e.reply === ETIMEDOUT) consecutiveTimeouts++;
            else if (e.reply !== ECANCELED) consecutiveTimeouts = 0;
            if (e.reply !== ECANCELED && e.reply !== ETIMEDOUT) lastMonitorFailed = e.reply !== 0;
            if (lastMonitorFailed && !health.unhealthy) fail("healthy although the last completed monitor failed");
            if (consecutiveTimeouts >= TIMEOUT_COUNT && !health.unhealthy) fail("healthy after MonitorTimeoutCount timeouts");
            if (e.reply === 0 && health.unhealthy) fail("unhealthy after a successful monitor");
          }
          if (e.reply === ENOEXEC && e.summary === 0) fail("failure reply with a zero summary");
          break;
        }
        case "record": {
          lastRecord = e;
          const names = e.status.scripts.map((s) => s.name);
          const order = scripts.map((s) => s.name);
          for (let i = 0; i < names.length; i++) {
            if (names[i] !== order[i]) fail(`recorded scripts out of order: ${names.join(",")}`);
          }
          for (const s of e.status.scripts) if (s.endMs < s.beginMs) fail(`${s.name} ends before it begins`);
          const failed = e.status.scripts.filter((s) => s.result !== 0 && s.result !== -ENOEXEC);
          if (failed.length > 0 && e.status.summary === 0) fail("summary 0 despite a failing script");
          break;
        }
        case "log":
          break;
      }
    }
  };

  const feed = (input: CoreInput): void => {
    const inbox: CoreInput[] = [input];
    for (let next = inbox.shift(); next !== undefined; next = inbox.shift()) {
      const r = step(state, next);
      state = r.state;
      execute(r.effects, inbox);
    }
  };

  const newRequest = (): void => {
    const id = nextId++;
    const event = pick(EVENTS);
    const runAll = rnd() < 0.1;
    requests.set(id, { event, replies: 0, runAll });
    feed({
      kind: "run",
      id,
      event,
      args: event === "takeip" || event === "releaseip" ? ["eth0", "10.0.0.1", "24"] : [],
      timeoutSec: pick([0, 1, 5, 30]),
      runAll,
      nowMs: now,
    });
  };

  const deliverNext = (): boolean => {
    if (pending.length === 0) return false;
    pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const p = pending.shift()!;
    now = Math.max(now, p.at);
    if (p.kind === "done") {
      const proc = procs.get(p.token);
      if (proc) {
        proc.running = false;
        proc.alive = false;
      }
      feed({ kind: "script-done", token: p.token, nowMs: now, outcome: p.outcome, output: p.output });
    } else if (p.kind === "timer") {
      timers.delete(p.token);
      const proc = procs.get(p.token);
      if (proc) proc.running = false;
      feed({ kind: "timeout", token: p.token, nowMs: now, output: "", alive: proc?.alive ?? false });
    } else {
      feed({ kind: "debug-done", token: p.token, nowMs: now });
    }
    return true;
  };

  const checkStep = (): void => {
    const running = [...procs.values()].filter((p) => p.running);
    if (running.length > 1) fail(`${running.length} scripts running at once`);
    if (running.length === 1 && state.current?.id !== running[0]!.requestId) fail("a script runs for an event that is not current");
    if (state.queue.some((q) => q.event === "monitor")) fail("a monitor waits in the queue");
    if (state.current?.event === "monitor" && state.queue.length > 0) fail("an event waits behind a monitor");
  };

  for (stepNo = 0; stepNo < steps && failure === undefined; stepNo++) {
    const r = rnd();
    if (r < 0.3) {
      newRequest();
    } else if (r < 0.33) {
      listingFails = !listingFails;
    } else if (r < 0.36 && scripts.length > 0) {
      const s = pick(scripts);
      s.enabled = !s.enabled;
    } else if (!deliverNext()) {
      newRequest();
    }
    checkStep();
  }

  // Drain: no new requests; everything must settle.
  let guard = 0;
  while (failure === undefined && deliverNext()) {
    checkStep();
    if (++guard > 100000) {
      fail("simulation does not settle");
      break;
    }
  }
  if (failure === undefined) {
    for (const [id, r] of requests) if (r.replies !== 1) fail(`request ${id} (${r.event}) got ${r.replies} replies`);
    for (const p of procs.values()) if (p.alive) fail(`process of ${p.script} (token ${p.token}) left running`);
    if (state.current !== null || state.queue.length > 0) fail("core still busy after draining");
    if (state.debugToken !== null) fail("debug still marked running after draining");
  }
  return failure === undefined ? { ok: true } : { ok: false, failure };
}
