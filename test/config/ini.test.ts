import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseIni } from "../../src/config/ini.ts";
import { formatConfigError } from "../../src/config/result.ts";

const F = "/etc/ctdb/ctdb.conf";

function entries(text: string) {
  const r = parseIni(text, F);
  assert.ok(r.ok, r.ok ? "" : r.errors.map(formatConfigError).join("\n"));
  return r.value;
}

describe("parseIni: good input", () => {
  const cases: { name: string; text: string; want: unknown[] }[] = [
    {
      name: "section and options with spaces in keys",
      text: "[logging]\n\tlocation = syslog\n  log level = NOTICE\n",
      want: [
        { kind: "section", name: "logging", line: 1 },
        { kind: "option", key: "location", value: "syslog", line: 2 },
        { kind: "option", key: "log level", value: "NOTICE", line: 3 },
      ],
    },
    {
      name: "comments with # and ; (also indented) and blank lines keep line numbers",
      text: "# top\n; semi\n\n   # indented\n[cluster]\n\n\tleader timeout = 7\n",
      want: [
        { kind: "section", name: "cluster", line: 5 },
        { kind: "option", key: "leader timeout", value: "7", line: 7 },
      ],
    },
    {
      name: "a '#' after the start of a line is part of the value",
      text: "[cluster]\ncluster lock = /a/b # not a comment\n",
      want: [
        { kind: "section", name: "cluster", line: 1 },
        { kind: "option", key: "cluster lock", value: "/a/b # not a comment", line: 2 },
      ],
    },
    {
      name: "whitespace runs collapse, one space trimmed each side",
      text: "[cluster]\ncluster   lock    =   !/bin/helper    a\t\t b   \n",
      want: [
        { kind: "section", name: "cluster", line: 1 },
        { kind: "option", key: "cluster lock", value: "!/bin/helper a\tb", line: 2 },
      ],
    },
    {
      name: "no spaces around '='; '=' inside the value",
      text: "[x]\nkey=a=b\n",
      want: [
        { kind: "section", name: "x", line: 1 },
        { kind: "option", key: "key", value: "a=b", line: 2 },
      ],
    },
    {
      name: "backslash continuation joins lines; entry keeps its first line number",
      text: "[cluster]\ncluster lock = !/bin/helper \\\n    arg1 \\ \n  arg2\nleader timeout = 3\n",
      want: [
        { kind: "section", name: "cluster", line: 1 },
        { kind: "option", key: "cluster lock", value: "!/bin/helper arg1 arg2", line: 2 },
        { kind: "option", key: "leader timeout", value: "3", line: 5 },
      ],
    },
    {
      name: "CRLF line ends",
      text: "[cluster]\r\nleader timeout = 9\r\n",
      want: [
        { kind: "section", name: "cluster", line: 1 },
        { kind: "option", key: "leader timeout", value: "9", line: 2 },
      ],
    },
    {
      name: "section name is not trimmed, text after ']' ignored",
      text: "[ cluster ] trailing\n",
      want: [{ kind: "section", name: " cluster ", line: 1 }],
    },
    {
      name: "empty value is returned as empty (callers decide)",
      text: "[x]\nkey =\n",
      want: [
        { kind: "section", name: "x", line: 1 },
        { kind: "option", key: "key", value: "", line: 2 },
      ],
    },
    { name: "no final newline", text: "[x]\nk = v", want: [{ kind: "section", name: "x", line: 1 }, { kind: "option", key: "k", value: "v", line: 2 }] },
    { name: "empty file", text: "", want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(entries(c.text), c.want));
  }

  it("allowMissingEquals turns a bare word into an empty value", () => {
    const r = parseIni("Foo\n", "/t", { allowMissingEquals: true });
    assert.deepEqual(r, { ok: true, value: [{ kind: "option", key: "Foo", value: "", line: 1 }] });
  });
});

describe("parseIni: bad lines name file, line and reason", () => {
  const cases: { name: string; text: string; line: number; match: RegExp }[] = [
    { name: "line without '='", text: "[cluster]\n\ncluster lock /x\n", line: 3, match: /expected "key = value"/ },
    { name: "section without ']'", text: "# c\n[cluster\n", line: 2, match: /no closing '\]'/ },
    { name: "empty key", text: "[cluster]\n = 5\n", line: 2, match: /missing key/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseIni(c.text, F);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1);
      const e = r.errors[0];
      assert.equal(e?.file, F);
      assert.equal(e?.line, c.line);
      assert.match(e?.message ?? "", c.match);
      assert.ok(formatConfigError(e ?? { file: "", line: 0, message: "" }).startsWith(`${F}:${c.line}: `));
    });
  }

  it("reports every bad line, not just the first", () => {
    const r = parseIni("foo\n[a]\n= 1\n[b]\nbar\n", F);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors.map((e) => e.line), [1, 3, 5]);
  });

  it("lines under a broken section header are not given to the previous section", () => {
    const r = parseIni("[a]\nx = 1\n[b\ny = 2\n[c]\nz = 3\n", F);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors.map((e) => e.line), [3]);
  });

  it("formatConfigError without a line", () => {
    assert.equal(formatConfigError({ file: "/x", line: undefined, message: "m" }), "/x: m");
  });
});
