import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultTandemConf, parseTandemConf } from "../../src/config/tandem-conf.ts";

const F = "/etc/ctdb/tandem.conf";

describe("tandem.conf", () => {
  it("defaults: majority required, port 4379, no shared key, peers declared gone after 1.5 s", () => {
    assert.deepEqual(defaultTandemConf(), {
      cluster: { requireMajority: true, port: 4379, sharedKey: undefined, peerTimeoutMs: 1500 },
    });
    assert.deepEqual(parseTandemConf("", F), { ok: true, value: defaultTandemConf() });
  });
  it("all options", () => {
    const r = parseTandemConf(
      "# tandem\n[Cluster]\n\trequire majority = no\n\tport = 5000\n\tshared key = s3cret with spaces\n\tpeer timeout ms = 3000\n",
      F,
    );
    assert.deepEqual(r, {
      ok: true,
      value: { cluster: { requireMajority: false, port: 5000, sharedKey: "s3cret with spaces", peerTimeoutMs: 3000 } },
    });
  });
  const bad: [string, string, number, RegExp][] = [
    ["unknown section", "[logging]\n", 1, /unknown section \[logging\]/],
    ["unknown option", "[cluster]\nmajority = yes\n", 2, /unknown option \[cluster\] -> "majority"/],
    ["bad boolean", "[cluster]\nrequire majority = sometimes\n", 2, /"sometimes"/],
    ["port 0", "[cluster]\nport = 0\n", 2, /1\.\.65535/],
    ["port too big", "[cluster]\nport = 65536\n", 2, /1\.\.65535/],
    ["port with junk", "[cluster]\nport = 4379x\n", 2, /1\.\.65535/],
    ["peer timeout too short", "[cluster]\npeer timeout ms = 99\n", 2, /"peer timeout ms" = "99" \(expected 100\.\.600000\)/],
    ["peer timeout with a unit", "[cluster]\npeer timeout ms = 2s\n", 2, /"2s"/],
    ["empty value", "[cluster]\nshared key =\n", 2, /empty value/],
    ["option before section", "port = 1\n", 1, /before any/],
    ["malformed line", "[cluster]\nport\n", 2, /key = value/],
  ];
  for (const [name, text, line, match] of bad) {
    it(`refuses ${name}, naming file and line`, () => {
      const r = parseTandemConf(text, F);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1);
      assert.deepEqual([r.errors[0]?.file, r.errors[0]?.line], [F, line]);
      assert.match(r.errors[0]?.message ?? "", match);
    });
  }
});
