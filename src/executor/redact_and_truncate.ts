/**
 * What a command result may carry (protocol 3.4, 1 MiB bodies): text and data with every
 * secret redacted, text cut to a length and data replaced by a note of its size when too big.
 * Used by the one result builder (`command_result.ts`).
 *
 * @module
 */
import { redactSecrets } from "../protocol/mod.ts";
import { redactDeep } from "./redact_deep.ts";

/** Longest `output` or `error` text sent, in characters. */
export const MAX_RESULT_TEXT = 8 * 1024;
/** Largest `data` sent, in bytes of JSON; bigger data is replaced by a note of its size. */
export const MAX_RESULT_DATA_BYTES = 256 * 1024;

/** `text` redacted and cut to `max` characters, saying how much was cut. */
export function redactAndTruncate(text: string, max: number = MAX_RESULT_TEXT): string {
  const clean = redactSecrets(text);
  if (clean.length <= max) return clean;
  const note = `… [${clean.length - max} more characters cut]`;
  return clean.slice(0, Math.max(0, max - note.length)) + note;
}

/**
 * `data` redacted, turned into plain JSON, and replaced by
 * `{ truncated: true, original_bytes }` when larger than `maxBytes`.
 */
export function redactAndBound(
  data: Record<string, unknown>,
  maxBytes: number = MAX_RESULT_DATA_BYTES,
): Record<string, unknown> {
  let json: string;
  try {
    json = JSON.stringify(redactDeep(data)) ?? "{}";
  } catch (error) {
    return { unserializable: true, reason: redactSecrets(String(error)) };
  }
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > maxBytes) return { truncated: true, original_bytes: bytes };
  const plain: unknown = JSON.parse(json);
  return plain !== null && typeof plain === "object" && !Array.isArray(plain)
    ? plain as Record<string, unknown>
    : { value: plain };
}
