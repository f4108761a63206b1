/** Command ids this agent has executed or refused, persisted in the state dir (protocol 6). */
import { z } from "zod";
import { SEEN_ID_RETENTION_MS, type SeenIds } from "../protocol/mod.ts";
import type { StateDir } from "../state/state_dir.ts";

/** File name inside the state dir. */
export const SEEN_IDS_FILE = "seen_command_ids.json";

const SeenFileSchema = z.object({ ids: z.record(z.string(), z.number()) });

/** Options of {@linkcode SeenIdStore.open}. */
export interface SeenIdStoreOptions {
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
  /** How long an id is kept. @default {SEEN_ID_RETENTION_MS} (plus a 1 h margin) */
  retentionMs?: number;
}

/**
 * The replay guard. {@linkcode SeenIdStore.add} returns only after the id is on disk, so an
 * agent that crashes right after starting a command still refuses it as a replay after a
 * restart. Ids older than the retention (24 h + 1 h margin) are pruned on every write; a
 * command that old is refused as expired anyway.
 */
export class SeenIdStore implements SeenIds {
  #dir: Pick<StateDir, "readJson" | "writeJson">;
  #ids: Map<string, number>;
  #now: () => number;
  #retention: number;
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    dir: Pick<StateDir, "readJson" | "writeJson">,
    ids: Map<string, number>,
    options: SeenIdStoreOptions,
  ) {
    this.#dir = dir;
    this.#ids = ids;
    this.#now = options.now ?? Date.now;
    this.#retention = options.retentionMs ?? SEEN_ID_RETENTION_MS + 3_600_000;
  }

  /** Loads the ids saved in `dir` (none if the file is missing). */
  static async open(
    dir: Pick<StateDir, "readJson" | "writeJson">,
    options: SeenIdStoreOptions = {},
  ): Promise<SeenIdStore> {
    const saved = await dir.readJson(SEEN_IDS_FILE, SeenFileSchema);
    return new SeenIdStore(dir, new Map(Object.entries(saved?.ids ?? {})), options);
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#ids.size;
  }

  /** Whether `id` was seen. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Remembers `id` and resolves once that is durable. */
  add(id: string): Promise<void> {
    const before = this.#ids.get(id);
    this.#ids.set(id, this.#now());
    this.#prune();
    const snapshot = Object.fromEntries(this.#ids);
    const write = this.#writing.catch(() => {}).then(() =>
      this.#dir.writeJson(SEEN_IDS_FILE, { ids: snapshot })
    );
    this.#writing = write;
    return write.catch((error) => {
      // Not durable (a full disk, say): forget it again, so that a resend is judged anew
      // instead of being taken for a replay of a command that never ran.
      if (before === undefined) this.#ids.delete(id);
      else this.#ids.set(id, before);
      throw error;
    });
  }

  #prune(): void {
    const cutoff = this.#now() - this.#retention;
    for (const [id, at] of this.#ids) if (at < cutoff) this.#ids.delete(id);
  }
}
