/**
 * The data dir holds key hashes, derived signing keys (in the database and in SQLite's WAL)
 * and the admin token: owner-only, always. The dir is created 0700 or tightened to 0700 with
 * a warning, the process umask is set to 077 before SQLite opens anything (so `-wal` and
 * `-shm` are born 0600), and every file the control plane keeps there is 0600.
 */
import { join } from "node:path";
import { ADMIN_TOKEN_FILE } from "./admin_token.ts";
import { DATABASE_FILE } from "./storage/sqlite/database.ts";

/** Files of the data dir that must be owner-only. */
export const DATA_DIR_FILES: readonly string[] = [
  DATABASE_FILE,
  `${DATABASE_FILE}-wal`,
  `${DATABASE_FILE}-shm`,
  ADMIN_TOKEN_FILE,
];

/** Reports a permission that was too open and has been tightened. */
export type PermissionWarning = (message: string, fields: Record<string, unknown>) => void;

/**
 * Sets the umask to 077, creates `dir` (and missing parents) with mode 0700, and tightens a
 * pre-existing `dir` that others can read or enter to 0700, calling `warn`. Call before the
 * database is opened. On Windows (no modes, no umask) it only creates the dir.
 */
export async function secureDataDir(dir: string, warn: PermissionWarning): Promise<void> {
  try {
    Deno.umask(0o077);
  } catch {
    // Windows: not supported; access is governed by the user profile's ACLs.
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await tighten(dir, 0o700, warn, "data dir");
}

/**
 * Tightens every file of {@linkcode DATA_DIR_FILES} that exists in `dir` to 0600, calling
 * `warn` for each one that was more open. Call after the database is opened.
 */
export async function secureDataFiles(dir: string, warn: PermissionWarning): Promise<void> {
  for (const name of DATA_DIR_FILES) await tighten(join(dir, name), 0o600, warn, "file");
}

/**
 * Sets `path` to `mode` when its group or other bits are set; `warn`s when it did. A missing
 * path, or a system without modes, is left alone.
 */
export async function tighten(
  path: string,
  mode: number,
  warn: PermissionWarning,
  what = "file",
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.mode === null || (info.mode & 0o077) === 0) return;
  const was = (info.mode & 0o777).toString(8).padStart(4, "0");
  await Deno.chmod(path, mode);
  warn(`the ${what} was readable by other users; tightened`, {
    path,
    was,
    now: mode.toString(8).padStart(4, "0"),
  });
}
