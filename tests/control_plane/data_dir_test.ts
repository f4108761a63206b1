/**
 * The data dir holds key hashes and derived signing keys (also in SQLite's WAL) and the admin
 * token: it must be owner-only, whatever state it was found in.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { DATABASE_FILE, openDatabase } from "../../src/control_plane/storage/sqlite/database.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";

function modeOf(path: string): string {
  return ((Deno.statSync(path).mode ?? 0) & 0o777).toString(8).padStart(4, "0");
}

Deno.test({
  name:
    "a pre-existing 0755 data dir is tightened to 0700 and the database, WAL, SHM and admin token are 0600",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ftl-cp-modes-" });
    const previous = Deno.umask(0o022); // what most shells hand a service
    try {
      Deno.chmodSync(dir, 0o755);
      // A database left by an older version, world-readable like the umask made it.
      openDatabase(join(dir, DATABASE_FILE)).close();
      assertEquals(modeOf(join(dir, DATABASE_FILE)), "0644", "the test starts from a loose file");
      await using cp = await startControlPlane({
        dataDir: dir,
        env: { FTL_ADMIN_TOKEN: "" }, // so that a token file is generated
      });
      const res = await fetch(`${cp.baseUrl}/api/workers`); // some traffic for the WAL
      await res.body?.cancel();
      assertEquals(modeOf(dir), "0700");
      for (
        const name of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, "admin_token"]
      ) {
        assertEquals(modeOf(join(dir, name)), "0600", name);
      }
      assert(/the data dir was readable by other users; tightened/.test(cp.output()), cp.output());
    } finally {
      Deno.umask(previous);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the test helper hands the admin token to the control plane in the environment, not in argv",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using cp = await startControlPlane();
    const argv = await Deno.readTextFile(`/proc/${cp.pid}/cmdline`);
    assert(argv.includes("src/control_plane/main.ts"), "it is the control plane");
    assert(!argv.includes(cp.adminToken), "the token is not visible in ps");
    const res = await cp.admin("/api/workers");
    assertEquals(res.status, 200, "and the token works");
    await res.body?.cancel();
  },
});
