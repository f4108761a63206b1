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
import type { Wake } from "../shared/wake.ts";
import { DurableQueue } from "../state/durable_queue.ts";
import { openDenoRecordFile, type OpenRecordFile, SlotRecord } from "../state/slot_record.ts";
import type { StateBudget } from "../state/state_budget.ts";

/** Folder of the spool inside the state dir. */
export const SAMPLE_SPOOL_DIR = "outbox/samples";
/** The spool's counters before issue 17 (read once, to carry them over). */
const LEGACY_META_FILE = "meta.json";
/** The spool's counters, rewritten in place (`state/slot_record.ts`). */
export const SPOOL_RECORD_FILE = "meta.rec";
const LegacyMetaSchema = z.object({
  stream: z.string(),
  next_seq: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
});
const RecordSchema = z.object({
  stream: z.string(),
  next_seq: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  /** The oldest `seq` held in memory only (lost if the process dies), or null. */
  held_from: z.number().int().nonnegative().nullable(),
});
type SpoolRecord = z.infer<typeof RecordSchema>;

/**
 * Most samples held in memory while sends work; one more and they are written out. At the
 * default 10 s interval a healthy sender never holds more than one or two.
 */
export const MAX_HELD_SAMPLES = 60;

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
  /** Opens the counters' record file (injected in tests). @default {the real file} */
  openRecord?: OpenRecordFile;
}

/** Least time between two "dropped the oldest samples" warnings; the ones between go to debug. */
export const DROP_LOG_INTERVAL_MS = 10 * 60_000;

/**
 * The spool stamps each sample with the state dir's `stream` and the next `seq` (the collector
 * only measures) and queues it for the metrics sender.
 *
 * Where a sample waits depends on whether sends work (issue 17). While the last send went
 * through, a new sample is held in memory and goes straight out: no file is written for it.
 * When a send fails, or the agent is not connected ({@linkcode SampleSpool.persist}), the held
 * samples are written to `<state_dir>/outbox/samples/<seq>.json`, and so is every new one
 * until a send goes through again; a file is removed once the server accepted the sample (or
 * answered that it is a duplicate).
 *
 * The counters live in `meta.rec` (`state/slot_record.ts`: one file that stays open, rewritten
 * in place): the next `seq`, the count of dropped samples and `held_from`, the oldest `seq`
 * held in memory only. The record is on disk (`fdatasync`) before a held sample can be sent,
 * so a `seq` is never used twice, even across a power cut; and it is written again whenever
 * the held samples change. After a crash, the samples from `held_from` on that are not on
 * disk are exactly the ones lost with the process: they are counted in `dropped` at the next
 * start (a warning says so). So a gap in `seq` stays exactly the count of samples lost: those
 * dropped because the budget was used up, unreadable files, rejected batches, and at most the
 * samples held in memory when the process died (normally none or one: the one being sent).
 * The spool gets what results leave of the state dir's budget (`state_budget.ts`); files are
 * counted in whole disk blocks, samples in memory count nothing.
 */
export class SampleSpool {
  #queue: DurableQueue<Sample>;
  #stream: string;
  #budget: StateBudget;
  #logger: Logger;
  #now: () => number;
  #lastDropLog = -Infinity;
  #dropped: number;
  #record: SlotRecord<SpoolRecord>;
  /** The last send went through: new samples are held in memory. */
  #holding = false;
  /** The `seq` of a held sample being added (its record is being written). */
  #adding: number | undefined;

  private constructor(
    queue: DurableQueue<Sample>,
    record: SlotRecord<SpoolRecord>,
    options: SampleSpoolOptions,
    dropped: number,
  ) {
    this.#record = record;
    this.#queue = queue;
    this.#stream = options.stream;
    this.#budget = options.budget;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#dropped = dropped;
  }

  /**
   * Opens (creating) the spool under `stateDir` and loads what an earlier run left. Samples
   * that were held in memory when an earlier run died are counted as dropped (and logged).
   */
  static async open(stateDir: string, options: SampleSpoolOptions): Promise<SampleSpool> {
    const dir = `${stateDir}/${SAMPLE_SPOOL_DIR}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const { record, value } = await SlotRecord.open(
      `${dir}/${SPOOL_RECORD_FILE}`,
      RecordSchema,
      options.openRecord ?? openDenoRecordFile,
    );
    let meta: SpoolRecord | undefined = value?.stream === options.stream ? value : undefined;
    let legacy = false;
    if (value === undefined) {
      try {
        const parsed = parseJson(
          LegacyMetaSchema,
          await Deno.readTextFile(`${dir}/${LEGACY_META_FILE}`),
        );
        if (parsed.ok && parsed.value.stream === options.stream) {
          meta = { ...parsed.value, held_from: null };
          legacy = true;
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    const queue = await DurableQueue.open(dir, {
      schema: SampleSchema,
      budget: options.budget,
      part: "samples",
      holdValues: false,
      firstKey: meta?.next_seq ?? 0,
    });
    let dropped = meta?.dropped ?? 0;
    let lostHeld = 0;
    if (meta && meta.held_from !== null) {
      // Held in memory when the process died: those of them not written out are gone.
      const onDisk = new Set(queue.keys());
      for (let seq = meta.held_from; seq < meta.next_seq; seq++) {
        if (!onDisk.has(seq)) lostHeld++;
      }
      dropped += lostHeld;
    }
    const spool = new SampleSpool(queue, record, options, dropped);
    if (lostHeld > 0) {
      options.logger.warn("samples held in memory were lost when the agent stopped unexpectedly", {
        lost: lostHeld,
        first_seq: meta!.held_from,
        dropped_total: dropped,
      });
    }
    if (meta === undefined || lostHeld > 0 || meta.held_from !== null || legacy) {
      await spool.#saveMeta();
    }
    if (legacy) await Deno.remove(`${dir}/${LEGACY_META_FILE}`).catch(() => {});
    return spool;
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
    if (this.#holding && this.#queue.heldCount >= MAX_HELD_SAMPLES) await this.persist();
    if (this.#holding) {
      // Sends work: hold it in memory. Its seq is on disk before it can be sent.
      this.#adding = seq;
      try {
        await this.#saveMeta();
        await this.#queue.append(entry, { durable: false });
      } finally {
        this.#adding = undefined;
      }
      return sample;
    }
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

  /** Samples held in memory only (not on disk). */
  get held(): number {
    return this.#queue.heldCount;
  }

  /**
   * A send went through: hold new samples in memory from now on (they go straight out) until
   * {@linkcode SampleSpool.persist} is called.
   */
  sendsWork(): void {
    this.#holding = true;
  }

  /**
   * Sends do not work (a failed send, no connection, the agent stops): write the samples held
   * in memory to disk, oldest first, dropping the oldest stored ones when the budget would be
   * passed (counted, as in {@linkcode SampleSpool.add}), and store new samples on disk until
   * {@linkcode SampleSpool.sendsWork}. A failed write stops here and keeps the rest held
   * (rejects).
   */
  async persist(): Promise<void> {
    this.#holding = false;
    if (this.#queue.heldCount === 0) return;
    let dropped = 0;
    try {
      while (true) {
        const done = await this.#queue.persistOldestHeld(async (bytes) => {
          while (this.#queue.oldestOnDisk() && !this.#budget.fits(bytes)) {
            await this.#queue.dropOldest();
            dropped++;
            this.#dropped++;
          }
          if (this.#budget.fits(bytes)) return true;
          dropped++;
          this.#dropped++;
          return false;
        });
        if (done === undefined) break;
      }
    } finally {
      if (dropped > 0) this.#logDrops(dropped);
      await this.#saveMeta();
    }
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
    const heldBefore = this.#queue.oldestHeldKey();
    const removed = await this.#queue.removeThrough(lastSeq);
    if (options.lost && removed > 0) this.#dropped += removed;
    if ((options.lost && removed > 0) || this.#queue.oldestHeldKey() !== heldBefore) {
      // Held samples the server has now are no longer at risk: say so before a crash could.
      await this.#saveMeta();
    }
  }

  /**
   * Writes the counters (`next_seq`, `dropped`, `held_from`) and waits until they are on disk.
   * One write at a time, in order (`SlotRecord`), so an older one never lands last.
   */
  #saveMeta(): Promise<void> {
    // A held sample being added counts as held already (another write may come between).
    const adding = this.#adding;
    return this.#record.write({
      stream: this.#stream,
      next_seq: adding === undefined ? this.nextSeq : Math.max(this.nextSeq, adding + 1),
      dropped: this.#dropped,
      held_from: this.#queue.oldestHeldKey() ?? adding ?? null,
    }, { sync: true });
  }

  /** Closes the counters' file (after {@linkcode SampleSpool.persist}, when stopping). */
  async close(): Promise<void> {
    await this.#record.close();
  }
}
