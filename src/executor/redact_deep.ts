/** Removing secrets from any JSON-like value before it leaves the agent. */
import { redactSecrets } from "../protocol/mod.ts";

/** Object keys whose string values are secrets whatever they look like. */
export const SECRET_KEY_PATTERN: RegExp =
  /api[_-]?key|token|secret|passw(or)?d|authorization|cookie|private[_-]?key|signing[_-]?key|credential/i;

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/** Nesting deeper than this is cut off (`"[too deep]"`). */
const MAX_DEPTH = 32;

/**
 * A copy of `value` with secrets removed: every string passes through `redactSecrets`
 * (worker keys, bearer tokens, `token=…` pairs), and the string value of any key that names
 * a secret (`api_key`, `password`, `authorization`, …) becomes `"[redacted]"`. Cycles become
 * `"[circular]"`; functions and symbols are dropped, as `JSON.stringify` would.
 *
 * @example
 * ```ts
 * redactDeep({ config: { api_key: "wak_…" }, note: "Bearer abc" });
 * // { config: { api_key: "[redacted]" }, note: "Bearer [redacted]" }
 * ```
 */
export function redactDeep(value: unknown): unknown {
  return walk(value, 0, new Set());
}

function walk(value: unknown, depth: number, path: Set<object>): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  }
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (path.has(value)) return "[circular]";
  path.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, path));
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const safeKey = redactSecrets(key);
      if (SECRET_KEY_PATTERN.test(key) && typeof item === "string" && item !== "") {
        out[safeKey] = REDACTED;
      } else {
        const walked = walk(item, depth + 1, path);
        if (walked !== undefined) out[safeKey] = walked;
      }
    }
    return out;
  } finally {
    path.delete(value);
  }
}
