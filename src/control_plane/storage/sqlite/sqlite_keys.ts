/** Keys on SQLite (see `KeyRepository`). */
import type { DatabaseSync } from "node:sqlite";
import { timingSafeEqual } from "node:crypto";
import { apiKeyPrefix, fromHex, isApiKey } from "../../_deps.ts";
import { sha256 } from "../../_secrets.ts";
import { NotFoundError } from "../errors.ts";
import type { KeyRecord, KeyView } from "../records.ts";
import { viewOf } from "../records.ts";
import type { KeyRepository } from "../repositories.ts";
import { keyRecordOf, type KeyRow } from "../row_views.ts";
import { LAST_USED_RESOLUTION_MS, newKeyMaterial } from "../shared_rules.ts";

/** Key storage on the SQLite database. */
export class SqliteKeys implements KeyRepository {
  #db: DatabaseSync;
  #now: () => number;
  #newId: () => string;

  /** Creates the repository; `newId` makes key ids. */
  constructor(db: DatabaseSync, options: { now: () => number; newId: () => string }) {
    this.#db = db;
    this.#now = options.now;
    this.#newId = options.newId;
  }

  async create(
    name: string,
    scopes: readonly string[] = ["worker"],
  ): Promise<{ record: KeyRecord; key: string }> {
    for (let attempt = 0;; attempt++) {
      const made = await newKeyMaterial();
      const exists = this.#db.prepare("SELECT 1 FROM api_keys WHERE prefix = ?").get(made.prefix);
      if (exists && attempt < 5) continue;
      const id = this.#newId();
      this.#db.prepare(
        `INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, active, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
      ).run(id, name, made.prefix, made.hash, JSON.stringify(scopes), made.signingKey, this.#now());
      return { record: this.#get(id)!, key: made.key };
    }
  }

  async authenticate(rawKey: string): Promise<KeyRecord | undefined> {
    if (!isApiKey(rawKey)) return undefined;
    const given = await sha256(rawKey);
    const row = this.#db.prepare("SELECT * FROM api_keys WHERE prefix = ?").get(
      apiKeyPrefix(rawKey),
    ) as KeyRow | undefined;
    // Compare against a dummy when there is no row, so timing does not tell the two apart.
    const expected = row ? fromHex(row.hash) : new Uint8Array(32);
    const same = timingSafeEqual(given, expected);
    if (!row || !same || row.active !== 1) return undefined;
    const now = this.#now();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      this.#db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now, row.id);
      row.last_used_at = now;
    }
    return keyRecordOf(row);
  }

  get(id: string): Promise<KeyRecord | undefined> {
    return Promise.resolve(this.#get(id));
  }

  list(): Promise<KeyView[]> {
    const rows = this.#db.prepare(
      `SELECT k.*, w.worker_id AS worker_id FROM api_keys k
       LEFT JOIN workers w ON w.key_id = k.id ORDER BY k.created_at DESC, k.id`,
    ).all() as unknown as (KeyRow & { worker_id: string | null })[];
    return Promise.resolve(
      rows.map((row) => ({ ...viewOf(keyRecordOf(row)), worker_id: row.worker_id })),
    );
  }

  revoke(id: string): Promise<void> {
    const result = this.#db.prepare(
      "UPDATE api_keys SET active = 0, revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
    ).run(this.#now(), id);
    if (Number(result.changes) === 0) throw new NotFoundError(`No key ${id}`);
    return Promise.resolve();
  }

  #get(id: string): KeyRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as
      | KeyRow
      | undefined;
    return row ? keyRecordOf(row) : undefined;
  }
}
