/** Workers on PostgreSQL (see `WorkerRepository`). */
import type { HeartbeatRequest, RegisterRequest, WorkerStatus } from "../../_deps.ts";
import { parseColumn } from "../json_column.ts";
import { NotFoundError } from "../errors.ts";
import type { WorkerHolder, WorkerView } from "../records.ts";
import type { WorkerRepository } from "../repositories.ts";
import { cappedMetadata } from "../shared_rules.ts";
import type { Sql } from "./pg_types.ts";

/** A `workers` row. */
export interface PgWorkerRow {
  worker_id: string;
  key_id: string;
  hostname: string;
  platform: string;
  version: string;
  capabilities: string;
  max_concurrency: number;
  metadata: string;
  status: string;
  current_load: number;
  last_metrics: string | null;
  registered_at: number;
  last_heartbeat: number | null;
  instance_id: string | null;
  legacy: boolean;
  last_registered_at: number | null;
  metrics_posted_at: number | null;
}

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
    const [row] = await this.#sql<PgWorkerRow[]>`
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
    return toView(row!);
  }

  async heartbeat(workerId: string, request: HeartbeatRequest): Promise<WorkerView | undefined> {
    const metrics = request.metrics ? JSON.stringify(request.metrics) : null;
    const status = request.status ?? "online";
    const load = request.current_load ?? null;
    const patch = request.metadata;
    if (patch === undefined || Object.keys(patch).length === 0) {
      // The usual heartbeat: one round trip.
      const [row] = await this.#sql<PgWorkerRow[]>`
        UPDATE workers SET status = ${status}, current_load = COALESCE(${load}::int, current_load),
          last_metrics = COALESCE(${metrics}::text, last_metrics), last_heartbeat = ${this.#now()}
        WHERE worker_id = ${workerId} RETURNING *`;
      return row ? toView(row) : undefined;
    }
    return await this.#sql.begin(async (tx) => {
      const [current] = await tx<{ metadata: string }[]>`
        SELECT metadata FROM workers WHERE worker_id = ${workerId} FOR UPDATE`;
      if (!current) return undefined;
      const metadata = cappedMetadata({
        ...parseColumn<Record<string, unknown>>(current.metadata, {}),
        ...patch,
      });
      const [row] = await tx<PgWorkerRow[]>`
        UPDATE workers SET status = ${status}, current_load = COALESCE(${load}::int, current_load),
          last_metrics = COALESCE(${metrics}::text, last_metrics), metadata = ${metadata},
          last_heartbeat = ${this.#now()}
        WHERE worker_id = ${workerId} RETURNING *`;
      return row ? toView(row) : undefined;
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
    const [row] = await this.#sql<PgWorkerRow[]>`
      SELECT * FROM workers WHERE worker_id = ${workerId}`;
    return row ? toView(row) : undefined;
  }

  async byKey(keyId: string): Promise<WorkerView | undefined> {
    const [row] = await this.#sql<PgWorkerRow[]>`SELECT * FROM workers WHERE key_id = ${keyId}`;
    return row ? toView(row) : undefined;
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

/** The view of a stored row. */
export function toView(row: PgWorkerRow): WorkerView {
  const status = row.status as WorkerStatus;
  return {
    worker_id: row.worker_id,
    key_id: row.key_id,
    hostname: row.hostname,
    platform: row.platform,
    version: row.version,
    status,
    is_online: status !== "offline",
    capabilities: parseColumn<string[]>(row.capabilities, []),
    max_concurrency: row.max_concurrency,
    current_load: row.current_load,
    metadata: parseColumn<Record<string, unknown>>(row.metadata, {}),
    metrics: parseColumn<Record<string, unknown> | null>(row.last_metrics, null),
    registered_at: row.registered_at,
    last_heartbeat: row.last_heartbeat,
    last_heartbeat_iso: row.last_heartbeat === null
      ? null
      : new Date(row.last_heartbeat).toISOString(),
    legacy: row.legacy,
    last_registered_at: row.last_registered_at,
    metrics_posted_at: row.metrics_posted_at,
  };
}
