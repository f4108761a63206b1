/** JSON columns: parse leniently, never throw on a damaged row. */

/** Parses a JSON column, returning `fallback` for NULL or damaged text. */
export function parseColumn<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A random id: `prefix` followed by `length` characters of `[a-z0-9]`. */
export function randomId(prefix: string, length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // 252 = 36 * 7: reject the tail so every character is equally likely.
      if (b < 252 && out.length < length) out += alphabet[b % 36];
    }
  }
  return prefix + out;
}
