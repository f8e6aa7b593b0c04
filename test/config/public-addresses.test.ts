import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePublicAddresses } from "../../src/config/public-addresses.ts";

const F = "/etc/ctdb/public_addresses";

describe("public_addresses: good input", () => {
  it("addresses, interface lists, comments, blank lines, extra fields", () => {
    const text = [
      "# public addresses",
      "10.1.1.1/24 eth1",
      "",
      "\t  10.1.1.2/24\teth1,eth2",
      "   # indented comment",
      "fd00:1::1/64 eth3 ignored-extra-field",
      "10.1.2.1/24 ,eth1,,eth2,",
      "[fd00:2::1]/64 eth4\r",
      "10.1.3.1/32 lo",
    ].join("\n");
    assert.deepEqual(parsePublicAddresses(text, F), {
      ok: true,
      value: [
        { address: "10.1.1.1", prefix: 24, family: 4, interfaces: ["eth1"] },
        { address: "10.1.1.2", prefix: 24, family: 4, interfaces: ["eth1", "eth2"] },
        { address: "fd00:1::1", prefix: 64, family: 6, interfaces: ["eth3"] },
        { address: "10.1.2.1", prefix: 24, family: 4, interfaces: ["eth1", "eth2"] },
        { address: "fd00:2::1", prefix: 64, family: 6, interfaces: ["eth4"] },
        { address: "10.1.3.1", prefix: 32, family: 4, interfaces: ["lo"] },
      ],
    });
  });
  it("an empty file is no addresses", () => assert.deepEqual(parsePublicAddresses("\n\n", F), { ok: true, value: [] }));
});

describe("public_addresses: bad input names file and line", () => {
  const cases: [string, string, number, RegExp][] = [
    ["missing interface", "10.1.1.1/24 eth0\n10.1.1.2/24\n", 2, /No interface specified/],
    ["empty interface list", "10.1.1.1/24 ,\n", 1, /No interface specified/],
    ["missing prefix", "10.1.1.1 eth0\n", 1, /expected ADDRESS\/PREFIX/],
    ["empty prefix", "10.1.1.1/ eth0\n", 1, /prefix must be a number/],
    ["prefix with junk", "10.1.1.1/24x eth0\n", 1, /prefix must be a number/],
    ["negative prefix", "10.1.1.1/-1 eth0\n", 1, /prefix must be a number/],
    ["IPv4 prefix too long", "10.1.1.1/33 eth0\n", 1, /at most 32/],
    ["IPv6 prefix too long", "fd00::1/129 eth0\n", 1, /at most 128/],
    ["host name", "server/24 eth0\n", 1, /not an IP address/],
    ["duplicate", "10.1.1.1/24 eth0\n\n10.1.1.1/16 eth1\n", 3, /Duplicate public IP address '10\.1\.1\.1' \(first at line 1\)/],
    ["long interface name", "10.1.1.1/24 averyveryverylongname0\n", 1, /longer than 15 bytes/],
  ];
  for (const [name, text, line, match] of cases) {
    it(name, () => {
      const r = parsePublicAddresses(text, F);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1);
      assert.deepEqual([r.errors[0]?.file, r.errors[0]?.line], [F, line]);
      assert.match(r.errors[0]?.message ?? "", match);
    });
  }
});
