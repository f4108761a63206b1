/** Command ids this agent has executed or refused, persisted in the state dir (protocol 6). */
import { z } from "zod";
import { SEEN_ID_RETENTION_MS, type SeenIds } from "../protocol/mod.ts";
import { type AppendLogFile, appendLogFile } from "../state/append_log.ts";
import type { StateDir } from "../state/state_dir.ts";

/** File name inside the state dir: one JSON line `["<id>", <unix ms>]` per id. */
export const SEEN_IDS_LOG = "seen_command_ids.log";
/** The file before issue 17 (one JSON object, rewritten per id): read once, then removed. */
export const LEGACY_SEEN_IDS_FILE = "seen_command_ids.json";

const LegacyFileSchema = z.object({ ids: z.record(z.string(), z.number()) });

/** Options of {@linkcode SeenIdStore.open}. */
export interface SeenIdStoreOptions {
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
  /** How long an id is kept. @default {SEEN_ID_RETENTION_MS} (plus a 1 h margin) */
  retentionMs?: number;
  /** The log (injected in tests). @default {`<state_dir>/seen_command_ids.log`} */
  log?: AppendLogFile;
}

/**
 * The replay guard. {@linkcode SeenIdStore.add} returns only after the id is on disk, so an
 * agent that crashes right after starting a command still refuses it as a replay after a
 * restart. Each id is one line appended to `seen_command_ids.log` through a handle that stays
 * open (one write and one `fdatasync`: issue 17, it is on the path of every command). Ids
 * older than the retention (24 h + 1 h margin) are pruned in memory on every add, and the
 * log is rewritten without them (atomically) once it holds more than twice the live ids; a
 * command that old is refused as expired anyway. A line cut short by a crash is skipped when
 * read (its add never resolved, so its command never ran).
 */
export class SeenIdStore implements SeenIds {
  #log: AppendLogFile;
  #ids: Map<string, number>;
  #now: () => number;
  #retention: number;
  #writing: Promise<void> = Promise.resolve();
  /** Lines in the log now (live and pruned). */
  #lines: number;
  /** The log does not end with a line break (a torn last line): the next append starts one. */
  #torn: boolean;

  private constructor(
    log: AppendLogFile,
    ids: Map<string, number>,
    lines: number,
    torn: boolean,
    options: SeenIdStoreOptions,
  ) {
    this.#log = log;
    this.#ids = ids;
    this.#lines = lines;
    this.#torn = torn;
    this.#now = options.now ?? Date.now;
    this.#retention = options.retentionMs ?? SEEN_ID_RETENTION_MS + 3_600_000;
  }

  /**
   * Loads the ids saved in `dir` (none if there are none), carrying over the file of an agent
   * from before issue 17.
   */
  static async open(
    dir: Pick<StateDir, "path" | "readJson">,
    options: SeenIdStoreOptions = {},
  ): Promise<SeenIdStore> {
    const log = options.log ?? appendLogFile(`${dir.path}/${SEEN_IDS_LOG}`);
    const text = await log.read() ?? "";
    const ids = new Map<string, number>();
    let lines = 0;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      lines++;
      const entry = parseLine(line);
      if (entry) ids.set(entry[0], Math.max(entry[1], ids.get(entry[0]) ?? 0));
    }
    const torn = text.length > 0 && !text.endsWith("\n");
    const store = new SeenIdStore(log, ids, lines, torn, options);
    if (options.log === undefined) {
      const legacy = await dir.readJson(LEGACY_SEEN_IDS_FILE, LegacyFileSchema).catch(() =>
        undefined
      );
      if (legacy) {
        for (const [id, at] of Object.entries(legacy.ids)) {
          ids.set(id, Math.max(at, ids.get(id) ?? 0));
        }
        await store.#compact();
        await Deno.remove(`${dir.path}/${LEGACY_SEEN_IDS_FILE}`).catch(() => {});
      }
    }
    return store;
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
    const at = this.#now();
    this.#ids.set(id, at);
    this.#prune();
    const line = `${this.#torn ? "\n" : ""}${JSON.stringify([id, at])}\n`;
    const write = this.#writing.catch(() => {}).then(async () => {
      if (this.#lines + 1 > 2 * this.#ids.size + 64) {
        await this.#compact(); // holds `id` already
        return;
      }
      await this.#log.append(line);
      this.#torn = false;
      this.#lines++;
    });
    this.#writing = write;
    const failed = write.catch(async (error) => {
      // Not durable (a full disk, say): forget it again, so that a resend is judged anew
      // instead of being taken for a replay of a command that never ran.
      if (before === undefined) this.#ids.delete(id);
      else this.#ids.set(id, before);
      // A failed append may have left the line, whole or in part: rewrite the log without
      // it (atomically) where the disk allows; a part of a line is skipped when read anyway.
      this.#torn = true;
      await this.#compact().catch(() => {});
      throw error;
    });
    this.#writing = failed.catch(() => {});
    return failed;
  }

  /** Closes the log's handle. */
  async close(): Promise<void> {
    await this.#writing.catch(() => {});
    this.#log.close();
  }

  /** Rewrites the log with the live ids only. */
  async #compact(): Promise<void> {
    let text = "";
    for (const [id, at] of this.#ids) text += `${JSON.stringify([id, at])}\n`;
    await this.#log.replace(text);
    this.#lines = this.#ids.size;
    this.#torn = false;
  }

  #prune(): void {
    const cutoff = this.#now() - this.#retention;
    for (const [id, at] of this.#ids) if (at < cutoff) this.#ids.delete(id);
  }
}

/** One log line as `[id, unix ms]`, or undefined for a line that is not one (a torn write). */
function parseLine(line: string): [string, number] | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (
      Array.isArray(value) && value.length === 2 && typeof value[0] === "string" &&
      typeof value[1] === "number" && Number.isFinite(value[1])
    ) {
      return [value[0], value[1]];
    }
  } catch {
    // a torn or foreign line
  }
  return undefined;
}
