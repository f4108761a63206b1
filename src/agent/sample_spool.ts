/**
 * Bounded on-disk spool of metrics samples (protocol 3.3, 8): a durable queue
 * (`state/durable_queue.ts`) whose key is the sample's `seq`.
 *
 * @module
 */
import { z } from "zod";
import type { Logger } from "../log/logger.ts";
import {
  type Measurement,
  parseJson,
  type Sample,
  SampleSchema,
  stampSample,
} from "../protocol/mod.ts";
import { writeFileAtomic } from "../shared/atomic_write.ts";
import type { Wake } from "../shared/wake.ts";
import { DurableQueue } from "../state/durable_queue.ts";
import type { StateBudget } from "../state/state_budget.ts";

/** Folder of the spool inside the state dir. */
export const SAMPLE_SPOOL_DIR = "outbox/samples";
const META_FILE = "meta.json";
const MetaSchema = z.object({
  stream: z.string(),
  next_seq: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
});

/** Options of {@linkcode SampleSpool.open}. */
export interface SampleSpoolOptions {
  /** The state dir's stream id. */
  stream: string;
  /** The state dir's budget (`state_max_mb`), shared with the result outbox. */
  budget: StateBudget;
  /** Where drops are logged (at most one warning per {@linkcode DROP_LOG_INTERVAL_MS}). */
  logger: Logger;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
}

/** Least time between two "dropped the oldest samples" warnings; the ones between go to debug. */
export const DROP_LOG_INTERVAL_MS = 10 * 60_000;

/**
 * Every sample is written to `<state_dir>/outbox/samples/<seq>.json` before it is sent and
 * removed after the server accepted it (or answered that it is a duplicate). The spool stamps
 * each sample with the state dir's `stream` and the next `seq` (the collector only measures),
 * and keeps the next value in `meta.json`, so `seq` is gap-free across restarts; the only
 * gaps are samples dropped because the budget was used up, and those are counted in
 * `dropped` and logged. The spool gets what results leave of the state dir's budget
 * (`state_budget.ts`); files are counted in whole disk blocks.
 */
export class SampleSpool {
  #dir: string;
  #queue: DurableQueue<Sample>;
  #stream: string;
  #budget: StateBudget;
  #logger: Logger;
  #now: () => number;
  #lastDropLog = -Infinity;
  #dropped: number;

  private constructor(
    dir: string,
    queue: DurableQueue<Sample>,
    options: SampleSpoolOptions,
    dropped: number,
  ) {
    this.#dir = dir;
    this.#queue = queue;
    this.#stream = options.stream;
    this.#budget = options.budget;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#dropped = dropped;
  }

  /** Opens (creating) the spool under `stateDir` and loads what an earlier run left. */
  static async open(stateDir: string, options: SampleSpoolOptions): Promise<SampleSpool> {
    const dir = `${stateDir}/${SAMPLE_SPOOL_DIR}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    let meta: z.infer<typeof MetaSchema> | undefined;
    try {
      const parsed = parseJson(MetaSchema, await Deno.readTextFile(`${dir}/${META_FILE}`));
      if (parsed.ok && parsed.value.stream === options.stream) meta = parsed.value;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const queue = await DurableQueue.open(dir, {
      schema: SampleSchema,
      budget: options.budget,
      part: "samples",
      holdValues: false,
      firstKey: meta?.next_seq ?? 0,
    });
    return new SampleSpool(dir, queue, options, meta?.dropped ?? 0);
  }

  /** The stream id samples carry. */
  get stream(): string {
    return this.#stream;
  }

  /** The `seq` the next stored sample gets. */
  get nextSeq(): number {
    return this.#queue.nextKey;
  }

  /** Samples waiting to be sent. */
  get depth(): number {
    return this.#queue.depth;
  }

  /** Samples dropped because the spool was full, over the life of this stream. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Woken whenever a sample is added. */
  get wake(): Wake {
    return this.#queue.wake;
  }

  /**
   * Stamps `measurement` with the stream and the next `seq` and stores it, dropping the
   * oldest samples first when the budget would be passed. When results leave no room even
   * with the spool empty, the new sample is dropped too (its `seq` is used and counted).
   * Resolves with the stamped sample. A measurement that already carries another stream or
   * `seq` is refused (`RangeError`): only the spool stamps.
   */
  async add(measurement: Measurement & { stream?: string; seq?: number }): Promise<Sample> {
    const seq = this.nextSeq;
    if (
      (measurement.seq !== undefined && measurement.seq !== seq) ||
      (measurement.stream !== undefined && measurement.stream !== this.#stream)
    ) {
      throw new RangeError(
        `expected a sample of stream ${this.#stream} seq ${seq}, got ${measurement.stream}/${measurement.seq}`,
      );
    }
    const sample = stampSample(measurement, { stream: this.#stream, seq });
    const entry = this.#queue.prepare(sample);
    let dropped = 0;
    while (this.#queue.depth > 0 && !this.#budget.fits(entry.bytes)) {
      await this.#queue.dropOldest();
      dropped++;
      // Counted at once: they are gone even if the write below fails (a full disk).
      this.#dropped++;
    }
    if (!this.#budget.fits(entry.bytes)) {
      // Results of executed commands use the whole budget; they are never dropped.
      this.#queue.skip();
      this.#dropped++;
      this.#logDrops(dropped + 1);
      await this.#saveMeta();
      return sample;
    }
    try {
      await this.#queue.append(entry);
    } catch (error) {
      if (dropped > 0) {
        this.#logDrops(dropped);
        await this.#saveMeta().catch(() => {});
      }
      throw error;
    }
    await this.#saveMeta();
    if (dropped > 0) this.#logDrops(dropped);
    return sample;
  }

  #logDrops(dropped: number): void {
    const fields = {
      dropped,
      dropped_total: this.#dropped,
      state_used_bytes: this.#budget.used,
      state_max_bytes: this.#budget.maxBytes,
    };
    const now = this.#now();
    if (now - this.#lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.#lastDropLog = now;
      this.#logger.warn("state_max_mb reached: dropped the oldest samples", fields);
    } else this.#logger.debug("dropped the oldest samples", fields);
  }

  /**
   * Up to `limit` of the oldest samples, in `seq` order. A stored sample that cannot be read
   * or parsed is removed and counted in `dropped` (a gap in `seq` is exactly the loss).
   */
  async peek(limit: number): Promise<Sample[]> {
    const { items, lost } = await this.#queue.peek(limit);
    for (const { key, reason } of lost) {
      this.#logger.warn("unreadable spooled sample dropped", { seq: key, reason });
    }
    if (lost.length > 0) {
      this.#dropped += lost.length;
      await this.#saveMeta();
    }
    return items.map((item) => item.value);
  }

  /**
   * Removes every stored sample with `seq <= lastSeq`: the server has them, or, with
   * `lost`, it never will (a rejected batch), and they are counted in `dropped`.
   */
  async removeThrough(lastSeq: number, options: { lost?: boolean } = {}): Promise<void> {
    const removed = await this.#queue.removeThrough(lastSeq);
    if (options.lost && removed > 0) {
      this.#dropped += removed;
      await this.#saveMeta();
    }
  }

  #metaWrite: Promise<void> = Promise.resolve();

  /** Writes the current counters; one write at a time, so an older one never lands last. */
  #saveMeta(): Promise<void> {
    const write = this.#metaWrite.catch(() => {}).then(() =>
      writeFileAtomic(
        `${this.#dir}/${META_FILE}`,
        JSON.stringify({ stream: this.#stream, next_seq: this.nextSeq, dropped: this.#dropped }),
      )
    );
    this.#metaWrite = write;
    return write;
  }
}
