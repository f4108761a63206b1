/** Keys on PostgreSQL (see `KeyRepository`). */
import { NotFoundError } from "../errors.ts";
import { type KeyRecord, type KeyView, viewOf } from "../records.ts";
import type { KeyRepository } from "../repositories.ts";
import { keyRecordOf, type KeyRow } from "../row_views.ts";
import { authenticateKey, createKeyWithFreePrefix } from "../shared_rules.ts";
import type { Sql } from "./pg_types.ts";

/** Key storage on PostgreSQL. */
export class PgKeys implements KeyRepository {
  #sql: Sql;
  #now: () => number;
  #newId: () => string;

  /** Creates the repository; `newId` makes key ids. */
  constructor(sql: Sql, options: { now: () => number; newId: () => string }) {
    this.#sql = sql;
    this.#now = options.now;
    this.#newId = options.newId;
  }

  async create(
    name: string,
    scopes: readonly string[] = ["worker"],
  ): Promise<{ record: KeyRecord; key: string }> {
    // A prefix already taken: the insert does nothing, and another key is made.
    return await createKeyWithFreePrefix(async (made) => {
      const [row] = await this.#sql<KeyRow[]>`
        INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, active, created_at)
        VALUES (${this.#newId()}, ${name}, ${made.prefix}, ${made.hash},
                ${JSON.stringify(scopes)}, ${made.signingKey}, TRUE, ${this.#now()})
        ON CONFLICT (prefix) DO NOTHING RETURNING *`;
      return row ? keyRecordOf(row) : undefined;
    });
  }

  async authenticate(rawKey: string): Promise<KeyRecord | undefined> {
    return await authenticateKey(rawKey, this.#now(), {
      byPrefix: async (prefix) => {
        const [row] = await this.#sql<KeyRow[]>`SELECT * FROM api_keys WHERE prefix = ${prefix}`;
        return row;
      },
      noteUse: async (id, at) => {
        await this.#sql`UPDATE api_keys SET last_used_at = ${at} WHERE id = ${id}`;
      },
    });
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const [row] = await this.#sql<KeyRow[]>`SELECT * FROM api_keys WHERE id = ${id}`;
    return row ? keyRecordOf(row) : undefined;
  }

  async list(): Promise<KeyView[]> {
    const rows = await this.#sql<(KeyRow & { worker_id: string | null })[]>`
      SELECT k.*, w.worker_id AS worker_id FROM api_keys k
      LEFT JOIN workers w ON w.key_id = k.id ORDER BY k.created_at DESC, k.id`;
    return rows.map((row) => ({ ...viewOf(keyRecordOf(row)), worker_id: row.worker_id }));
  }

  async revoke(id: string): Promise<void> {
    const result = await this.#sql`
      UPDATE api_keys SET active = FALSE, revoked_at = COALESCE(revoked_at, ${this.#now()})
      WHERE id = ${id}`;
    if (result.count === 0) throw new NotFoundError(`No key ${id}`);
  }
}
