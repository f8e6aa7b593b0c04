import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseNodesFile } from "../../src/config/nodes.ts";

const F = "/etc/ctdb/nodes";

describe("nodes file: good input", () => {
  it("PNN counts non-blank lines; '#' lines are deleted nodes at 0.0.0.0", () => {
    const r = parseNodesFile("10.0.0.1\n\n  10.0.0.2\t\n#10.0.0.3\n# anything\n\t\n10.0.0.5\n\n\n", F);
    assert.deepEqual(r, {
      ok: true,
      value: [
        { pnn: 0, address: "10.0.0.1", deleted: false },
        { pnn: 1, address: "10.0.0.2", deleted: false },
        { pnn: 2, address: "0.0.0.0", deleted: true },
        { pnn: 3, address: "0.0.0.0", deleted: true },
        { pnn: 4, address: "10.0.0.5", deleted: false },
      ],
    });
  });
  it("IPv6, brackets, canonical form, CRLF", () => {
    const r = parseNodesFile("FD00:0::1\r\n[fd00::2]\r\n::ffff:10.1.1.1\r\n", F);
    assert.deepEqual(r, {
      ok: true,
      value: [
        { pnn: 0, address: "fd00::1", deleted: false },
        { pnn: 1, address: "fd00::2", deleted: false },
        { pnn: 2, address: "10.1.1.1", deleted: false },
      ],
    });
  });
  it("an empty file is an empty list", () => assert.deepEqual(parseNodesFile("", F), { ok: true, value: [] }));
  it("many deleted nodes may share 0.0.0.0", () => {
    const r = parseNodesFile("#\n#\n10.0.0.3\n", F);
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual(r.value.map((n) => n.pnn), [0, 1, 2]);
  });
});

describe("nodes file: bad input names file and line", () => {
  const cases: [string, string, number, RegExp][] = [
    ["host name", "10.0.0.1\nnode2\n", 2, /Invalid IP address node2 \(host names are not allowed/],
    ["address with port", "10.0.0.1:4379\n", 1, /Invalid IP address 10\.0\.0\.1:4379/],
    ["trailing text", "10.0.0.1 # first\n", 1, /Invalid IP address/],
    ["two addresses", "10.0.0.1 10.0.0.2\n", 1, /Invalid IP address/],
    ["duplicate", "10.0.0.1\n\n10.0.0.2\n10.0.0.1\n", 4, /duplicate node address 10\.0\.0\.1 \(already PNN 0 at line 1\)/],
    ["duplicate in another spelling", "fd00::1\nfd00:0:0::1\n", 2, /duplicate node address fd00::1/],
  ];
  for (const [name, text, line, match] of cases) {
    it(name, () => {
      const r = parseNodesFile(text, F);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1);
      assert.deepEqual([r.errors[0]?.file, r.errors[0]?.line], [F, line]);
      assert.match(r.errors[0]?.message ?? "", match);
    });
  }
  it("reports all bad lines", () => {
    const r = parseNodesFile("a\nb\n10.0.0.1\nc\n", F);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors.map((e) => e.line), [1, 2, 4]);
  });
});
