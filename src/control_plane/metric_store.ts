/**
 * Metric samples as the handlers use them: the sample repository of the engine, the
 * per-worker storage quota kept up to date, live activity for the dashboard, and stored
 * samples read back with every known field present.
 *
 * @module
 */
import { type IncomingSample, ShownSampleSchema } from "./_deps.ts";
import type { LiveEvents } from "./live_events.ts";
import { parseColumn } from "./storage/json_column.ts";
import type { SampleRepository } from "./storage/repositories.ts";
import type { StorageQuota } from "./storage_quota.ts";

/** Samples with quota accounting and live activity. */
export class MetricStore {
  #samples: SampleRepository;
  #quota: StorageQuota | undefined;
  #events: LiveEvents | undefined;

  /** Creates the store over `samples`. */
  constructor(
    samples: SampleRepository,
    options: { quota?: StorageQuota; events?: LiveEvents } = {},
  ) {
    this.#samples = samples;
    this.#quota = options.quota;
    this.#events = options.events;
  }

  /** The repository underneath (for the chart series). */
  get repository(): SampleRepository {
    return this.#samples;
  }

  /** Stores new samples; a resent `(stream, seq)` counts as duplicate. */
  async insert(
    workerId: string,
    samples: readonly IncomingSample[],
  ): Promise<{ accepted: number; duplicates: number }> {
    const { accepted, duplicates, bytes } = await this.#samples.insert(workerId, samples);
    this.#quota?.add(workerId, bytes, accepted);
    if (accepted > 0) this.#events?.touch(workerId);
    return { accepted, duplicates };
  }

  /** Stores `fields` as the next sample of `workerId`'s stream `stream`. */
  async appendToStream(
    workerId: string,
    stream: string,
    ts: number,
    fields: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const sample = await this.#samples.appendToStream(workerId, stream, ts, fields);
    this.#events?.touch(workerId);
    return sample;
  }

  /**
   * The latest `limit` samples of `workerId` with `since <= ts <= until`, oldest first, every
   * known field present (null where the agent sent none).
   */
  async list(
    workerId: string,
    options: { since?: number; until?: number; limit: number },
  ): Promise<Record<string, unknown>[]> {
    return (await this.#samples.list(workerId, options)).map(readSample);
  }

  /** Deletes samples that arrived before `before` (Unix ms); returns how many. */
  async prune(before: number): Promise<number> {
    const freed = await this.#samples.prune(before);
    let rows = 0;
    for (const [workerId, entry] of freed) {
      this.#quota?.add(workerId, -entry.bytes, -entry.rows);
      rows += entry.rows;
    }
    return rows;
  }

  /** Forgets what is counted for `workerId` (its samples were deleted with it). */
  forgetWorker(workerId: string): void {
    this.#quota?.forget(workerId);
  }
}

/** A stored sample with every known field present; a damaged row reads as `{}`. */
function readSample(text: string): Record<string, unknown> {
  const raw = parseColumn<unknown>(text, {});
  const parsed = ShownSampleSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return raw !== null && typeof raw === "object" ? raw as Record<string, unknown> : {};
}
