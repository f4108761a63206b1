/** Workers on SQLite (see `WorkerRepository`). */
import type { DatabaseSync } from "node:sqlite";
import type { HeartbeatRequest, RegisterRequest } from "../../_deps.ts";
import { parseColumn } from "../json_column.ts";
import { NotFoundError } from "../errors.ts";
import type { WorkerHolder, WorkerView } from "../records.ts";
import type { WorkerRepository } from "../repositories.ts";
import { type WorkerRow, workerViewOf } from "../row_views.ts";
import { cappedMetadata } from "../shared_rules.ts";

/** Worker storage on the SQLite database. */
export class SqliteWorkers implements WorkerRepository {
  #db: DatabaseSync;
  #now: () => number;
  #newId: () => string;

  /** Creates the store; `newId` makes worker ids (`wkr_` + 24 of `[a-z0-9]`). */
  constructor(db: DatabaseSync, options: { now: () => number; newId: () => string }) {
    this.#db = db;
    this.#now = options.now;
    this.#newId = options.newId;
  }

  /**
   * Registers the worker of key `keyId`: the first call creates it, later calls update it
   * and return the same worker id (protocol 2, one worker per key). The request's
   * `instance_id` becomes the key's holder; without one the worker is legacy (v1.1).
   * Whether this instance may take the key is checked before (see `instance_claim.ts`).
   */
  register(keyId: string, request: RegisterRequest): Promise<WorkerView> {
    const now = this.#now();
    const metadata = cappedMetadata(request.metadata ?? {});
    const capabilities = JSON.stringify(request.capabilities ?? []);
    const instanceId = request.instance_id ?? null;
    const row = this.#db.prepare(
      `INSERT INTO workers (worker_id, key_id, hostname, platform, version, capabilities,
         max_concurrency, metadata, status, current_load, registered_at, last_heartbeat,
         instance_id, legacy, last_registered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'online', 0, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id) DO UPDATE SET hostname = excluded.hostname,
         platform = excluded.platform, version = excluded.version,
         capabilities = excluded.capabilities, max_concurrency = excluded.max_concurrency,
         metadata = excluded.metadata, status = 'online', last_heartbeat = excluded.last_heartbeat,
         instance_id = excluded.instance_id, legacy = excluded.legacy,
         last_registered_at = excluded.last_registered_at
       RETURNING *`,
    ).get(
      this.#newId(),
      keyId,
      request.hostname,
      request.platform,
      request.version,
      capabilities,
      request.max_concurrency ?? 1,
      metadata,
      now,
      now,
      instanceId,
      instanceId === null ? 1 : 0,
      now,
    ) as unknown as WorkerRow;
    return Promise.resolve(workerViewOf(row));
  }

  /** Records a heartbeat: status, load, latest flat metrics, metadata merged shallowly. */
  heartbeat(workerId: string, request: HeartbeatRequest): Promise<WorkerView | undefined> {
    const patch = request.metadata;
    let metadata: string | null = null;
    if (patch !== undefined && Object.keys(patch).length > 0) {
      const current = this.#db.prepare("SELECT metadata FROM workers WHERE worker_id = ?").get(
        workerId,
      ) as { metadata: string } | undefined;
      if (!current) return Promise.resolve(undefined);
      metadata = cappedMetadata({
        ...parseColumn<Record<string, unknown>>(current.metadata, {}),
        ...patch,
      });
    }
    // The usual heartbeat (no metadata): one statement.
    const row = this.#db.prepare(
      `UPDATE workers SET status = ?, current_load = COALESCE(?, current_load),
         last_metrics = COALESCE(?, last_metrics), metadata = COALESCE(?, metadata),
         last_heartbeat = ?
       WHERE worker_id = ? RETURNING *`,
    ).get(
      request.status ?? "online",
      request.current_load ?? null,
      request.metrics ? JSON.stringify(request.metrics) : null,
      metadata,
      this.#now(),
      workerId,
    ) as WorkerRow | undefined;
    return Promise.resolve(row ? workerViewOf(row) : undefined);
  }

  /** Who holds key `keyId` now, if a worker registered with it. */
  holderOf(keyId: string): Promise<WorkerHolder | undefined> {
    const row = this.#db.prepare(
      `SELECT worker_id, instance_id, hostname, status, last_heartbeat FROM workers
       WHERE key_id = ?`,
    ).get(keyId) as WorkerHolder | undefined;
    return Promise.resolve(row ? { ...row } : undefined);
  }

  /** Notes a `POST …/metrics` of `workerId` now (heartbeat metrics stop becoming history). */
  noteMetricsPost(workerId: string): Promise<void> {
    this.#db.prepare("UPDATE workers SET metrics_posted_at = ? WHERE worker_id = ?").run(
      this.#now(),
      workerId,
    );
    return Promise.resolve();
  }

  /** The worker with id `workerId`. */
  get(workerId: string): Promise<WorkerView | undefined> {
    const row = this.#db.prepare("SELECT * FROM workers WHERE worker_id = ?").get(workerId) as
      | WorkerRow
      | undefined;
    return Promise.resolve(row ? workerViewOf(row) : undefined);
  }

  /** The worker bound to key `keyId`, if it registered. */
  byKey(keyId: string): Promise<WorkerView | undefined> {
    const row = this.#db.prepare("SELECT * FROM workers WHERE key_id = ?").get(keyId) as
      | WorkerRow
      | undefined;
    return Promise.resolve(row ? workerViewOf(row) : undefined);
  }

  /** Deletes a worker with its commands and samples; returns false when unknown. */
  delete(workerId: string): Promise<void> {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.prepare("DELETE FROM commands WHERE worker_id = ?").run(workerId);
      this.#db.prepare("DELETE FROM metric_samples WHERE worker_id = ?").run(workerId);
      const result = this.#db.prepare("DELETE FROM workers WHERE worker_id = ?").run(workerId);
      this.#db.exec("COMMIT");
      if (Number(result.changes) === 0) throw new NotFoundError(`No worker ${workerId}`);
      return Promise.resolve();
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Marks offline every worker whose last heartbeat is older than `before`; returns ids. */
  markStaleOffline(before: number): Promise<string[]> {
    const rows = this.#db.prepare(
      `UPDATE workers SET status = 'offline'
       WHERE status != 'offline' AND COALESCE(last_heartbeat, registered_at) < ?
       RETURNING worker_id`,
    ).all(before) as unknown as { worker_id: string }[];
    return Promise.resolve(rows.map((r) => r.worker_id));
  }
}
