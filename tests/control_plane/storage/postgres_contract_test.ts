/**
 * The storage contract on PostgreSQL: one fresh database for the run (through
 * FTL_TEST_DATABASE_URL, see tests/_helpers/test_services.ts), emptied before each case,
 * dropped at the end.
 */
import { connectPostgresStorage } from "../../../src/control_plane/storage/postgres/pg_storage.ts";
import { freshDatabase } from "../../_helpers/test_services.ts";
import { Clock, CONTRACT, openOn } from "./storage_contract.ts";

Deno.test("storage contract (postgres)", async (t) => {
  await using database = await freshDatabase();
  const engine = await connectPostgresStorage(database.url, { poolSize: 8 });
  try {
    for (const [name, run] of CONTRACT) {
      await t.step(name, async () => {
        await engine.sql`TRUNCATE api_keys, workers, commands, metric_samples CASCADE`;
        const clock = new Clock();
        const opened = [openOn(engine, clock)];
        const another = () => {
          const storage = openOn(engine, clock);
          opened.push(storage);
          return storage;
        };
        try {
          await run({ engine, storage: opened[0]!, clock, another });
        } finally {
          for (const storage of opened) await storage.leadership.release();
        }
      });
    }
  } finally {
    await engine.close();
  }
});
