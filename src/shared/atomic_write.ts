/** Crash-safe file replacement: write a temp file beside the target, fsync, rename. */

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode of the new file (ignored on Windows). @default {0o600} */
  mode?: number;
  /**
   * Fsync the file and its directory, so the new contents survive a power cut. `false` for a
   * file that is only informational (`status.json`): still never a mix of old and new for a
   * reader or a crashed process, but a power cut may leave the old contents (or, on some file
   * systems, an empty file). @default {true}
   */
  durable?: boolean;
}

/**
 * Replaces `path` with `data` so that a reader (or a crash) sees either the old or the new
 * contents, never a mix: the data goes to a temp file in the same directory, is fsynced and
 * then renamed over the target. The temp file is removed if anything fails.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  const temp = `${path}.${suffix}.tmp`;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode });
    let offset = 0;
    while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
    if (options.durable !== false) await file.sync();
    file.close();
    file = undefined;
    if (Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (error) {
    file?.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  if (options.durable !== false) await syncParentDirectory(path);
}

/**
 * Fsyncs the directory holding `path` so a rename or a new file's name survives a power cut.
 * A file system that refuses fsync on a directory is left as it is.
 */
export async function syncParentDirectory(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const i = path.lastIndexOf("/");
  const dir = i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
