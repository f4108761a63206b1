/** Worker API keys: stored as prefix, SHA-256 hash and derived signing key, never raw. */
import type { DatabaseSync } from "node:sqlite";
import {
  apiKeyPrefix,
  deriveSigningKey,
  fromHex,
  generateApiKey,
  isApiKey,
  toHex,
} from "./_deps.ts";
import { parseColumn } from "./_json.ts";
import { timingSafeEqual } from "node:crypto";
import { sha256 } from "./_secrets.ts";

/** Scopes a key can have; worker endpoints need `worker` or `all` (protocol 2). */
export const KEY_SCOPES = ["worker", "all", "read"] as const;

/** A stored key, without any secret except the derived signing key. */
export interface KeyRecord {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  signingKey: Uint8Array;
  active: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** The public view of a key for the admin API. */
export interface KeyView {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  active: boolean;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  worker_id: string | null;
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string;
  signing_key: Uint8Array;
  active: number;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Updates of `last_used_at` closer together than this are skipped (saves writes). */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Key storage on the control plane database. */
export class KeyStore {
  #db: DatabaseSync;
  #now: () => number;
  #newId: () => string;

  /** Creates the store; `newId` makes key ids. */
  constructor(db: DatabaseSync, options: { now: () => number; newId: () => string }) {
    this.#db = db;
    this.#now = options.now;
    this.#newId = options.newId;
  }

  /** Creates a key and returns it with the raw key, which is never stored. */
  async create(
    name: string,
    scopes: readonly string[] = ["worker"],
  ): Promise<{ record: KeyRecord; key: string }> {
    for (let attempt = 0;; attempt++) {
      const key = generateApiKey();
      const prefix = apiKeyPrefix(key);
      const exists = this.#db.prepare("SELECT 1 FROM api_keys WHERE prefix = ?").get(prefix);
      if (exists && attempt < 5) continue;
      const hash = toHex(await sha256(key));
      const signingKey = await deriveSigningKey(key);
      const id = this.#newId();
      const now = this.#now();
      this.#db.prepare(
        `INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, active, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
      ).run(id, name, prefix, hash, JSON.stringify(scopes), signingKey, now);
      return { record: this.get(id)!, key };
    }
  }

  /**
   * The active key matching `rawKey`, or `undefined`. Looks up by prefix, then compares
   * the SHA-256 hash in constant time.
   */
  async authenticate(rawKey: string): Promise<KeyRecord | undefined> {
    if (!isApiKey(rawKey)) return undefined;
    const row = this.#db.prepare("SELECT * FROM api_keys WHERE prefix = ?").get(
      apiKeyPrefix(rawKey),
    ) as KeyRow | undefined;
    const given = await sha256(rawKey);
    // Compare against a dummy when there is no row, so timing does not tell the two apart.
    const expected = row ? fromHex(row.hash) : new Uint8Array(32);
    const same = timingSafeEqual(given, expected);
    if (!row || !same || row.active !== 1) return undefined;
    const now = this.#now();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      this.#db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now, row.id);
      row.last_used_at = now;
    }
    return toRecord(row);
  }

  /** The key with id `id`. */
  get(id: string): KeyRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as
      | KeyRow
      | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Every key, newest first, as the admin API shows them. */
  list(): KeyView[] {
    const rows = this.#db.prepare(
      `SELECT k.*, w.worker_id AS worker_id FROM api_keys k
       LEFT JOIN workers w ON w.key_id = k.id ORDER BY k.created_at DESC, k.id`,
    ).all() as unknown as (KeyRow & { worker_id: string | null })[];
    return rows.map((row) => ({ ...viewOf(toRecord(row)), worker_id: row.worker_id }));
  }

  /** Marks a key inactive; returns false when there is no such key. */
  revoke(id: string): boolean {
    const result = this.#db.prepare(
      "UPDATE api_keys SET active = 0, revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
    ).run(this.#now(), id);
    return Number(result.changes) > 0;
  }
}

/** The admin API's view of a key (no secret). */
export function viewOf(record: KeyRecord): Omit<KeyView, "worker_id"> {
  return {
    id: record.id,
    name: record.name,
    key_prefix: record.prefix,
    scopes: record.scopes,
    active: record.active,
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
    revoked_at: record.revokedAt,
  };
}

function toRecord(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: parseColumn<string[]>(row.scopes, []),
    signingKey: new Uint8Array(row.signing_key),
    active: row.active === 1,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
