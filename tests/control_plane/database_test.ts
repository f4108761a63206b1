/** The SQLite schema and its forward migrations. */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  MIGRATIONS,
  openDatabase,
  schemaVersion,
} from "../../src/control_plane/storage/sqlite/database.ts";

Deno.test("openDatabase() applies every migration once and uses WAL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-db-" });
  try {
    const path = `${dir}/control-plane.db`;
    const db = openDatabase(path);
    assertEquals(schemaVersion(db), MIGRATIONS.length);
    const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    assertEquals(mode.journal_mode, "wal");
    db.close();
    const again = openDatabase(path);
    const rows = again.prepare("SELECT COUNT(*) AS n FROM schema_version").get() as { n: number };
    assertEquals(rows.n, MIGRATIONS.length, "reopening applies nothing twice");
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openDatabase() refuses a database from a newer control plane", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-db-" });
  try {
    const path = `${dir}/control-plane.db`;
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    raw.prepare("INSERT INTO schema_version (version) VALUES (?)").run(MIGRATIONS.length + 1);
    raw.close();
    throws(() => openDatabase(path), (e: Error) => {
      assert(e instanceof RangeError);
      assert(e.message.includes("upgrade the control plane"));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
