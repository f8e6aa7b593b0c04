// The option parser, as tables: argv in, options / error text out. Expected
// texts are what CTDB 4.17's ctdb prints for the same argv.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cStrtol, parseArgs, parsePoptInt, resolveMaxRuntime, smbStrtoul } from "../../src/cli/args.ts";

describe("parseArgs", () => {
  const errors: [string[], string][] = [
    [["-h"], "Invalid option -h: unknown option\n"],
    [["-n", "foo", "status"], "Invalid option foo: invalid numeric value\n"],
    [["-n", "1x"], "Invalid option 1x: invalid numeric value\n"],
    [["-n"], "Invalid option -n: missing argument\n"],
    [["-n", "99999999999"], "Invalid option 99999999999: number too large or too small\n"],
    [["-n", "2147483648"], "Invalid option 2147483648: number too large or too small\n"],
    [["--node=abc"], "Invalid option --node=abc: invalid numeric value\n"],
    [["--node", "version"], "Invalid option version: invalid numeric value\n"],
    [["-nabc"], "Invalid option -nabc: invalid numeric value\n"],
    [["-Xnabc"], "Invalid option -Xnabc: invalid numeric value\n"],
    [["-Xn", "abc"], "Invalid option abc: invalid numeric value\n"],
    [["-Xn"], "Invalid option -Xn: missing argument\n"],
    [["-node=1"], "Invalid option -node=1: invalid numeric value\n"],
    [["-v=1"], "Invalid option -v=1: option does not take an argument\n"],
    [["--usage=1"], "Invalid option --usage=1: option does not take an argument\n"],
    [["--verb"], "Invalid option --verb: unknown option\n"],
    [["-XQ"], "Invalid option -XQ: unknown option\n"],
    [["setvar", "a", "-1"], "Invalid option -1: unknown option\n"],
    [["-Q", "--help"], "Invalid option -Q: unknown option\n"],
    [["-x"], "Invalid option -x: missing argument\n"],
    [["-t", "abc"], "Invalid option abc: invalid numeric value\n"],
  ];
  for (const [argv, message] of errors) {
    it(`rejects ${JSON.stringify(argv)}`, () => {
      assert.deepEqual(parseArgs(argv), { kind: "error", message });
    });
  }

  it("help and usage win when reached first", () => {
    assert.deepEqual(parseArgs(["--help", "-Q"]), { kind: "help" });
    assert.deepEqual(parseArgs(["-X?"]), { kind: "help" });
    assert.deepEqual(parseArgs(["--usage", "status"]), { kind: "usage" });
  });

  it("options anywhere, values attached or separate", () => {
    const r = parseArgs(["status", "-X", "-n1", "--timelimit=3", "-T", "7", "-d", "DEBUG", "-vv", "--json"]);
    assert.equal(r.kind, "ok");
    if (r.kind !== "ok") return;
    assert.deepEqual(r.args, ["status"]);
    assert.equal(r.options.machineReadable, true);
    assert.equal(r.options.separator, "|");
    assert.equal(r.options.pnn, 1);
    assert.equal(r.options.timelimit, 3);
    assert.equal(r.options.maxruntime, 7);
    assert.equal(r.options.debug, "DEBUG");
    assert.equal(r.options.verbose, 1);
    assert.equal(r.options.json, true);
  });

  it("numbers as C reads them: hex, octal, leading blanks, empty", () => {
    const pnn = (v: string) => {
      const r = parseArgs(["-n", v, "status"]);
      return r.kind === "ok" ? r.options.pnn : r;
    };
    assert.equal(pnn("0x10"), 16);
    assert.equal(pnn("010"), 8);
    assert.equal(pnn(" 5"), 5);
    assert.equal(pnn(""), 0);
    assert.equal(pnn("-1"), -1);
    assert.deepEqual(pnn("5 "), { kind: "error", message: "Invalid option 5 : invalid numeric value\n" });
    assert.deepEqual(pnn("08"), { kind: "error", message: "Invalid option 08: invalid numeric value\n" });
  });

  it("-x takes the next word even if it looks like an option; -x=, strips '='", () => {
    const a = parseArgs(["-x", "-X", "version"]);
    assert.ok(a.kind === "ok" && a.options.separator === "-X" && !a.options.machineReadable);
    const b = parseArgs(["-x=,", "-Y", "status"]);
    assert.ok(b.kind === "ok" && b.options.separator === "," && b.options.machineReadable);
  });

  it("-- ends options; '-' and '' are words", () => {
    const r = parseArgs(["--", "-X", "version"]);
    assert.ok(r.kind === "ok");
    if (r.kind === "ok") assert.deepEqual(r.args, ["-X", "version"]);
    const d = parseArgs(["-", ""]);
    assert.ok(d.kind === "ok");
    if (d.kind === "ok") assert.deepEqual(d.args, ["-", ""]);
  });

  it("POSIXLY_CORRECT stops at the first word; raw commands keep their arguments", () => {
    const p = parseArgs(["version", "-Q"], { POSIXLY_CORRECT: "1" });
    assert.ok(p.kind === "ok");
    if (p.kind === "ok") assert.deepEqual(p.args, ["version", "-Q"]);
    const l = parseArgs(["-X", "local", "start", "--nodes", "3"], {}, ["local"]);
    assert.ok(l.kind === "ok");
    if (l.kind === "ok") {
      assert.deepEqual(l.args, ["local", "start", "--nodes", "3"]);
      assert.equal(l.options.machineReadable, true);
    }
  });
});

describe("number conversions", () => {
  it("cStrtol", () => {
    assert.deepEqual(cStrtol("  -0x1fz"), { value: -31n, used: 7, overflow: false, negative: true });
    assert.equal(cStrtol("0x").used, 1);
    assert.equal(cStrtol("abc").used, 0);
    assert.equal(cStrtol("99999999999999999999").overflow, true);
  });

  it("parsePoptInt", () => {
    assert.deepEqual(parsePoptInt("-2147483648"), { ok: true, value: -2147483648 });
    assert.deepEqual(parsePoptInt("-2147483649"), { ok: false, reason: "number too large or too small" });
    assert.deepEqual(parsePoptInt("  "), { ok: false, reason: "invalid numeric value" });
  });

  it("smbStrtoul: trailing text allowed, minus and no digits refused", () => {
    assert.deepEqual(smbStrtoul("5abc"), { ok: true, value: 5n });
    assert.deepEqual(smbStrtoul("-5"), { ok: false, errno: 22 });
    assert.deepEqual(smbStrtoul("x"), { ok: false, errno: 22 });
    assert.deepEqual(smbStrtoul("99999999999999999999999"), { ok: false, errno: 34 });
    assert.deepEqual(smbStrtoul("0x10"), { ok: true, value: 16n });
  });

  it("resolveMaxRuntime: -T, then CTDB_TIMEOUT, then 120", () => {
    const r = parseArgs(["-T", "5", "x"]);
    assert.ok(r.kind === "ok");
    if (r.kind !== "ok") return;
    assert.deepEqual(resolveMaxRuntime(r.options, { CTDB_TIMEOUT: "9" }), { ok: true, seconds: 5 });
    r.options.maxruntime = 0;
    assert.deepEqual(resolveMaxRuntime(r.options, { CTDB_TIMEOUT: "9" }), { ok: true, seconds: 9 });
    assert.deepEqual(resolveMaxRuntime(r.options, {}), { ok: true, seconds: 120 });
    assert.deepEqual(resolveMaxRuntime(r.options, { CTDB_TIMEOUT: "abc" }), { ok: false, message: "Invalid value CTDB_TIMEOUT\n" });
  });
});
