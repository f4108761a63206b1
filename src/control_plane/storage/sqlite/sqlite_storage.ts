/**
 * The SQLite adapter: one file in the data dir (`node:sqlite`, WAL), the embedded default.
 * One process owns the file, so it is always the sweeper's leader.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { ConflictError, UnavailableError } from "../errors.ts";
import { guarded } from "../guarded.ts";
import type { Storage, StorageEngine, StorageOptions } from "../repositories.ts";
import { openDatabase } from "./database.ts";
import { SqliteCommands } from "./sqlite_commands.ts";
import { SqliteFleet } from "./sqlite_fleet.ts";
import { SqliteKeys } from "./sqlite_keys.ts";
import { SqliteSamples } from "./sqlite_samples.ts";
import { SqliteWorkers } from "./sqlite_workers.ts";

/** Whether `error` is SQLite's "database is locked/busy" after `busy_timeout` ran out. */
export function isDatabaseBusy(error: unknown): boolean {
  return error instanceof Error &&
    (error as { code?: unknown }).code === "ERR_SQLITE_ERROR" &&
    /\bdatabase (table )?is (locked|busy)\b/i.test(error.message);
}

/** SQLite's errors as domain errors (see `guarded.ts`). */
export function translateSqliteError(error: unknown): unknown {
  if (isDatabaseBusy(error)) {
    return new UnavailableError("The database is busy; retry shortly", { cause: error });
  }
  if (error instanceof Error && /\bUNIQUE constraint failed\b/.test(error.message)) {
    return new ConflictError("Conflicts with a stored value", { cause: error });
  }
  return error;
}

/** A SQLite storage engine; `db` is the open database (tests and tools read it directly). */
export interface SqliteEngine extends StorageEngine {
  readonly engine: "sqlite";
  readonly db: DatabaseSync;
}

/** Opens (creating and migrating) the database at `path` (`:memory:` for tests). */
export function openSqliteStorage(path: string): SqliteEngine {
  return sqliteEngineOf(openDatabase(path));
}

/** A storage engine over an already open database; `close()` closes it. */
export function sqliteEngineOf(db: DatabaseSync): SqliteEngine {
  return {
    engine: "sqlite",
    db,
    open: (options) => sqliteStorage(db, options),
    close: () => {
      if (db.isOpen) db.close();
      return Promise.resolve();
    },
  };
}

/** The repositories over `db`. */
export function sqliteStorage(db: DatabaseSync, options: StorageOptions): Storage {
  const { now, ids, timing } = options;
  const wrap = <T extends object>(target: T) => guarded(target, translateSqliteError);
  return {
    engine: "sqlite",
    keys: wrap(new SqliteKeys(db, { now, newId: ids.key })),
    workers: wrap(new SqliteWorkers(db, { now, newId: ids.worker })),
    commands: wrap(new SqliteCommands(db, { now, newId: ids.command, timing })),
    samples: wrap(new SqliteSamples(db, { now })),
    fleet: wrap(new SqliteFleet(db)),
    leadership: { tryLead: () => Promise.resolve(true), release: () => Promise.resolve() },
    ping: () => {
      try {
        db.prepare("SELECT 1").get();
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(translateSqliteError(error));
      }
    },
  };
}
