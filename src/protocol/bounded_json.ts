/**
 * Reading JSON a peer sent, with the bounds of protocol v1.1 section 8: an answer larger than
 * 4 MiB, nested deeper than 64 levels, or not JSON at all is a failed request, never an
 * exception that reaches a loop.
 *
 * @module
 */

/** Largest answer body the agent reads; more is not buffered (protocol 8, v1.1). */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Deepest nesting of objects and arrays accepted in an answer or frame (protocol 8, v1.1). */
export const MAX_JSON_DEPTH = 64;

/** What {@linkcode parseBoundedJson} found. */
export type BoundedJson = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Whether JSON `text` nests objects and arrays deeper than `limit`, decided by one scan
 * without parsing (so a hostile document cannot reach a recursive parser or validator).
 * Brackets inside strings are not counted. Text that is not JSON gives some answer; the
 * parse that follows refuses it anyway.
 */
export function jsonDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses JSON text from a peer: refuses nesting deeper than `maxDepth` before parsing, and
 * text that is not JSON, with a reason instead of an exception.
 *
 * @example
 * ```ts
 * const parsed = parseBoundedJson(await response.text());
 * if (!parsed.ok) return { kind: "retry", reason: `unreadable answer: ${parsed.error}` };
 * ```
 */
export function parseBoundedJson(
  text: string,
  options: { maxDepth?: number } = {},
): BoundedJson {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (jsonDeeperThan(text, maxDepth)) {
    return { ok: false, error: `JSON nested deeper than ${maxDepth} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `not JSON (${(error as Error).message.slice(0, 200)})` };
  }
}
