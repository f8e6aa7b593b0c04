import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultTandemConf, parseTandemConf } from "../../src/config/tandem-conf.ts";

const F = "/etc/ctdb/tandem.conf";

describe("tandem.conf", () => {
  it("defaults: majority required, port 4379, no shared key, peers declared gone after 1.5 s, no etcd lock, no HTTP port", () => {
    assert.deepEqual(defaultTandemConf(), {
      cluster: { requireMajority: true, port: 4379, sharedKey: undefined, peerTimeoutMs: 1500, etcdLock: undefined },
      http: { listen: undefined },
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
      value: {
        cluster: { requireMajority: false, port: 5000, sharedKey: "s3cret with spaces", peerTimeoutMs: 3000, etcdLock: undefined },
        http: { listen: undefined },
      },
    });
  });
  it("etcd lock: endpoints as host:port or http:// URLs, key and TTL with defaults", () => {
    const r = parseTandemConf("[cluster]\n\tetcd lock = http://10.0.0.1:2379, 10.0.0.2:2379 [2001:db8::3]:2379 etcd-4.example:2379\n", F);
    assert.ok(r.ok);
    assert.deepEqual(r.value.cluster.etcdLock, {
      endpoints: ["10.0.0.1:2379", "10.0.0.2:2379", "[2001:db8::3]:2379", "etcd-4.example:2379"],
      key: "tandem/cluster-lock",
      ttlSec: 5,
    });
    const r2 = parseTandemConf("[cluster]\netcd lock = 127.0.0.1:1\netcd lock key = /x/y\netcd lock ttl = 9\n", F);
    assert.ok(r2.ok);
    assert.deepEqual(r2.value.cluster.etcdLock, { endpoints: ["127.0.0.1:1"], key: "/x/y", ttlSec: 9 });
  });
  it("http listen: an IP address and port", () => {
    const r = parseTandemConf("[http]\nlisten = 127.0.0.1:9187\n", F);
    assert.ok(r.ok);
    assert.deepEqual(r.value.http.listen, { host: "127.0.0.1", port: 9187 });
    const r6 = parseTandemConf("[HTTP]\nlisten = [::1]:80\n", F);
    assert.ok(r6.ok);
    assert.deepEqual(r6.value.http.listen, { host: "::1", port: 80 });
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
    ["etcd endpoint without port", "[cluster]\netcd lock = 10.0.0.1\n", 2, /endpoint "10\.0\.0\.1" is not HOST:PORT/],
    ["etcd endpoint port 0", "[cluster]\netcd lock = 10.0.0.1:0\n", 2, /port must be 1\.\.65535/],
    ["etcd over https", "[cluster]\netcd lock = https://e:2379\n", 2, /https is not supported/],
    ["etcd endpoints only commas", "[cluster]\netcd lock = ,,\n", 2, /no endpoints/],
    ["etcd ttl too small", "[cluster]\netcd lock = e:1\netcd lock ttl = 1\n", 3, /2\.\.3600 seconds/],
    ["etcd ttl not a number", "[cluster]\netcd lock = e:1\netcd lock ttl = 5s\n", 3, /"5s"/],
    ["etcd key with a space", "[cluster]\netcd lock = e:1\netcd lock key = a b\n", 3, /no spaces/],
    ["http listen on a name", "[http]\nlisten = localhost:80\n", 2, /"localhost" is not an IP address/],
    ["http listen without port", "[http]\nlisten = 127.0.0.1\n", 2, /expected ADDRESS:PORT/],
    ["http unknown option", "[http]\nport = 80\n", 2, /unknown option \[http\] -> "port"/],
  ];
  it("refuses an etcd key or TTL without endpoints", () => {
    const r = parseTandemConf("[cluster]\netcd lock ttl = 5\n", F);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? "", /need "etcd lock"/);
  });
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
