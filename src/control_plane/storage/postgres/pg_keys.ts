/** Keys on PostgreSQL (see `KeyRepository`). */
import { timingSafeEqual } from "node:crypto";
import { apiKeyPrefix, fromHex, isApiKey } from "../../_deps.ts";
import { sha256 } from "../../_secrets.ts";
import { NotFoundError } from "../errors.ts";
import { type KeyRecord, type KeyView, viewOf } from "../records.ts";
import type { KeyRepository } from "../repositories.ts";
import { keyRecordOf, type KeyRow } from "../row_views.ts";
import { LAST_USED_RESOLUTION_MS, newKeyMaterial } from "../shared_rules.ts";
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
    for (let attempt = 0;; attempt++) {
      const made = await newKeyMaterial();
      // A prefix already taken (1 in 62^n): the insert does nothing, and another key is made.
      const rows = await this.#sql<KeyRow[]>`
        INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, active, created_at)
        VALUES (${this.#newId()}, ${name}, ${made.prefix}, ${made.hash},
                ${JSON.stringify(scopes)}, ${made.signingKey}, TRUE, ${this.#now()})
        ON CONFLICT (prefix) DO NOTHING RETURNING *`;
      if (rows[0]) return { record: keyRecordOf(rows[0]), key: made.key };
      if (attempt >= 5) throw new Error("could not find a free key prefix");
    }
  }

  async authenticate(rawKey: string): Promise<KeyRecord | undefined> {
    if (!isApiKey(rawKey)) return undefined;
    const given = await sha256(rawKey);
    const [row] = await this.#sql<KeyRow[]>`
      SELECT * FROM api_keys WHERE prefix = ${apiKeyPrefix(rawKey)}`;
    // Compare against a dummy when there is no row, so timing does not tell the two apart.
    const expected = row ? fromHex(row.hash) : new Uint8Array(32);
    const same = timingSafeEqual(given, expected);
    if (!row || !same || !row.active) return undefined;
    const now = this.#now();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      await this.#sql`UPDATE api_keys SET last_used_at = ${now} WHERE id = ${row.id}`;
      row.last_used_at = now;
    }
    return keyRecordOf(row);
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
