/**
 * The one durable queue of the agent: an ordered list of JSON values in a folder of the state
 * dir, one file per entry (`<key>.json`, the key a 16-digit counter), counted against the
 * state dir's budget. The result outbox (`agent/result_outbox.ts`) and the sample spool
 * (`agent/sample_spool.ts`) are both one of these with their own policy on top (results are
 * never dropped; samples give way and are counted), and one sender loop
 * (`agent/sender_loop.ts`) empties both.
 *
 * An entry is on disk, in memory, or both: `append(…, { durable: false })` keeps a value in
 * memory only (it is lost with the process, and costs no disk). That is how the sample spool
 * touches the disk only while the server cannot be reached (issue 17): it appends in memory
 * while sends succeed, and writes the held entries out
 * ({@linkcode DurableQueue.persistOldestHeld}) when one fails.
 *
 * @module
 */
import type { z } from "zod";
import { parseJson } from "../protocol/validate.ts";
import { writeFileAtomic } from "../shared/atomic_write.ts";
import { Wake } from "../shared/wake.ts";
import { type BudgetPart, onDiskBytes, type StateBudget } from "./state_budget.ts";

const ENTRY_FILE = /^(\d{16})\.json$/;

/** Options of {@linkcode DurableQueue.open}. */
export interface DurableQueueOptions<T> {
  /** What a stored value must match when it is read back. */
  schema: z.ZodType<T>;
  /** The state dir's budget, which the files on disk count against. */
  budget: StateBudget;
  /** The part of the budget these entries count in. */
  part: BudgetPart;
  /**
   * Hold every value in memory (`true`: few, precious entries such as results, loaded at
   * open, handed out without reading the disk) or read each back when it is peeked (`false`:
   * many entries such as samples).
   */
  holdValues: boolean;
  /** The least key the next entry gets (a counter kept elsewhere, such as a spool's). @default {0} */
  firstKey?: number;
}

/** A value encoded for {@linkcode DurableQueue.append}, with its size on disk. */
export interface PreparedEntry<T> {
  /** The value. */
  value: T;
  /** Its JSON. */
  text: string;
  /** The disk space its file takes (whole blocks). */
  bytes: number;
}

/** One entry handed out by {@linkcode DurableQueue.peek}. */
export interface QueueItem<T> {
  /** Its key: entries are in key order. */
  key: number;
  /** Its value. */
  value: T;
}

/** An entry {@linkcode DurableQueue.peek} could not read back: it is removed. */
export interface LostEntry {
  /** Its key. */
  key: number;
  /** Why it could not be read. */
  reason: string;
}

interface Entry<T> {
  key: number;
  /** Bytes on disk counted in the budget (0 while in memory only). */
  bytes: number;
  /** The value, when held in memory. */
  value: T | undefined;
  onDisk: boolean;
  /** The write of an entry handed out while it is being written (`whileWriting`). */
  written?: Promise<void>;
}

/**
 * A durable, ordered queue of JSON values under one folder.
 *
 * @example
 * ```ts
 * const queue = await DurableQueue.open(`${stateDir}/outbox/results`, {
 *   schema: CommandResultSchema, budget, part: "results", holdValues: true, firstKey: 1,
 * });
 * await queue.append(queue.prepare(result));
 * const [oldest] = await queue.peek(1);
 * await queue.removeThrough(oldest.key); // after the server took it
 * ```
 */
export class DurableQueue<T> {
  #dir: string;
  #options: DurableQueueOptions<T>;
  #entries: Entry<T>[];
  #nextKey: number;
  /** Woken whenever an entry is appended. */
  readonly wake: Wake = new Wake();

  private constructor(
    dir: string,
    options: DurableQueueOptions<T>,
    entries: Entry<T>[],
    nextKey: number,
  ) {
    this.#dir = dir;
    this.#options = options;
    this.#entries = entries;
    this.#nextKey = nextKey;
    options.budget.change(options.part, entries.reduce((sum, e) => sum + e.bytes, 0));
  }

  /**
   * Opens (creating, mode 0700) the queue in `dir` and takes up what an earlier run left,
   * counting it in the budget. With `holdValues`, each file is read and checked now, and one
   * that does not match the schema is left on disk for a human and skipped; without, files
   * are only listed, and checked when peeked.
   */
  static async open<T>(dir: string, options: DurableQueueOptions<T>): Promise<DurableQueue<T>> {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const keys: number[] = [];
    for await (const entry of Deno.readDir(dir)) {
      const match = ENTRY_FILE.exec(entry.name);
      if (entry.isFile && match) keys.push(Number(match[1]));
    }
    keys.sort((a, b) => a - b);
    const entries: Entry<T>[] = [];
    for (const key of keys) {
      const path = fileOf(dir, key);
      if (!options.holdValues) {
        const info = await Deno.stat(path);
        entries.push({ key, bytes: onDiskBytes(info.size), value: undefined, onDisk: true });
        continue;
      }
      const text = await Deno.readTextFile(path);
      const parsed = parseJson(options.schema, text);
      if (!parsed.ok) continue;
      const bytes = onDiskBytes(new TextEncoder().encode(text).length);
      entries.push({ key, bytes, value: parsed.value, onDisk: true });
    }
    const afterFiles = (keys.at(-1) ?? -1) + 1;
    return new DurableQueue(dir, options, entries, Math.max(options.firstKey ?? 0, afterFiles));
  }

  /** Entries waiting (on disk and in memory). */
  get depth(): number {
    return this.#entries.length;
  }

  /** The key the next appended entry gets. */
  get nextKey(): number {
    return this.#nextKey;
  }

  /** `value` as it would be written, with the disk space it would take. */
  prepare(value: T): PreparedEntry<T> {
    const text = JSON.stringify(value);
    return { value, text, bytes: onDiskBytes(new TextEncoder().encode(text).length) };
  }

  /**
   * Appends `entry` under {@linkcode DurableQueue.nextKey} and wakes the sender. Durable by
   * default: the file is written (and fsynced) before this resolves. When that write fails
   * it rejects, and the key is used only with `keepOnFailure` (the value then waits in memory,
   * sent unless the agent stops first); without, nothing changed. `durable: false` keeps the
   * value in memory only. `whileWriting` (with `holdValues`) hands the entry out at once and
   * writes it meanwhile (resolving, or rejecting like `keepOnFailure`, when the write is
   * done): issue 17, a result is sent while it is stored. Resolves with the entry's key.
   */
  async append(
    entry: PreparedEntry<T>,
    options: { durable?: boolean; keepOnFailure?: boolean; whileWriting?: boolean } = {},
  ): Promise<number> {
    const key = this.#nextKey;
    if (options.durable === false) {
      return this.#push({ key, bytes: 0, value: entry.value, onDisk: false });
    }
    if (options.whileWriting && this.#options.holdValues) {
      // Handed out (and sendable) at once, while the write goes on; removing it waits for
      // the write, so the file never outlives the entry.
      const held: Entry<T> = { key, bytes: 0, value: entry.value, onDisk: false };
      held.written = (async () => {
        await writeFileAtomic(fileOf(this.#dir, key), entry.text);
        held.onDisk = true;
        held.bytes = entry.bytes;
        this.#options.budget.change(this.#options.part, entry.bytes);
      })();
      this.#push(held);
      await held.written; // rejects when the write failed: the entry stays, in memory only
      return key;
    }
    try {
      await writeFileAtomic(fileOf(this.#dir, key), entry.text);
    } catch (error) {
      if (options.keepOnFailure) this.#push({ key, bytes: 0, value: entry.value, onDisk: false });
      throw error;
    }
    this.#options.budget.change(this.#options.part, entry.bytes);
    const value = this.#options.holdValues ? entry.value : undefined;
    return this.#push({ key, bytes: entry.bytes, value, onDisk: true });
  }

  #push(entry: Entry<T>): number {
    this.#entries.push(entry);
    this.#nextKey = entry.key + 1;
    this.wake.notify();
    return entry.key;
  }

  /** The keys of every entry, oldest first. */
  keys(): number[] {
    return this.#entries.map((entry) => entry.key);
  }

  /** Entries held in memory only (not on disk). */
  get heldCount(): number {
    let n = 0;
    for (const entry of this.#entries) if (!entry.onDisk) n++;
    return n;
  }

  /** The key of the oldest entry held in memory only, if any. */
  oldestHeldKey(): number | undefined {
    return this.#entries.find((entry) => !entry.onDisk)?.key;
  }

  /**
   * Writes the oldest entry held in memory only to disk (fsynced), counting it in the budget
   * first: `makeRoom(bytes)` is asked to free space (it may drop older entries) and answers
   * whether the entry fits now; when it does not, the entry is removed instead. Resolves with
   * what happened, or `undefined` when nothing is held. A failed write rejects and leaves the
   * entry held.
   */
  async persistOldestHeld(
    makeRoom: (bytes: number) => Promise<boolean>,
  ): Promise<{ key: number; stored: boolean } | undefined> {
    const entry = this.#entries.find((e) => !e.onDisk);
    if (entry === undefined || entry.value === undefined) return undefined;
    const prepared = this.prepare(entry.value);
    if (!await makeRoom(prepared.bytes)) {
      const index = this.#entries.indexOf(entry);
      if (index >= 0) this.#entries.splice(index, 1);
      return { key: entry.key, stored: false };
    }
    await writeFileAtomic(fileOf(this.#dir, entry.key), prepared.text);
    this.#options.budget.change(this.#options.part, prepared.bytes);
    entry.bytes = prepared.bytes;
    entry.onDisk = true;
    if (!this.#options.holdValues) entry.value = undefined;
    return { key: entry.key, stored: true };
  }

  /** Whether the oldest entry is on disk (the spool drops only those to make room). */
  oldestOnDisk(): boolean {
    return this.#entries[0]?.onDisk ?? false;
  }

  /** Uses up the next key without storing anything (a value dropped before it was stored). */
  skip(): number {
    return this.#nextKey++;
  }

  /** The oldest value, when it is held in memory (always, with `holdValues`). */
  oldest(): QueueItem<T> | undefined {
    const first = this.#entries[0];
    return first?.value === undefined ? undefined : { key: first.key, value: first.value };
  }

  /**
   * Up to `limit` of the oldest entries, in key order. An entry that cannot be read back or
   * does not match the schema is removed and listed in `lost`; one that vanished meanwhile
   * (dropped by {@linkcode DurableQueue.dropOldest}) is skipped.
   */
  async peek(limit: number): Promise<{ items: QueueItem<T>[]; lost: LostEntry[] }> {
    const items: QueueItem<T>[] = [];
    const unreadable: { entry: Entry<T>; reason: string }[] = [];
    for (const entry of this.#entries.slice(0, limit)) {
      if (entry.value !== undefined) {
        items.push({ key: entry.key, value: entry.value });
        continue;
      }
      let reason: string;
      try {
        const text = await Deno.readTextFile(fileOf(this.#dir, entry.key));
        const parsed = parseJson(this.#options.schema, text);
        if (parsed.ok) {
          items.push({ key: entry.key, value: parsed.value });
          continue;
        }
        reason = parsed.error;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue;
        reason = String(error);
      }
      unreadable.push({ entry, reason });
    }
    const lost: LostEntry[] = [];
    for (const { entry, reason } of unreadable) {
      const index = this.#entries.indexOf(entry);
      if (index < 0) continue; // dropped meanwhile
      this.#entries.splice(index, 1);
      await this.#discard(entry, { recursive: true });
      lost.push({ key: entry.key, reason });
    }
    return { items, lost };
  }

  /** Removes every entry with a key up to `key`; resolves with how many. */
  async removeThrough(key: number): Promise<number> {
    let removed = 0;
    while (this.#entries.length > 0 && this.#entries[0]!.key <= key) {
      await this.#discard(this.#entries.shift()!);
      removed++;
    }
    return removed;
  }

  /** Removes the oldest entry; resolves with whether there was one. */
  async dropOldest(): Promise<boolean> {
    const oldest = this.#entries.shift();
    if (oldest === undefined) return false;
    await this.#discard(oldest);
    return true;
  }

  async #discard(entry: Entry<T>, options: { recursive?: boolean } = {}): Promise<void> {
    if (entry.written) await entry.written.catch(() => {});
    if (!entry.onDisk) return;
    this.#options.budget.change(this.#options.part, -entry.bytes);
    await Deno.remove(fileOf(this.#dir, entry.key), options).catch(() => {});
  }
}

function fileOf(dir: string, key: number): string {
  return `${dir}/${String(key).padStart(16, "0")}.json`;
}
