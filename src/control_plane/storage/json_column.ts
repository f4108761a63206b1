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
