/**
 * PostgreSQL's forward migrations: entry `i` brings the schema from version `i` to `i + 1`
 * (the logical schema is in `../schema.md`; SQLite's list is in `../sqlite/database.ts`).
 * Never edit a released entry: append a new one. Instances starting together take an
 * advisory lock, so each migration runs once.
 *
 * @module
 */
import {
  checkSchemaVersion,
  CREATE_SCHEMA_VERSION_TABLE,
  SELECT_SCHEMA_VERSION,
} from "../shared_rules.ts";
import type { Sql } from "./pg_types.ts";

/** Forward migrations of the PostgreSQL schema. */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    signing_key BYTEA NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
  );
  CREATE TABLE workers (
    worker_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE REFERENCES api_keys(id),
    hostname TEXT NOT NULL,
    platform TEXT NOT NULL,
    version TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    max_concurrency INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    current_load INTEGER NOT NULL DEFAULT 0,
    last_metrics TEXT,
    registered_at BIGINT NOT NULL,
    last_heartbeat BIGINT,
    instance_id TEXT,
    legacy BOOLEAN NOT NULL DEFAULT FALSE,
    last_registered_at BIGINT,
    metrics_posted_at BIGINT
  );
  CREATE INDEX workers_status_heartbeat ON workers(status, last_heartbeat);
  CREATE TABLE commands (
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    command_type TEXT NOT NULL,
    params TEXT NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deliver_until BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_delivery_at BIGINT,
    acked_at BIGINT,
    finished_at BIGINT,
    result TEXT
  );
  CREATE INDEX commands_worker_status ON commands(worker_id, status, created_at);
  CREATE INDEX commands_status_deadline ON commands(status, deadline_at);
  CREATE TABLE metric_samples (
    worker_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    seq BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    sample TEXT NOT NULL,
    PRIMARY KEY (worker_id, stream, seq)
  );
  CREATE INDEX metric_samples_worker_ts ON metric_samples(worker_id, ts);
  CREATE INDEX metric_samples_received ON metric_samples(received_at);
  `,
];

/** Advisory lock key of the migration (any constant distinct from the sweeper's). */
const MIGRATION_LOCK = 0x46544c01;

/** Applies every migration the database has not seen, each in its own transaction. */
export async function migratePostgres(sql: Sql, migrations = PG_MIGRATIONS): Promise<number> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe(CREATE_SCHEMA_VERSION_TABLE);
  });
  for (;;) {
    const applied = await sql.begin(async (tx) => {
      // Serialises instances that start at once: the second sees the first one's version.
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      const [row] = await tx.unsafe<{ v: number | null }[]>(SELECT_SCHEMA_VERSION);
      const current = row?.v ?? 0;
      checkSchemaVersion(current, migrations.length);
      if (current === migrations.length) return current;
      // A migration may rewrite a big table: no statement timeout for it.
      await tx`SET LOCAL statement_timeout = 0`;
      await tx.unsafe(migrations[current]!);
      await tx`INSERT INTO schema_version (version) VALUES (${current + 1})`;
      return -1;
    });
    if (applied >= 0) return applied;
  }
}
