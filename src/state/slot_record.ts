/**
 * A small JSON value kept in one file that stays open, rewritten in place: two fixed-size
 * slots written in turn, each with a generation number, so a torn write (a crash or power cut
 * in the middle of one) leaves the other slot, the value before, intact. Reading takes the
 * valid slot with the higher generation. A slot is its JSON, a line break and the FNV-1a hash
 * of that JSON, so a slot overwritten in part is never taken for a value.
 *
 * Why not `writeFileAtomic`: that costs a new file, a rename, a chmod and two fsyncs per write,
 * each path resolved again under the permission checks. A value rewritten every few seconds
 * (the sample spool's counters, issue 17) costs here one positioned write, plus one
 * `fdatasync` when the caller needs it to survive a power cut.
 *
 * @module
 */
import type { z } from "zod";
import { parseJson } from "../protocol/validate.ts";
import { syncParentDirectory } from "../shared/atomic_write.ts";
import { fnv1a } from "../shared/fnv1a.ts";

/** Bytes of one slot; a value's JSON must fit with its envelope. */
export const SLOT_BYTES = 512;

/** The file operations a {@linkcode SlotRecord} needs (injected in tests). */
export interface RecordFile {
  /** Reads up to `length` bytes at `offset` (fewer at the end of the file). */
  readAt(offset: number, length: number): Promise<Uint8Array>;
  /** Writes all of `bytes` at `offset`. */
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
  /** Makes what was written durable (`fdatasync`). */
  syncData(): Promise<void>;
  /** Closes the file. */
  close(): void;
}

/** Opens (creating, mode 0600) a record file; `created` tells whether it is new. */
export type OpenRecordFile = (path: string) => Promise<{ file: RecordFile; created: boolean }>;

/** The record file on disk: `Deno.open` once, then positioned reads and writes. */
export const openDenoRecordFile: OpenRecordFile = async (path) => {
  let created = false;
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(path, { read: true, write: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    handle = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    created = true;
    await syncParentDirectory(path);
  }
  const file: RecordFile = {
    async readAt(offset, length) {
      await handle.seek(offset, Deno.SeekMode.Start);
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const n = await handle.read(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      return buffer.subarray(0, filled);
    },
    async writeAt(offset, bytes) {
      await handle.seek(offset, Deno.SeekMode.Start);
      let written = 0;
      while (written < bytes.length) written += await handle.write(bytes.subarray(written));
    },
    syncData: () => handle.syncData(),
    close: () => handle.close(),
  };
  return { file, created };
};

/**
 * One JSON value in a two-slot file that stays open.
 *
 * @example
 * ```ts
 * const { record, value } = await SlotRecord.open(`${dir}/meta.rec`, MetaSchema);
 * await record.write({ next_seq: 42 }, { sync: true });
 * ```
 */
export class SlotRecord<T> {
  #file: RecordFile;
  #generation: number;
  #encoder = new TextEncoder();
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: RecordFile, generation: number) {
    this.#file = file;
    this.#generation = generation;
  }

  /**
   * Opens (creating) the record at `path` and reads its value: the valid slot with the higher
   * generation, or `undefined` for a new file or one where neither slot is valid.
   */
  static async open<T>(
    path: string,
    schema: z.ZodType<T>,
    open: OpenRecordFile = openDenoRecordFile,
  ): Promise<{ record: SlotRecord<T>; value: T | undefined; created: boolean }> {
    const { file, created } = await open(path);
    let best: { generation: number; value: T } | undefined;
    if (!created) {
      const bytes = await file.readAt(0, 2 * SLOT_BYTES);
      const decoder = new TextDecoder();
      for (let slot = 0; slot < 2; slot++) {
        const text = decoder.decode(bytes.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES));
        const parsed = parseSlot(text, schema);
        if (parsed && (best === undefined || parsed.generation > best.generation)) best = parsed;
      }
    }
    return {
      record: new SlotRecord<T>(file, best?.generation ?? 0),
      value: best?.value,
      created,
    };
  }

  /**
   * Writes `value` into the slot not holding the newest one; with `sync`, resolves only once
   * it is on disk (`fdatasync`). Writes are serialized, so a newer value never lands before an
   * older one. Throws `RangeError` when the value does not fit in a slot.
   */
  write(value: T, options: { sync?: boolean } = {}): Promise<void> {
    const generation = ++this.#generation;
    const json = JSON.stringify({ generation, value });
    const text = `${json}\n${fnv1a(json)}`;
    const bytes = new Uint8Array(SLOT_BYTES).fill(0x20); // spaces
    const encoded = this.#encoder.encode(text);
    if (encoded.length > SLOT_BYTES - 1) {
      return Promise.reject(new RangeError(`record of ${encoded.length} bytes does not fit`));
    }
    bytes.set(encoded);
    bytes[SLOT_BYTES - 1] = 0x0a; // newline: the file reads as two lines
    const slot = generation % 2;
    const next = this.#writing.catch(() => {}).then(async () => {
      await this.#file.writeAt(slot * SLOT_BYTES, bytes);
      if (options.sync) await this.#file.syncData();
    });
    this.#writing = next;
    return next;
  }

  /** Closes the file once pending writes are done. */
  async close(): Promise<void> {
    await this.#writing.catch(() => {});
    this.#file.close();
  }
}

function parseSlot<T>(
  text: string,
  schema: z.ZodType<T>,
): { generation: number; value: T } | undefined {
  const [json = "", check = ""] = text.split("\n");
  if (check.trim() !== fnv1a(json)) return undefined;
  let envelope: unknown;
  try {
    envelope = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof envelope !== "object" || envelope === null) return undefined;
  const { generation, value } = envelope as { generation?: unknown; value?: unknown };
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 1) {
    return undefined;
  }
  const parsed = parseJson(schema, JSON.stringify(value ?? null));
  return parsed.ok ? { generation, value: parsed.value } : undefined;
}
