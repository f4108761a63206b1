/** The `postgres` package's types as this adapter uses them. */
import postgres from "postgres";

/** A connection pool (or a transaction or reserved connection: the same query interface). */
export type Sql = postgres.Sql<{ bigint: number }>;

/** Options of the pool this adapter opens. */
export type PoolOptions = postgres.Options<{ bigint: postgres.PostgresType<number> }>;

export { postgres };
