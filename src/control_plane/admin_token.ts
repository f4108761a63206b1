/** The admin token: from a flag, the environment, or generated once and kept in the data dir. */
import { join } from "node:path";
import { writeFileAtomic } from "../shared/atomic_write.ts";
import { toHex } from "./_deps.ts";

/** File name of the generated admin token inside the data dir (mode 0600). */
export const ADMIN_TOKEN_FILE = "admin_token";

/** Where the admin token came from. */
export type AdminTokenSource = "flag" | "env" | "file" | "generated";

/**
 * Resolves the admin token: `flag`, else `env` (`FTL_ADMIN_TOKEN`), else the token stored
 * at `<dataDir>/admin_token`, else a new one written there with mode 0600.
 */
export async function resolveAdminToken(
  dataDir: string,
  options: { flag?: string | undefined; env?: string | undefined } = {},
): Promise<{ token: string; source: AdminTokenSource }> {
  if (options.flag) return { token: options.flag, source: "flag" };
  if (options.env) return { token: options.env, source: "env" };
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const stored = (await Deno.readTextFile(path)).trim();
    if (stored) return { token: stored, source: "file" };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const token = `adm_${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  try {
    await writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
  } catch (error) {
    // A failed write names no file (a full disk, say): say which one.
    throw new Error(`cannot write ${path}: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  return { token, source: "generated" };
}
