/**
 * A small, fast, non-cryptographic hash: enough for an ETag or to catch a torn record.
 *
 * @module
 */

/**
 * 32-bit FNV-1a of `text`'s UTF-16 code units, as 8 hex digits.
 *
 * @example
 * ```ts
 * fnv1a("") === "811c9dc5";
 * ```
 */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
