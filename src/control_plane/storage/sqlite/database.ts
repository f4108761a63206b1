/** The control plane's SQLite database (`node:sqlite`, WAL) and its forward migrations. */
import { DatabaseSync } from "node:sqlite";
import {
  checkSchemaVersion,
  CREATE_SCHEMA_VERSION_TABLE,
  SELECT_SCHEMA_VERSION,
} from "../shared_rules.ts";

/** File name of the database inside the data dir. */
export const DATABASE_FILE = "control-plane.db";

/**
 * Forward migrations, applied in order; entry `i` brings the schema from version `i` to
 * `i + 1`. Never edit a released entry: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    signing_key BLOB NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
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
    registered_at INTEGER NOT NULL,
    last_heartbeat INTEGER
  );
  CREATE TABLE commands (
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    command_type TEXT NOT NULL,
    params TEXT NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deliver_until INTEGER NOT NULL,
    deadline_at INTEGER NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    last_delivery_at INTEGER,
    acked_at INTEGER,
    finished_at INTEGER,
    result TEXT
  );
  CREATE INDEX commands_worker_status ON commands(worker_id, status, created_at);
  CREATE INDEX commands_status_deadline ON commands(status, deadline_at);
  CREATE TABLE metric_samples (
    worker_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    sample TEXT NOT NULL,
    PRIMARY KEY (worker_id, stream, seq)
  );
  CREATE INDEX metric_samples_worker_ts ON metric_samples(worker_id, ts);
  `,
  // 1 → 2: retention pruning deletes by arrival time.
  `CREATE INDEX metric_samples_received ON metric_samples(received_at);`,
  // 2 → 3 (protocol v1.1): the instance that holds a worker's key (NULL: a legacy
  // FineTuneLab agent, which sends none), when the worker last registered, and when it last
  // used the metrics endpoint (heartbeat metrics become history for workers that do not).
  `
  ALTER TABLE workers ADD COLUMN instance_id TEXT;
  ALTER TABLE workers ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE workers ADD COLUMN last_registered_at INTEGER;
  ALTER TABLE workers ADD COLUMN metrics_posted_at INTEGER;
  `,
];

/**
 * Opens (creating if needed) the database at `path` in WAL mode and applies every
 * migration it has not seen yet, each in its own transaction.
 */
export function openDatabase(path: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw naming(error, path);
  }
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db);
  } catch (error) {
    db.close();
    // SQLite's own messages ("file is not a database", "database or disk is full") do not
    // say which file; a startup failure must.
    throw error instanceof RangeError ? error : naming(error, path);
  }
  return db;
}

function naming(error: unknown, path: string): unknown {
  if (!(error instanceof Error) || error.message.includes(path)) return error;
  return new Error(`${error.message}: ${path}`, { cause: error });
}

/** The schema version recorded in `db` (0 for an empty database). */
export function schemaVersion(db: DatabaseSync): number {
  db.exec(CREATE_SCHEMA_VERSION_TABLE);
  const row = db.prepare(SELECT_SCHEMA_VERSION).get() as
    | { v: number | null }
    | undefined;
  return row?.v ?? 0;
}

function migrate(db: DatabaseSync): void {
  const current = schemaVersion(db);
  checkSchemaVersion(current, MIGRATIONS.length);
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[version]!);
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version + 1);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}
