// The local database layer over real TDB files.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dbIdOf } from "../../src/database/hash.ts";
import { LocalDatabases, MAX_HOT_KEYS, tdbFlagsFor } from "../../src/database/local.ts";
import { TdbFlag } from "../../src/database/tdb.ts";
import { DbFlag } from "../../src/protocol/constants.ts";

let dir = "";
const dirs = () => ({ volatile: join(dir, "volatile"), persistent: join(dir, "persistent"), state: join(dir, "state") });
const open = (pnn = 3) => new LocalDatabases({ pnn, dirs: dirs(), hashSize: 131, maxDead: 5, mutexes: false });
const header = (rsn: bigint, dmaster: number) => ({ rsn, dmaster, reserved1: 0, flags: 0 });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tandem-local-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("local databases", () => {
  it("open TDB flags as CTDB's ctdb_db_tdb_flags", () => {
    const base = TdbFlag.NOSYNC | TdbFlag.CLEAR_IF_FIRST | TdbFlag.INCOMPATIBLE_HASH | TdbFlag.DISALLOW_NESTING;
    assert.equal(tdbFlagsFor("persistent", true), TdbFlag.DISALLOW_NESTING);
    assert.equal(tdbFlagsFor("replicated", true), base);
    assert.equal(tdbFlagsFor("volatile", false), base);
    assert.equal(tdbFlagsFor("volatile", true), base | TdbFlag.MUTEX_LOCKING);
  });

  it("attaches by name into <dir>/<name>.<pnn>, once, with the header before every value", () => {
    const dbs = open();
    const a = dbs.attach("vol.tdb", "volatile");
    assert.ok(a.ok);
    assert.equal(a.db.path, join(dir, "volatile", "vol.tdb.3"));
    assert.equal(a.db.dbId, dbIdOf("vol.tdb"));
    assert.equal(a.created, true);
    const again = dbs.attach("vol.tdb", "volatile");
    assert.ok(again.ok && !again.created && again.db === a.db);
    const wrong = dbs.attach("vol.tdb", "persistent");
    assert.ok(!wrong.ok && /is volatile, not persistent/.test(wrong.error));
    const rep = dbs.attach("rep.tdb", "replicated");
    assert.ok(rep.ok && rep.db.path === join(dir, "volatile", "rep.tdb.3") && rep.db.flags === DbFlag.REPLICATED);
    assert.ok(!dbs.attach("a/b.tdb", "volatile").ok, "no path in a name");
    a.db.store(Buffer.from("k"), header(5n, 3), Buffer.from("value"));
    assert.deepEqual(a.db.fetch(Buffer.from("k")), { header: header(5n, 3), value: Buffer.from("value") });
    assert.equal(a.db.tdb.fetch(Buffer.from("k"))?.length, 24 + 5);
    assert.deepEqual(dbs.list().map((d) => d.name), ["rep.tdb", "vol.tdb"], "newest first, as GET_DBMAP");
    dbs.close();
  });

  it("starts volatile databases empty and finds persistent ones again", () => {
    const first = open(4);
    const v = first.attach("stale.tdb", "volatile");
    const p = first.attach("keep.tdb", "persistent");
    assert.ok(v.ok && p.ok);
    v.db.store(Buffer.from("old"), header(1n, 4), Buffer.from("x"));
    p.db.store(Buffer.from("kept"), header(1n, 4), Buffer.from("y"));
    first.close();
    // The daemon starts again: what the volatile file held is gone, the persistent one is found and kept.
    const second = open(4);
    const v2 = second.attach("stale.tdb", "volatile");
    assert.deepEqual(second.attachExistingPersistent(), []);
    assert.ok(second.byName("keep.tdb") !== undefined, "persistent databases attach at start");
    assert.ok(v2.ok);
    assert.equal(v2.db.fetch(Buffer.from("old")), null);
    assert.equal(second.byName("keep.tdb")?.fetch(Buffer.from("kept"))?.value.toString(), "y");
    second.close();
  });

  it("keeps the keys with the longest trips as hot keys, never more than MAX_HOT_KEYS", () => {
    const dbs = open(5);
    const r = dbs.attach("hot.tdb", "volatile");
    assert.ok(r.ok);
    for (let i = 0; i < 50; i++) r.db.noteHotKey(Buffer.from(`k${i}`), i % 20);
    const hot = r.db.hotKeys();
    assert.equal(hot.length, MAX_HOT_KEYS);
    assert.equal(hot[0]!.count, 19);
    assert.ok(hot.every((h) => h.count >= 10), hot.map((h) => h.count).join(","));
    r.db.noteHotKey(Buffer.from("k0"), 30);
    assert.deepEqual(r.db.hotKeys()[0], { key: Buffer.from("k0"), count: 30 });
    dbs.close();
  });
});
