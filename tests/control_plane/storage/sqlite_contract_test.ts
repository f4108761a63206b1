/** The storage contract on SQLite (a fresh in-memory database per case). */
import { openSqliteStorage } from "../../../src/control_plane/storage/sqlite/sqlite_storage.ts";
import { Clock, CONTRACT, openOn } from "./storage_contract.ts";

for (const [name, run] of CONTRACT) {
  Deno.test(`storage contract (sqlite): ${name}`, async () => {
    const engine = openSqliteStorage(":memory:");
    const clock = new Clock();
    try {
      await run({
        engine,
        storage: openOn(engine, clock),
        clock,
        another: () => openOn(engine, clock),
      });
    } finally {
      await engine.close();
    }
  });
}
