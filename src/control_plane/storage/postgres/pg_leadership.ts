/**
 * The sweeper's leader over PostgreSQL: whoever holds a session-level advisory lock on a
 * dedicated connection. The lock lives as long as that connection: a leader that stops, crashes
 * or loses the network loses it, and another instance takes it on its next sweep.
 *
 * @module
 */
import type { Logger } from "../../../log/logger.ts";
import type { Leadership } from "../repositories.ts";
import type { Sql } from "./pg_types.ts";

/** Advisory lock key of the sweeper ("FTL" + 2). */
export const SWEEPER_LOCK = 0x46544c02;

type Reserved = Awaited<ReturnType<Sql["reserve"]>>;

/** Leader election with `pg_try_advisory_lock` on a reserved connection. */
export class PgLeadership implements Leadership {
  #sql: Sql;
  #logger: Logger | undefined;
  #connection: Reserved | undefined;
  #leading = false;
  #busy: Promise<boolean> | undefined;

  /** Creates the election over the pool `sql` (one connection is taken from it while trying). */
  constructor(sql: Sql, options: { logger?: Logger } = {}) {
    this.#sql = sql;
    this.#logger = options.logger;
  }

  tryLead(): Promise<boolean> {
    // One attempt at a time: two sweeps must not race on the one connection.
    this.#busy ??= this.#attempt().finally(() => this.#busy = undefined);
    return this.#busy;
  }

  async #attempt(): Promise<boolean> {
    try {
      this.#connection ??= await this.#sql.reserve();
      const connection = this.#connection;
      if (this.#leading) {
        // Still ours as long as the connection answers (the server drops the lock with it).
        await connection`SELECT 1`;
        return true;
      }
      const [row] = await connection<{ ok: boolean }[]>`
        SELECT pg_try_advisory_lock(${SWEEPER_LOCK}) AS ok`;
      this.#leading = row?.ok === true;
      return this.#leading;
    } catch (error) {
      this.#logger?.warn("sweeper leadership check failed; not leading", {
        error: String((error as Error)?.message ?? error),
      });
      this.#drop();
      return false;
    }
  }

  async release(): Promise<void> {
    await this.#busy?.catch(() => false);
    const connection = this.#connection;
    if (!connection) return;
    try {
      if (this.#leading) await connection`SELECT pg_advisory_unlock(${SWEEPER_LOCK})`;
    } catch {
      // The connection is gone, and the lock with it.
    }
    this.#drop();
  }

  #drop(): void {
    this.#leading = false;
    try {
      this.#connection?.release();
    } catch {
      // Already released.
    }
    this.#connection = undefined;
  }
}
