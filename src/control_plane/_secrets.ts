/** Hashing and comparing secrets (worker keys, the admin token) in constant time. */
import { timingSafeEqual } from "node:crypto";

/** SHA-256 of the UTF-8 of `text`, as raw bytes. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/**
 * Compares two secrets in constant time by hashing both first, so neither the content nor
 * the length of the expected secret leaks through timing (`node:crypto`'s `timingSafeEqual`
 * compares the two 32-byte digests).
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  return timingSafeEqual(await sha256(given), await sha256(expected));
}
