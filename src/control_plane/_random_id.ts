/** Random ids for keys and workers. */

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
