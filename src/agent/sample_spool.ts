/** Bounded on-disk spool of metrics samples (protocol 3.3, 8). */
import { z } from "zod";
import type { Logger } from "../log/logger.ts";
import { parseJson, type Sample, SampleSchema } from "../protocol/mod.ts";
import { writeFileAtomic } from "../shared/atomic_write.ts";
import { Wake } from "../shared/wake.ts";
import { onDiskBytes, StateBudget } from "../state/state_budget.ts";

/** Folder of the spool inside the state dir. */
export const SAMPLE_SPOOL_DIR = "outbox/samples";
const META_FILE = "meta.json";
const MetaSchema = z.object({
  stream: z.string(),
  next_seq: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
});

interface Entry {
  seq: number;
  bytes: number;
}

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
 * removed after the server accepted it (or answered that it is a duplicate). `seq` is
 * allocated here, one per stored sample, and its next value is kept in `meta.json`, so it
 * is gap-free across restarts; the only gaps are samples dropped because the budget was
 * used up, and those are counted in `dropped` and logged. The spool gets what results leave of
 * the state dir's budget (`state_budget.ts`); files are counted in whole disk blocks.
 */
export class SampleSpool {
  #dir: string;
  #stream: string;
  #budget: StateBudget;
  #logger: Logger;
  #now: () => number;
  #lastDropLog = -Infinity;
  #entries: Entry[];
  #nextSeq: number;
  #dropped: number;
  /** Woken whenever a sample is added. */
  readonly wake: Wake = new Wake();

  private constructor(
    dir: string,
    options: SampleSpoolOptions,
    entries: Entry[],
    nextSeq: number,
    dropped: number,
  ) {
    this.#dir = dir;
    this.#stream = options.stream;
    this.#budget = options.budget;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#entries = entries;
    options.budget.change("samples", entries.reduce((sum, e) => sum + e.bytes, 0));
    this.#nextSeq = nextSeq;
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
    const entries: Entry[] = [];
    for await (const entry of Deno.readDir(dir)) {
      const match = /^(\d{16})\.json$/.exec(entry.name);
      if (!entry.isFile || !match) continue;
      const info = await Deno.stat(`${dir}/${entry.name}`);
      entries.push({ seq: Number(match[1]), bytes: onDiskBytes(info.size) });
    }
    entries.sort((a, b) => a.seq - b.seq);
    const afterFiles = (entries.at(-1)?.seq ?? -1) + 1;
    const nextSeq = Math.max(meta?.next_seq ?? 0, afterFiles);
    return new SampleSpool(dir, options, entries, nextSeq, meta?.dropped ?? 0);
  }

  /** The stream id samples carry. */
  get stream(): string {
    return this.#stream;
  }

  /** The `seq` the next stored sample must carry. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Samples waiting to be sent. */
  get depth(): number {
    return this.#entries.length;
  }

  /** Samples dropped because the spool was full, over the life of this stream. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Stores `sample` (whose `seq` must be {@linkcode SampleSpool.nextSeq}), dropping the
   * oldest samples first when the budget would be passed. When results leave no room even
   * with the spool empty, the new sample is dropped too (its `seq` is used and counted).
   */
  async add(sample: Sample): Promise<void> {
    if (sample.seq !== this.#nextSeq || sample.stream !== this.#stream) {
      throw new RangeError(
        `expected a sample of stream ${this.#stream} seq ${this.#nextSeq}, got ${sample.stream}/${sample.seq}`,
      );
    }
    const text = JSON.stringify(sample);
    const bytes = onDiskBytes(new TextEncoder().encode(text).length);
    let dropped = 0;
    while (this.#entries.length > 0 && !this.#budget.fits(bytes)) {
      const oldest = this.#entries.shift()!;
      this.#budget.change("samples", -oldest.bytes);
      await Deno.remove(this.#file(oldest.seq)).catch(() => {});
      dropped++;
      // Counted at once: they are gone even if the write below fails (a full disk).
      this.#dropped++;
    }
    if (!this.#budget.fits(bytes)) {
      // Results of executed commands use the whole budget; they are never dropped.
      this.#dropped++;
      this.#nextSeq = sample.seq + 1;
      this.#logDrops(dropped + 1);
      await this.#saveMeta();
      return;
    }
    try {
      await writeFileAtomic(this.#file(sample.seq), text);
    } catch (error) {
      if (dropped > 0) {
        this.#logDrops(dropped);
        await this.#saveMeta().catch(() => {});
      }
      throw error;
    }
    this.#entries.push({ seq: sample.seq, bytes });
    this.#budget.change("samples", bytes);
    this.#nextSeq = sample.seq + 1;
    await this.#saveMeta();
    if (dropped > 0) this.#logDrops(dropped);
    this.wake.notify();
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
    const samples: Sample[] = [];
    const unreadable: Entry[] = [];
    for (const entry of this.#entries.slice(0, limit)) {
      let reason: string;
      try {
        const parsed = parseJson(SampleSchema, await Deno.readTextFile(this.#file(entry.seq)));
        if (parsed.ok) {
          samples.push(parsed.value);
          continue;
        }
        reason = parsed.error;
      } catch (error) {
        // Gone meanwhile: dropped for space (and counted) by a concurrent add().
        if (error instanceof Deno.errors.NotFound) continue;
        reason = String(error);
      }
      unreadable.push(entry);
      this.#logger.warn("unreadable spooled sample dropped", { seq: entry.seq, reason });
    }
    let lost = 0;
    for (const entry of unreadable) {
      const index = this.#entries.indexOf(entry);
      if (index < 0) continue; // dropped for space meanwhile, already counted
      this.#entries.splice(index, 1);
      this.#budget.change("samples", -entry.bytes);
      lost++;
      await Deno.remove(this.#file(entry.seq), { recursive: true }).catch(() => {});
    }
    if (lost > 0) {
      this.#dropped += lost;
      await this.#saveMeta();
    }
    return samples;
  }

  /**
   * Removes every stored sample with `seq <= lastSeq`: the server has them, or, with
   * `lost`, it never will (a rejected batch), and they are counted in `dropped`.
   */
  async removeThrough(lastSeq: number, options: { lost?: boolean } = {}): Promise<void> {
    let removed = 0;
    while (this.#entries.length > 0 && this.#entries[0]!.seq <= lastSeq) {
      const entry = this.#entries.shift()!;
      this.#budget.change("samples", -entry.bytes);
      removed++;
      await Deno.remove(this.#file(entry.seq)).catch(() => {});
    }
    if (options.lost && removed > 0) {
      this.#dropped += removed;
      await this.#saveMeta();
    }
  }

  #file(seq: number): string {
    return `${this.#dir}/${String(seq).padStart(16, "0")}.json`;
  }

  #metaWrite: Promise<void> = Promise.resolve();

  /** Writes the current counters; one write at a time, so an older one never lands last. */
  #saveMeta(): Promise<void> {
    const write = this.#metaWrite.catch(() => {}).then(() =>
      writeFileAtomic(
        `${this.#dir}/${META_FILE}`,
        JSON.stringify({ stream: this.#stream, next_seq: this.#nextSeq, dropped: this.#dropped }),
      )
    );
    this.#metaWrite = write;
    return write;
  }
}
