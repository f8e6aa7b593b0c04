import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIPv6, isInetPtonAddress, parseIPv6, parseIpLiteral } from "../../src/net/ip.ts";

describe("IP literals", () => {
  const good: [string, 4 | 6, string][] = [
    ["10.0.0.1", 4, "10.0.0.1"],
    ["0.0.0.0", 4, "0.0.0.0"],
    ["255.255.255.255", 4, "255.255.255.255"],
    ["::1", 6, "::1"],
    ["::", 6, "::"],
    ["2001:DB8:0:0:0:0:0:1", 6, "2001:db8::1"],
    ["2001:db8:0:1:0:0:0:1", 6, "2001:db8:0:1::1"],
    ["1:0:0:2:0:0:0:3", 6, "1:0:0:2::3"],
    ["1:0:0:2:0:0:3:4", 6, "1::2:0:0:3:4"],
    ["fd00:0:0:0:0:0:0:0", 6, "fd00::"],
    ["1:2:3:4:5:6:7:8", 6, "1:2:3:4:5:6:7:8"],
    ["::2:0:0:0:0:0:0", 6, "0:2::"],
    ["1:0:3:4:5:6:7:8", 6, "1:0:3:4:5:6:7:8"],
    ["[fd00::5]", 6, "fd00::5"],
    ["::ffff:192.0.2.1", 4, "192.0.2.1"],
    ["::192.0.2.1", 6, "::192.0.2.1"],
    ["64:ff9b::192.0.2.1", 6, "64:ff9b::c000:201"],
  ];
  for (const [text, family, canon] of good) {
    it(`accepts ${text}`, () => {
      const ip = parseIpLiteral(text);
      assert.ok(ip);
      assert.equal(ip?.family, family);
      assert.equal(ip?.text, canon);
    });
  }
  const bad = ["", "10.0.0", "10.0.0.1.2", "010.0.0.1", "256.0.0.1", "1.2.3.-1", "node1", "::1::2", "1:2:3:4:5:6:7:8:9",
    "fe80::1%eth0", "12345::", "1.2.3.4/24", " 10.0.0.1", "[::1", ":::"];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseIpLiteral(text), undefined));
  }
  it("plain inet_pton keeps brackets out", () => {
    assert.equal(isInetPtonAddress("[::1]"), false);
    assert.equal(isInetPtonAddress("::1"), true);
  });
  it("formats the IPv4-mapped form like inet_ntop", () => {
    const b = parseIPv6("::ffff:1.2.3.4");
    assert.ok(b);
    if (b) assert.equal(formatIPv6(b), "::ffff:1.2.3.4");
  });
});
