/**
 * A per-worker bound on stored metric samples, in bytes. Together with the sample string and
 * array caps and the retention window, it bounds what one key can put on disk: a worker over
 * its quota gets 429 on the metrics endpoint until retention frees space, never a full disk.
 */
import type { DatabaseSync } from "node:sqlite";

/** Default quota per worker: 256 MiB of stored samples. */
export const DEFAULT_WORKER_QUOTA_BYTES = 256 * 1024 * 1024;

/**
 * Bytes a stored sample costs beyond its JSON text: key columns, row header, three index
 * entries and the room B-tree pages leave free. Measured with `bench/sample_storage_bench.ts`
 * (docs/benchmarks.md): a realistic 970-byte sample takes 1,487 bytes of database, 517 beyond
 * its text; a 255-byte one 206 beyond. Counting 512 matches the realistic sample and
 * overstates small ones, so the quota errs on the side of the disk.
 */
export const SAMPLE_ROW_OVERHEAD_BYTES = 512;

/** Usage of one worker over its quota (see {@linkcode StorageQuota.exceeded}). */
export interface QuotaUsage {
  usedBytes: number;
  limitBytes: number;
}

/**
 * Counts each worker's stored sample bytes (JSON text plus {@linkcode SAMPLE_ROW_OVERHEAD_BYTES}
 * per row). A worker's count is loaded from the database the first time it is needed and kept
 * up to date by the metric store afterwards.
 */
export class StorageQuota {
  #db: DatabaseSync;
  #limit: number;
  #used = new Map<string, number>();

  /** Creates the counter; `limitBytes` 0 or less turns the quota off. */
  constructor(db: DatabaseSync, options: { limitBytes?: number } = {}) {
    this.#db = db;
    this.#limit = options.limitBytes ?? DEFAULT_WORKER_QUOTA_BYTES;
  }

  /** The quota per worker in bytes (0: none). */
  get limitBytes(): number {
    return Math.max(0, this.#limit);
  }

  /** Usage when `workerId` is at or over its quota, else undefined. */
  exceeded(workerId: string): QuotaUsage | undefined {
    if (this.#limit <= 0) return undefined;
    const used = this.used(workerId);
    return used >= this.#limit ? { usedBytes: used, limitBytes: this.#limit } : undefined;
  }

  /** Stored bytes of `workerId`. */
  used(workerId: string): number {
    let used = this.#used.get(workerId);
    if (used === undefined) {
      const row = this.#db.prepare(
        `SELECT COALESCE(SUM(length(CAST(sample AS BLOB))), 0) AS bytes, COUNT(*) AS n
         FROM metric_samples WHERE worker_id = ?`,
      ).get(workerId) as { bytes: number; n: number };
      used = Number(row.bytes) + Number(row.n) * SAMPLE_ROW_OVERHEAD_BYTES;
      this.#used.set(workerId, used);
    }
    return used;
  }

  /** Records `bytes` of JSON text stored (positive) or deleted (negative) in `rows` rows. */
  add(workerId: string, bytes: number, rows: number): void {
    const used = this.#used.get(workerId);
    if (used === undefined) return; // loaded from the database when next needed
    this.#used.set(workerId, Math.max(0, used + bytes + rows * SAMPLE_ROW_OVERHEAD_BYTES));
  }

  /** Forgets the count of `workerId` (its samples were deleted). */
  forget(workerId: string): void {
    this.#used.delete(workerId);
  }
}
