/**
 * Rules both adapters apply the same way: the metadata cap, key creation (a free prefix) and
 * authentication (constant-time, last use noted at most once a minute), the schema version.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import {
  apiKeyPrefix,
  deriveSigningKey,
  fromHex,
  generateApiKey,
  isApiKey,
  toHex,
} from "../_deps.ts";
import { sha256 } from "../_secrets.ts";
import { InvalidInputError } from "./errors.ts";
import { type KeyRecord, MAX_METADATA_BYTES } from "./records.ts";
import { flagSet, keyRecordOf, type KeyRow } from "./row_views.ts";

/** Updates of a key's `last_used_at` closer together than this are skipped (saves writes). */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Fresh key material: the raw key (shown once), its prefix, hash and signing key. */
export interface NewKeyMaterial {
  key: string;
  prefix: string;
  hash: string;
  signingKey: Uint8Array;
}

/** How an engine finds a key by prefix and notes its use. */
export interface KeyLookup {
  byPrefix(prefix: string): Promise<KeyRow | undefined>;
  noteUse(id: string, at: number): Promise<void>;
}

/**
 * The active key whose hash matches `rawKey`, noting its use (at most once per
 * {@linkcode LAST_USED_RESOLUTION_MS}); undefined for any other key.
 */
export async function authenticateKey(
  rawKey: string,
  now: number,
  lookup: KeyLookup,
): Promise<KeyRecord | undefined> {
  if (!isApiKey(rawKey)) return undefined;
  const given = await sha256(rawKey);
  const row = await lookup.byPrefix(apiKeyPrefix(rawKey));
  // Compare against a dummy when there is no row, so timing does not tell the two apart.
  const expected = row ? fromHex(row.hash) : new Uint8Array(32);
  const same = timingSafeEqual(given, expected);
  if (!row || !same || !flagSet(row.active)) return undefined;
  if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
    await lookup.noteUse(row.id, now);
    row.last_used_at = now;
  }
  return keyRecordOf(row);
}

/** Keys made before {@linkcode createKeyWithFreePrefix} gives up (a prefix clash is 1 in 62^n). */
const KEY_ATTEMPTS = 6;

/**
 * Makes key material until `insert` stores it: `insert` returns the stored record, or
 * undefined when the prefix was taken (then another key is made).
 */
export async function createKeyWithFreePrefix<T>(
  insert: (made: NewKeyMaterial) => Promise<T | undefined>,
): Promise<{ record: T; key: string }> {
  for (let attempt = 1; attempt <= KEY_ATTEMPTS; attempt++) {
    const made = await newKeyMaterial();
    const record = await insert(made);
    if (record !== undefined) return { record, key: made.key };
  }
  throw new Error("could not find a free key prefix");
}

/** Makes a new raw key and what is stored of it. */
async function newKeyMaterial(): Promise<NewKeyMaterial> {
  const key = generateApiKey();
  return {
    key,
    prefix: apiKeyPrefix(key),
    hash: toHex(await sha256(key)),
    signingKey: await deriveSigningKey(key),
  };
}

/** `metadata` as stored JSON text. @throws {InvalidInputError} over the cap. */
export function cappedMetadata(metadata: Record<string, unknown>): string {
  const text = JSON.stringify(metadata);
  if (new TextEncoder().encode(text).byteLength > MAX_METADATA_BYTES) {
    throw new InvalidInputError(
      `metadata: more than ${MAX_METADATA_BYTES} bytes of JSON (heartbeats merge into the stored metadata)`,
      { field: "metadata" },
    );
  }
  return text;
}

/** UTF-8 length of `text` without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) i++; // a pair: 4 bytes for 2 units
    else bytes += 2;
  }
  return bytes;
}

/** Creates the table of applied migrations (the same SQL on both engines). */
export const CREATE_SCHEMA_VERSION_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";

/** The schema version read back: the highest applied (0 for an empty database). */
export const SELECT_SCHEMA_VERSION = "SELECT MAX(version) AS v FROM schema_version";

/**
 * Checks that a database at schema `current` can be migrated by a control plane that knows
 * `known` migrations. @throws {RangeError} when the database is newer.
 */
export function checkSchemaVersion(current: number, known: number): void {
  if (current > known) {
    throw new RangeError(
      `The database has schema version ${current}, newer than this control plane knows ` +
        `(${known}); upgrade the control plane`,
    );
  }
}
