// The libtdb binding against the real library, and our files read by the
// real tdb tools.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dbIdOf, jenkinsHash, lmasterOf } from "../../src/database/hash.ts";
import { Tdb, TdbError, TdbFlag, tdbJenkinsHash } from "../../src/database/tdb.ts";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "tandem-tdb-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const k = (s: string) => Buffer.from(s, "utf8");
const open = (name: string, flags: number = TdbFlag.DEFAULT) => Tdb.open(join(dir, name), { tdbFlags: flags, hashSize: 17 });

describe("libtdb binding", () => {
  it("stores, fetches, replaces and deletes records", () => {
    const t = open("basic.tdb");
    assert.equal(t.fetch(k("a")), null);
    t.store(k("a"), k("one"));
    assert.deepEqual(t.fetch(k("a")), k("one"));
    t.store(k("a"), k("two"));
    assert.deepEqual(t.fetch(k("a")), k("two"));
    assert.equal(t.exists(k("a")), true);
    assert.equal(t.delete(k("a")), true);
    assert.equal(t.delete(k("a")), false);
    assert.equal(t.fetch(k("a")), null);
    t.store(k("empty"), Buffer.alloc(0));
    assert.deepEqual(t.fetch(k("empty")), Buffer.alloc(0));
    t.close();
    assert.equal(t.closed, true);
  });

  it("refuses INSERT over an existing key with TDB's reason", () => {
    const t = open("insert.tdb");
    t.store(k("x"), k("1"));
    assert.throws(() => t.store(k("x"), k("2"), 2), (e: unknown) => e instanceof TdbError && e.code === "TDB_ERR_EXISTS");
    t.close();
  });

  it("traverses every record and stops when asked", () => {
    const t = open("trav.tdb");
    for (let i = 0; i < 50; i++) t.store(k(`key${i}`), k(`v${i}`));
    const seen = new Map<string, string>();
    assert.equal(t.traverseRead((key, v) => void seen.set(key.toString(), v.toString())), 50);
    assert.equal(seen.size, 50);
    assert.equal(seen.get("key7"), "v7");
    let n = 0;
    t.traverse(() => ++n < 5);
    assert.equal(n, 5);
    // A write traverse may delete what it visits.
    t.traverse((key) => void t.delete(key));
    assert.equal(t.traverseRead(() => {}), 0);
    t.close();
  });

  it("passes a visitor's exception through", () => {
    const t = open("throw.tdb");
    t.store(k("a"), k("b"));
    assert.throws(() => t.traverseRead(() => {
      throw new Error("visitor failed");
    }), /visitor failed/);
    t.close();
  });

  it("commits and cancels transactions", () => {
    const t = open("trans.tdb");
    t.transactionStart();
    assert.equal(t.inTransaction, true);
    t.store(k("a"), k("1"));
    t.transactionPrepareCommit();
    t.transactionCommit();
    assert.equal(t.inTransaction, false);
    t.transactionStart();
    t.store(k("b"), k("2"));
    t.transactionCancel();
    assert.deepEqual(t.fetch(k("a")), k("1"));
    assert.equal(t.fetch(k("b")), null);
    assert.throws(() => t.transactionCommit(), TdbError);
    t.close();
  });

  it("counts changes once seqnum is enabled, and wipes", () => {
    const t = open("seq.tdb");
    const s0 = t.seqnum();
    t.store(k("a"), k("1"));
    assert.equal(t.seqnum(), s0);
    t.enableSeqnum();
    t.store(k("a"), k("2"));
    t.store(k("b"), k("3"));
    assert.equal(t.seqnum(), s0 + 2);
    t.wipe();
    assert.equal(t.traverseRead(() => {}), 0);
    t.close();
  });

  it("names the file and the reason when it cannot open", () => {
    assert.throws(
      () => Tdb.open(join(dir, "no", "such", "dir.tdb"), { tdbFlags: 0 }),
      (e: unknown) => e instanceof TdbError && /no\/such\/dir\.tdb/.test(e.message) && /ENOENT/.test(e.message),
    );
    assert.throws(() => Tdb.open(join(dir, "absent.tdb"), { tdbFlags: 0, create: false }), /ENOENT/);
  });

  it("refuses calls on a closed database", () => {
    const t = open("closed.tdb");
    t.close();
    assert.throws(() => t.fetch(k("a")), /closed/);
  });

  it("chain locks exclude another process, and are released with it", async () => {
    const file = join(dir, "locks.tdb");
    const t = Tdb.open(file, { tdbFlags: TdbFlag.DEFAULT });
    t.store(k("rec"), k("v"));
    // Another process takes the chain lock of "rec" and holds it until told.
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { Tdb } = await import(${JSON.stringify(new URL("../../src/database/tdb.js", import.meta.url).href)});
         const t = Tdb.open(${JSON.stringify(file)}, { tdbFlags: 0 });
         t.chainLock(Buffer.from("rec"));
         process.stdout.write("locked\\n");
         process.stdin.on("data", () => { t.chainUnlock(Buffer.from("rec")); process.stdout.write("unlocked\\n"); });`,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      const lines: string[] = [];
      const waitFor = (what: string) =>
        new Promise<void>((resolve, reject) => {
          const check = () => (lines.includes(what) ? resolve() : undefined);
          holder.stdout!.on("data", (d: Buffer) => {
            lines.push(...d.toString().split("\n").filter(Boolean));
            check();
          });
          holder.on("exit", () => reject(new Error(`holder exited before "${what}"`)));
          check();
        });
      await waitFor("locked");
      assert.equal(t.tryChainLock(k("rec")), false);
      holder.stdin!.write("go\n");
      await waitFor("unlocked");
      assert.equal(t.tryChainLock(k("rec")), true);
      t.chainUnlock(k("rec"));
    } finally {
      holder.kill("SIGKILL");
      t.close();
    }
  });

  it("writes files the real tdbdump and tdbtool read", { skip: existsSync("/usr/bin/tdbdump") ? false : "needs tdb-tools" }, () => {
    const file = join(dir, "tools.tdb");
    const t = Tdb.open(file, { tdbFlags: TdbFlag.INCOMPATIBLE_HASH | TdbFlag.NOSYNC, hashSize: 131 });
    t.store(k("alpha"), k("one"));
    t.store(k("beta"), Buffer.from([0, 1, 2]));
    t.close();
    const dump = execFileSync("/usr/bin/tdbdump", [file], { encoding: "utf8" });
    assert.match(dump, /key\(5\) = "alpha"\ndata\(3\) = "one"\n/);
    assert.match(dump, /key\(4\) = "beta"\ndata\(3\) = "\\00\\01\\02"\n/);
    const keys = execFileSync("/usr/bin/tdbtool", [file, "keys"], { encoding: "utf8" });
    assert.match(keys, /key 5 bytes: alpha/);
  });
});

describe("CTDB's hash", () => {
  it("is libtdb's Jenkins hash, for every key length around the 12-byte blocks", () => {
    for (let len = 0; len <= 40; len++) {
      for (let seed = 0; seed < 5; seed++) {
        const key = Buffer.alloc(len);
        for (let i = 0; i < len; i++) key[i] = (i * 131 + seed * 71 + len) & 0xff;
        assert.equal(jenkinsHash(key), tdbJenkinsHash(key), `length ${len} seed ${seed}`);
      }
    }
  });

  it("gives database ids of the name with its NUL", () => {
    assert.equal(dbIdOf("locking.tdb"), tdbJenkinsHash(Buffer.from("locking.tdb\0")));
    assert.equal(dbIdOf("locking.tdb"), 0x7a19d84d);
  });

  it("picks the lmaster from the vnnmap by hash modulo its size", () => {
    const key = k("some key");
    const h = jenkinsHash(key);
    assert.equal(lmasterOf(key, [4, 5, 6]), [4, 5, 6][h % 3]);
    assert.equal(lmasterOf(key, [9]), 9);
    assert.throws(() => lmasterOf(key, []), /empty vnnmap/);
  });
});
