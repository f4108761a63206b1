/**
 * The storage contract on PostgreSQL: one fresh database for the run (through
 * FTL_TEST_DATABASE_URL, see tests/_helpers/test_services.ts), emptied before each case,
 * dropped at the end.
 */
import {
  connectPostgresStorage,
  translatePostgresError,
} from "../../../src/control_plane/storage/postgres/pg_storage.ts";
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { InvalidInputError, UnavailableError } from "../../../src/control_plane/storage/errors.ts";
import { freshDatabase } from "../../_helpers/test_services.ts";
import { registerBody, sample } from "../_fixtures.ts";
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

Deno.test("postgres: a value PostgreSQL cannot hold (NUL in text) is invalid input, not a crash", async () => {
  await using database = await freshDatabase();
  const engine = await connectPostgresStorage(database.url, { poolSize: 2 });
  try {
    const storage = openOn(engine, new Clock());
    const { record } = await storage.keys.create("k");
    await rejects(
      storage.workers.register(record.id, registerBody({ hostname: "a\u0000b" }) as never),
      InvalidInputError,
    );
    await rejects(
      storage.samples.insert("wkr_x", [{ ...sample("s\u0000", 1) }]),
      InvalidInputError,
    );
    assertEquals((await storage.keys.list()).length, 1, "the database still answers");
  } finally {
    await engine.close();
  }
});

Deno.test("postgres: a statement past the statement timeout is Unavailable (503), not a hang", async () => {
  await using database = await freshDatabase();
  const engine = await connectPostgresStorage(database.url, {
    poolSize: 2,
    statementTimeoutMs: 100,
  });
  try {
    const error = await engine.sql`SELECT pg_sleep(2)`.then(() => undefined, (e) => e);
    assertEquals(error?.code, "57014");
    assert(translatePostgresError(error) instanceof UnavailableError);
    await openOn(engine, new Clock()).ping();
  } finally {
    await engine.close();
  }
});

Deno.test("postgres: calls past the in-flight bound are refused at once with Unavailable", async () => {
  await using database = await freshDatabase();
  const engine = await connectPostgresStorage(database.url, { poolSize: 1, maxInFlight: 3 });
  try {
    const storage = openOn(engine, new Clock());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => storage.keys.list()),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    assertEquals(outcomes.length - refused.length, 3);
    for (const o of refused) {
      assert((o as PromiseRejectedResult).reason instanceof UnavailableError);
    }
    assertEquals((await storage.keys.list()).length, 0, "served again once the others are done");
  } finally {
    await engine.close();
  }
});
