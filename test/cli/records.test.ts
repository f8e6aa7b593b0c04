// catdb record formatting and the wire record decoder.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decodeRecData, formatRecord, quoteBytes, splitHeader } from "../../src/cli/format/records.ts";
import { fakeState, runWithFake } from "./fake-daemon.ts";

function header(rsn: bigint, dmaster: number, flags: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeBigUInt64LE(rsn, 0);
  h.writeUInt32LE(dmaster, 8);
  h.writeUInt32LE(flags, 16);
  return h;
}

describe("record dumps", () => {
  it("quotes bytes as ctdb does", () => {
    assert.equal(quoteBytes(Buffer.from('a "b"\\c\t\x00\xff~', "latin1")), 'a \\22b\\22\\5Cc\\09\\00\\FF~');
  });

  it("formats key, header, flags and data", () => {
    assert.equal(
      formatRecord(Buffer.from("alpha"), { rsn: 3n, dmaster: 1, flags: 0x01010000 }, Buffer.from("one")),
      'key(5) = "alpha"\ndmaster: 1\nrsn: 3\nflags: 0x01010000 MIGRATED_WITH_DATA RO_HAVE_DELEGATIONS\ndata(3) = "one"\n\n',
    );
  });

  it("decodes a wire record and refuses short ones", () => {
    const key = Buffer.from("k");
    const data = Buffer.concat([header(1n, 0, 0), Buffer.from("v")]);
    const b = Buffer.alloc(16 + key.length + data.length);
    b.writeUInt32LE(b.length, 0);
    b.writeUInt32LE(7, 4);
    b.writeUInt32LE(key.length, 8);
    b.writeUInt32LE(data.length, 12);
    key.copy(b, 16);
    data.copy(b, 17);
    const r = decodeRecData(b);
    assert.ok(r !== null);
    assert.equal(r.reqid, 7);
    assert.equal(r.key.toString(), "k");
    assert.equal(splitHeader(r.data)?.value.toString(), "v");
    assert.equal(decodeRecData(b.subarray(0, 10)), null);
    b.writeUInt32LE(1000, 12);
    assert.equal(decodeRecData(b), null);
  });

  it("catdb end to end, skipping deleted and headerless records", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-cli-catdb-"));
    try {
      writeFileSync(join(dir, "c.tdb.0"), "TDB file\n\0\0\0");
      const st = fakeState({
        dbDir: dir,
        dbs: [{ dbId: 0x42, name: "c.tdb", flags: 0, seqnum: 0n, health: null }],
        records: [
          [Buffer.from("a"), Buffer.concat([header(2n, 0, 0), Buffer.from("x")])],
          [Buffer.from("gone"), header(5n, 0, 0)],
          [Buffer.from("short"), Buffer.from("abc")],
        ],
      });
      const r = await runWithFake(["catdb", "c.tdb"], st);
      assert.deepEqual(r, {
        rc: 0,
        stdout: 'key(1) = "a"\ndmaster: 0\nrsn: 2\nflags: 0x00000000\ndata(1) = "x"\n\nDumped 1 records\n',
        stderr: "",
      });
      const none = await runWithFake(["catdb", "x.tdb"], st);
      assert.deepEqual(none, { rc: 1, stdout: "", stderr: "No database matching 'x.tdb' found\n" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("wipedb", () => {
  it("runs the transaction on every active node, then reports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-cli-wipedb-"));
    try {
      writeFileSync(join(dir, "w.tdb.0"), "TDB file\n\0\0\0");
      const st = fakeState({
        dbDir: dir,
        generation: 77,
        dbs: [{ dbId: 0x42, name: "w.tdb", flags: 1, seqnum: 0n, health: null }],
        nodes: [
          { pnn: 0, address: "192.168.20.41", flags: 0 },
          { pnn: 1, address: "192.168.20.42", flags: 0x20 },
        ],
        records: [[Buffer.from("a"), Buffer.concat([header(2n, 0, 0), Buffer.from("x")])]],
      });
      const r = await runWithFake(["wipedb", "w.tdb"], st);
      assert.deepEqual(r, { rc: 0, stdout: "Database w.tdb wiped\n", stderr: "" });
      assert.deepEqual(
        st.calls.filter((c) => c.startsWith("db-")),
        ["db-freeze:0:66", "db-start:0:66:77", "db-wipe:0:66:77", "db-set-healthy:0:66", "db-commit:0:66:77", "db-thaw:0:66"],
      );
      assert.equal(st.records.length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
