/**
 * A per-worker bound on stored metric samples, in bytes. Together with the sample string and
 * array caps and the retention window, it bounds what one key can put on disk: a worker over
 * its quota gets 429 on the metrics endpoint until retention frees space, never a full disk.
 */
import type { SampleRepository } from "./storage/repositories.ts";

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

/** A worker's count is read from the database again after this long (other instances). */
export const RECOUNT_EVERY_MS = 10 * 60_000;

/** Usage of one worker over its quota (see {@linkcode StorageQuota.exceeded}). */
export interface QuotaUsage {
  usedBytes: number;
  limitBytes: number;
}

/**
 * Counts each worker's stored sample bytes (JSON text plus {@linkcode SAMPLE_ROW_OVERHEAD_BYTES}
 * per row). A worker's count is loaded from the database the first time it is needed and kept
 * up to date by the metric store afterwards. The count is per instance: with several
 * instances over one database, each adds what it stores, and the count is read again from the
 * database every {@linkcode RECOUNT_EVERY_MS}, so what the others stored is seen within that.
 */
export class StorageQuota {
  #samples: SampleRepository;
  #limit: number;
  #now: () => number;
  #used = new Map<string, { bytes: number; loadedAt: number }>();

  /** Creates the counter; `limitBytes` 0 or less turns the quota off. */
  constructor(
    samples: SampleRepository,
    options: { limitBytes?: number; now?: () => number } = {},
  ) {
    this.#samples = samples;
    this.#limit = options.limitBytes ?? DEFAULT_WORKER_QUOTA_BYTES;
    this.#now = options.now ?? Date.now;
  }

  /** The quota per worker in bytes (0: none). */
  get limitBytes(): number {
    return Math.max(0, this.#limit);
  }

  /** Usage when `workerId` is at or over its quota, else undefined. */
  async exceeded(workerId: string): Promise<QuotaUsage | undefined> {
    if (this.#limit <= 0) return undefined;
    const used = await this.used(workerId);
    return used >= this.#limit ? { usedBytes: used, limitBytes: this.#limit } : undefined;
  }

  /** Stored bytes of `workerId`. */
  async used(workerId: string): Promise<number> {
    const known = this.#used.get(workerId);
    if (known !== undefined && this.#now() - known.loadedAt < RECOUNT_EVERY_MS) return known.bytes;
    const { bytes, rows } = await this.#samples.usage(workerId);
    const used = bytes + rows * SAMPLE_ROW_OVERHEAD_BYTES;
    this.#used.set(workerId, { bytes: used, loadedAt: this.#now() });
    return used;
  }

  /** Records `bytes` of JSON text stored (positive) or deleted (negative) in `rows` rows. */
  add(workerId: string, bytes: number, rows: number): void {
    const used = this.#used.get(workerId);
    if (used === undefined) return; // loaded from the database when next needed
    used.bytes = Math.max(0, used.bytes + bytes + rows * SAMPLE_ROW_OVERHEAD_BYTES);
  }

  /** Forgets the count of `workerId` (its samples were deleted). */
  forget(workerId: string): void {
    this.#used.delete(workerId);
  }
}
