/**
 * Rules both adapters apply the same way: the metadata cap, key material, the merge of
 * heartbeat metadata, the time a key's last use is noted.
 *
 * @module
 */
import { apiKeyPrefix, deriveSigningKey, generateApiKey, toHex } from "../_deps.ts";
import { sha256 } from "../_secrets.ts";
import { InvalidInputError } from "./errors.ts";
import { MAX_METADATA_BYTES } from "./records.ts";

/** Updates of a key's `last_used_at` closer together than this are skipped (saves writes). */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Fresh key material: the raw key (shown once), its prefix, hash and signing key. */
export interface NewKeyMaterial {
  key: string;
  prefix: string;
  hash: string;
  signingKey: Uint8Array;
}

/** Makes a new raw key and what is stored of it. */
export async function newKeyMaterial(): Promise<NewKeyMaterial> {
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
