/**
 * The PostgreSQL adapter (the `postgres` package): several control-plane instances over one
 * database. A bounded pool; the schema migrated at connect; connection errors become
 * {@linkcode UnavailableError} (HTTP 503 with `Retry-After`), never a crash.
 *
 * @module
 */
import type { Logger } from "../../../log/logger.ts";
import { ConflictError, InvalidInputError, UnavailableError } from "../errors.ts";
import { guarded, InFlightLimit } from "../guarded.ts";
import { redactUrl, redactUrlsIn } from "../redact_url.ts";
import type { Storage, StorageEngine, StorageOptions } from "../repositories.ts";
import { PgCommands } from "./pg_commands.ts";
import { PgFleet } from "./pg_fleet.ts";
import { PgKeys } from "./pg_keys.ts";
import { PgLeadership } from "./pg_leadership.ts";
import { migratePostgres } from "./pg_migrations.ts";
import { PgSamples } from "./pg_samples.ts";
import { postgres, type Sql } from "./pg_types.ts";
import { PgWorkers } from "./pg_workers.ts";

/** Default most connections in the pool (one is held by the sweeper's election). */
export const DEFAULT_POOL_SIZE = 10;

/**
 * Longest a statement may run (PostgreSQL's `statement_timeout`): a hung or overloaded server
 * answers 503 instead of holding requests and pool connections without end.
 */
export const STATEMENT_TIMEOUT_MS = 30_000;

/** Options of {@linkcode connectPostgresStorage}. */
export interface PostgresStorageOptions {
  /** Most connections. @default {DEFAULT_POOL_SIZE} */
  poolSize?: number;
  /** Seconds to wait for a connection. @default {5} */
  connectTimeoutSeconds?: number;
  /** Where connection trouble is reported. */
  logger?: Logger;
  /** Longest a statement may run. @default {STATEMENT_TIMEOUT_MS} */
  statementTimeoutMs?: number;
  /** Repository calls waiting at once before more get 503. @default {MAX_IN_FLIGHT} */
  maxInFlight?: number;
}

/** Default bound on repository calls waiting for the pool at once. */
export const MAX_IN_FLIGHT = 2000;

/** Node and `postgres` error codes that mean "the server cannot be reached now". */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/** PostgreSQL's errors as domain errors (see `guarded.ts`). */
export function translatePostgresError(error: unknown): unknown {
  const code = String((error as { code?: unknown })?.code ?? "");
  const message = redactUrlsIn(String((error as Error)?.message ?? error));
  if (code === "23505") return new ConflictError("Conflicts with a stored value", { cause: error });
  // Class 22, data exceptions: a value PostgreSQL cannot hold (a NUL character in text, a number
  // out of range). SQLite stores such values; here the request is refused, not a server error.
  if (code.startsWith("22")) {
    return new InvalidInputError(`A value cannot be stored: ${message}`, { cause: error });
  }
  if (
    CONNECTION_CODES.has(code) || code.startsWith("08") || code.startsWith("57P") ||
    code === "53300" || code === "40001" || code === "40P01" || code === "57014" ||
    error instanceof Deno.errors.ConnectionRefused
  ) {
    return new UnavailableError(`The database is unavailable (${message}); retry shortly`, {
      retryAfterSeconds: 2,
      cause: error,
    });
  }
  return error;
}

/** A PostgreSQL storage engine; `sql` is the pool (tests use it directly). */
export interface PostgresEngine extends StorageEngine {
  readonly engine: "postgres";
  readonly sql: Sql;
}

/**
 * Connects to `url` (`postgres://user:password@host:port/db`), migrates the schema and
 * returns the engine. Throws {@linkcode UnavailableError} when the server cannot be reached,
 * with the password left out of the message.
 */
export async function connectPostgresStorage(
  url: string,
  options: PostgresStorageOptions = {},
): Promise<PostgresEngine> {
  const sql = postgres(url, {
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: 60,
    onnotice: () => {},
    // Unix ms and counts are BIGINT; every value fits a double exactly.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
    connection: {
      application_name: "ftl-control-plane",
      statement_timeout: options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
    },
  }) as unknown as Sql;
  try {
    await migratePostgres(sql);
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const translated = translatePostgresError(error);
    if (translated instanceof UnavailableError) {
      throw new UnavailableError(
        `cannot reach PostgreSQL at ${redactUrl(url)}: ${
          redactUrlsIn(String((error as Error)?.message ?? error))
        }`,
        { cause: error },
      );
    }
    throw translated;
  }
  return postgresEngineOf(sql, options);
}

/** The engine over an open pool; `close()` ends it. */
export function postgresEngineOf(sql: Sql, options: PostgresStorageOptions = {}): PostgresEngine {
  const leaderships: PgLeadership[] = [];
  const limit = new InFlightLimit(options.maxInFlight ?? MAX_IN_FLIGHT);
  return {
    engine: "postgres",
    sql,
    open: (storageOptions) => {
      const storage = postgresStorage(sql, storageOptions, options, limit);
      leaderships.push(storage.leadership as PgLeadership);
      return storage;
    },
    close: async () => {
      for (const leadership of leaderships) await leadership.release();
      await sql.end({ timeout: 5 });
    },
  };
}

/** The repositories over the pool `sql`. */
export function postgresStorage(
  sql: Sql,
  options: StorageOptions,
  engineOptions: PostgresStorageOptions = {},
  limit: InFlightLimit = new InFlightLimit(engineOptions.maxInFlight ?? MAX_IN_FLIGHT),
): Storage {
  const { now, ids, timing } = options;
  const wrap = <T extends object>(target: T) => guarded(target, translatePostgresError, limit);
  return {
    engine: "postgres",
    keys: wrap(new PgKeys(sql, { now, newId: ids.key })),
    workers: wrap(new PgWorkers(sql, { now, newId: ids.worker })),
    commands: wrap(new PgCommands(sql, { now, newId: ids.command, timing })),
    samples: wrap(new PgSamples(sql, { now })),
    fleet: wrap(new PgFleet(sql)),
    leadership: new PgLeadership(sql, {
      ...(engineOptions.logger ? { logger: engineOptions.logger } : {}),
    }),
    ping: async () => {
      try {
        await sql`SELECT 1`;
      } catch (error) {
        throw translatePostgresError(error);
      }
    },
  };
}
