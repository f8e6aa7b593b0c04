import assert from "node:assert/strict";
import { test } from "node:test";
import { advertisedVersion, compatible, helloVersion, parseVersion, TRANSPORT_VERSION } from "../../src/transport/version.ts";

test("versions: parsing, what an unannounced hello means, and compatibility", () => {
  const cases: [unknown, ReturnType<typeof helloVersion>][] = [
    [undefined, { major: 1, minor: 0 }],
    ["1.1", { major: 1, minor: 1 }],
    ["2.0", { major: 2, minor: 0 }],
    ["1", undefined],
    ["1.x", undefined],
    [3, undefined],
    ["1.1.1", undefined],
  ];
  for (const [field, want] of cases) assert.deepEqual(helloVersion(field), want, String(field));
  assert.equal(compatible({ major: 1, minor: 0 }, { major: 1, minor: 7 }), true);
  assert.equal(compatible({ major: 1, minor: 1 }, { major: 2, minor: 1 }), false);
});

test("the advertised version is overridable only in CTDB's test mode", () => {
  assert.deepEqual(advertisedVersion({ TANDEM_TEST_TRANSPORT_VERSION: "2.0" }), TRANSPORT_VERSION);
  assert.deepEqual(advertisedVersion({ CTDB_TEST_MODE: "yes", TANDEM_TEST_TRANSPORT_VERSION: "2.0" }), parseVersion("2.0"));
  assert.deepEqual(advertisedVersion({ CTDB_TEST_MODE: "yes", TANDEM_TEST_TRANSPORT_VERSION: "junk" }), TRANSPORT_VERSION);
});
