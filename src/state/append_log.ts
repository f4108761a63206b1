/**
 * A durable log of lines in one file of the state dir, appended through a handle that stays
 * open: one `write` and one `fdatasync` per append, no temp file, rename or directory fsync,
 * and no path resolved again under the permission checks. Replaced as a whole (atomically,
 * `writeFileAtomic`) when its owner compacts it. Issue 17: the seen command ids, which are on
 * the path of every command.
 *
 * @module
 */
import { syncParentDirectory, writeFileAtomic } from "../shared/atomic_write.ts";

/** The file operations of a log (injected in tests). */
export interface AppendLogFile {
  /** The whole file, or `undefined` when it does not exist. */
  read(): Promise<string | undefined>;
  /** Appends `text` and resolves once it is on disk. */
  append(text: string): Promise<void>;
  /** Replaces the whole file with `text`, atomically, and resolves once that is on disk. */
  replace(text: string): Promise<void>;
  /** Closes the handle (a later append opens it again). */
  close(): void;
}

/** The log at `path` (created with mode 0600 on the first append). */
export function appendLogFile(path: string): AppendLogFile {
  let handle: Deno.FsFile | undefined;
  const encoder = new TextEncoder();
  const close = () => {
    handle?.close();
    handle = undefined;
  };
  return {
    async read() {
      try {
        return await Deno.readTextFile(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return undefined;
        throw error;
      }
    },
    async append(text) {
      if (handle === undefined) {
        try {
          handle = await Deno.open(path, { append: true, createNew: true, mode: 0o600 });
          // A new file: its name must survive a power cut too.
          await syncParentDirectory(path);
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
          handle = await Deno.open(path, { append: true });
        }
      }
      const bytes = encoder.encode(text);
      let written = 0;
      try {
        while (written < bytes.length) written += await handle.write(bytes.subarray(written));
        await handle.syncData();
      } catch (error) {
        close(); // the next append starts from a fresh handle
        throw error;
      }
    },
    async replace(text) {
      await writeFileAtomic(path, text);
      close(); // the handle points at the old file
    },
    close,
  };
}
