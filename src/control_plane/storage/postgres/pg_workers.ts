/** Workers on PostgreSQL (see `WorkerRepository`). */
import type { HeartbeatRequest, RegisterRequest } from "../../_deps.ts";
import { parseColumn } from "../json_column.ts";
import { NotFoundError } from "../errors.ts";
import type { WorkerHolder, WorkerView } from "../records.ts";
import type { WorkerRepository } from "../repositories.ts";
import { type WorkerRow, workerViewOf } from "../row_views.ts";
import { cappedMetadata } from "../shared_rules.ts";
import type { Sql } from "./pg_types.ts";

/** Worker storage on PostgreSQL. */
export class PgWorkers implements WorkerRepository {
  #sql: Sql;
  #now: () => number;
  #newId: () => string;

  /** Creates the repository; `newId` makes worker ids. */
  constructor(sql: Sql, options: { now: () => number; newId: () => string }) {
    this.#sql = sql;
    this.#now = options.now;
    this.#newId = options.newId;
  }

  async register(keyId: string, request: RegisterRequest): Promise<WorkerView> {
    const now = this.#now();
    const metadata = cappedMetadata(request.metadata ?? {});
    const capabilities = JSON.stringify(request.capabilities ?? []);
    const instanceId = request.instance_id ?? null;
    // One statement: two instances registering the same key at once end with one worker.
    const [row] = await this.#sql<WorkerRow[]>`
      INSERT INTO workers (worker_id, key_id, hostname, platform, version, capabilities,
        max_concurrency, metadata, status, current_load, registered_at, last_heartbeat,
        instance_id, legacy, last_registered_at)
      VALUES (${this.#newId()}, ${keyId}, ${request.hostname}, ${request.platform},
        ${request.version}, ${capabilities}, ${request.max_concurrency ?? 1}, ${metadata},
        'online', 0, ${now}, ${now}, ${instanceId}, ${instanceId === null}, ${now})
      ON CONFLICT (key_id) DO UPDATE SET hostname = EXCLUDED.hostname,
        platform = EXCLUDED.platform, version = EXCLUDED.version,
        capabilities = EXCLUDED.capabilities, max_concurrency = EXCLUDED.max_concurrency,
        metadata = EXCLUDED.metadata, status = 'online', last_heartbeat = EXCLUDED.last_heartbeat,
        instance_id = EXCLUDED.instance_id, legacy = EXCLUDED.legacy,
        last_registered_at = EXCLUDED.last_registered_at
      RETURNING *`;
    return workerViewOf(row!);
  }

  async heartbeat(workerId: string, request: HeartbeatRequest): Promise<WorkerView | undefined> {
    const metrics = request.metrics ? JSON.stringify(request.metrics) : null;
    const status = request.status ?? "online";
    const load = request.current_load ?? null;
    const patch = request.metadata;
    if (patch === undefined || Object.keys(patch).length === 0) {
      // The usual heartbeat: one round trip.
      const [row] = await this.#sql<WorkerRow[]>`
        UPDATE workers SET status = ${status}, current_load = COALESCE(${load}::int, current_load),
          last_metrics = COALESCE(${metrics}::text, last_metrics), last_heartbeat = ${this.#now()}
        WHERE worker_id = ${workerId} RETURNING *`;
      return row ? workerViewOf(row) : undefined;
    }
    return await this.#sql.begin(async (tx) => {
      const [current] = await tx<{ metadata: string }[]>`
        SELECT metadata FROM workers WHERE worker_id = ${workerId} FOR UPDATE`;
      if (!current) return undefined;
      const metadata = cappedMetadata({
        ...parseColumn<Record<string, unknown>>(current.metadata, {}),
        ...patch,
      });
      const [row] = await tx<WorkerRow[]>`
        UPDATE workers SET status = ${status}, current_load = COALESCE(${load}::int, current_load),
          last_metrics = COALESCE(${metrics}::text, last_metrics), metadata = ${metadata},
          last_heartbeat = ${this.#now()}
        WHERE worker_id = ${workerId} RETURNING *`;
      return row ? workerViewOf(row) : undefined;
    });
  }

  async holderOf(keyId: string): Promise<WorkerHolder | undefined> {
    const [row] = await this.#sql<WorkerHolder[]>`
      SELECT worker_id, instance_id, hostname, status, last_heartbeat FROM workers
      WHERE key_id = ${keyId}`;
    return row ? { ...row } : undefined;
  }

  async noteMetricsPost(workerId: string): Promise<void> {
    await this.#sql`
      UPDATE workers SET metrics_posted_at = ${this.#now()} WHERE worker_id = ${workerId}`;
  }

  async get(workerId: string): Promise<WorkerView | undefined> {
    const [row] = await this.#sql<WorkerRow[]>`
      SELECT * FROM workers WHERE worker_id = ${workerId}`;
    return row ? workerViewOf(row) : undefined;
  }

  async byKey(keyId: string): Promise<WorkerView | undefined> {
    const [row] = await this.#sql<WorkerRow[]>`SELECT * FROM workers WHERE key_id = ${keyId}`;
    return row ? workerViewOf(row) : undefined;
  }

  async delete(workerId: string): Promise<void> {
    const deleted = await this.#sql.begin(async (tx) => {
      await tx`DELETE FROM commands WHERE worker_id = ${workerId}`;
      await tx`DELETE FROM metric_samples WHERE worker_id = ${workerId}`;
      const result = await tx`DELETE FROM workers WHERE worker_id = ${workerId}`;
      return result.count;
    });
    if (deleted === 0) throw new NotFoundError(`No worker ${workerId}`);
  }

  async markStaleOffline(before: number): Promise<string[]> {
    const rows = await this.#sql<{ worker_id: string }[]>`
      UPDATE workers SET status = 'offline'
      WHERE status != 'offline' AND COALESCE(last_heartbeat, registered_at) < ${before}
      RETURNING worker_id`;
    return rows.map((r) => r.worker_id);
  }
}
