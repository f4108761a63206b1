/** Keys on SQLite (see `KeyRepository`). */
import type { DatabaseSync } from "node:sqlite";
import { NotFoundError } from "../errors.ts";
import { type KeyRecord, type KeyView, viewOf } from "../records.ts";
import type { KeyRepository } from "../repositories.ts";
import { keyRecordOf, type KeyRow } from "../row_views.ts";
import { authenticateKey, createKeyWithFreePrefix } from "../shared_rules.ts";

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

  create(
    name: string,
    scopes: readonly string[] = ["worker"],
  ): Promise<{ record: KeyRecord; key: string }> {
    // A prefix already taken: the insert does nothing, and another key is made.
    return createKeyWithFreePrefix((made) => {
      const row = this.#db.prepare(
        `INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, active, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT (prefix) DO NOTHING RETURNING *`,
      ).get(
        this.#newId(),
        name,
        made.prefix,
        made.hash,
        JSON.stringify(scopes),
        made.signingKey,
        this.#now(),
      ) as KeyRow | undefined;
      return Promise.resolve(row ? keyRecordOf(row) : undefined);
    });
  }

  authenticate(rawKey: string): Promise<KeyRecord | undefined> {
    return authenticateKey(rawKey, this.#now(), {
      byPrefix: (prefix) =>
        Promise.resolve(
          this.#db.prepare("SELECT * FROM api_keys WHERE prefix = ?").get(prefix) as
            | KeyRow
            | undefined,
        ),
      noteUse: (id, at) => {
        this.#db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(at, id);
        return Promise.resolve();
      },
    });
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
