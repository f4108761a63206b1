/**
 * Every field the dashboard reads from the server is untrusted data of any type, not only a
 * string of any content (issue 10). These helpers are the only way values reach the page:
 *
 * - {@linkcode text} turns any value into display text without calling the value's own
 *   methods (`String()`, concatenation and `join` call a hostile `toString`);
 * - {@linkcode formatJson} shows JSON bounded in depth and length, where `JSON.stringify`
 *   overflows the stack on deep data;
 * - {@linkcode record} and {@linkcode records} check that a value is a plain object before
 *   its members are read, and type it as {@linkcode Untrusted}: the field names of the
 *   server's own types, each of type `unknown`, so the compiler makes the code go through
 *   these helpers;
 * - {@linkcode safeDecode} decodes a URL part without throwing.
 *
 * @module
 */

/** The fields of `T` (the server's type of an answer), each of any type and maybe missing. */
export type Untrusted<T> = { readonly [K in keyof T]?: unknown };

/** Deepest level of JSON the dashboard shows; deeper values are shown as `{…}` / `[…]`. */
export const JSON_VIEW_MAX_DEPTH = 12;
/** Most characters of one JSON view; the rest is cut with `…`. */
export const JSON_VIEW_MAX_CHARS = 20_000;

/** Whether `value` is an object that is not an array (or null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `value` as an untrusted `T` when it is a plain object, else undefined. */
export function record<T>(value: unknown): Untrusted<T> | undefined {
  return isObject(value) ? value as Untrusted<T> : undefined;
}

/** The plain objects of an untrusted list, as untrusted `T`s (anything else is skipped). */
export function records<T>(value: unknown): Untrusted<T>[] {
  return Array.isArray(value) ? value.filter(isObject) as Untrusted<T>[] : [];
}

/** A finite number, or undefined. */
export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A string, or undefined (no conversion: a non-string is not a string). */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Any value as display text, without ever calling the value's own methods: strings as they
 * are, numbers and booleans as usual, null/undefined as `fallback`, anything else as short
 * bounded JSON.
 */
export function text(value: unknown, fallback = ""): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  return formatJson(value, { indent: 0, maxChars: 200 });
}

/** A list of untrusted values as text, joined with `separator`. */
export function joinText(values: unknown, separator: string): string {
  return Array.isArray(values) ? values.map((v) => text(v)).join(separator) : "";
}

/** Options of {@linkcode formatJson}. */
export interface FormatJsonOptions {
  /** Spaces per level; 0 for one line. @default {2} */
  indent?: number;
  /** @default {JSON_VIEW_MAX_DEPTH} */
  maxDepth?: number;
  /** @default {JSON_VIEW_MAX_CHARS} */
  maxChars?: number;
}

/**
 * JSON text of any value, bounded in depth (deeper levels show as `{…}` / `[…]`) and in
 * length (cut with `…`), so no data can overflow the stack or flood the page. Only own
 * enumerable keys are read, and no method of the value is called.
 */
export function formatJson(value: unknown, options: FormatJsonOptions = {}): string {
  const indent = options.indent ?? 2;
  const maxDepth = options.maxDepth ?? JSON_VIEW_MAX_DEPTH;
  const maxChars = options.maxChars ?? JSON_VIEW_MAX_CHARS;
  let out = "";
  let full = false;
  const write = (piece: string) => {
    if (full) return;
    if (out.length + piece.length > maxChars) {
      out += piece.slice(0, Math.max(0, maxChars - out.length)) + "…";
      full = true;
    } else out += piece;
  };
  const newline = (level: number) => indent > 0 ? "\n" + " ".repeat(indent * level) : "";
  const scalar = (v: unknown): string => {
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    return "null";
  };
  const walk = (v: unknown, level: number): void => {
    if (full) return;
    if (v === null || typeof v !== "object") return write(scalar(v));
    const list = Array.isArray(v) ? v as unknown[] : undefined;
    const keys = list ? [] : Object.keys(v);
    const count = list ? list.length : keys.length;
    if (count === 0) return write(list ? "[]" : "{}");
    if (level >= maxDepth) return write(list ? "[…]" : "{…}");
    write(list ? "[" : "{");
    for (let i = 0; i < count && !full; i++) {
      if (i > 0) write(",");
      write(newline(level + 1));
      if (!list) write(JSON.stringify(keys[i]) + (indent > 0 ? ": " : ":"));
      walk(list ? list[i] : (v as Record<string, unknown>)[keys[i]!], level + 1);
    }
    write(newline(level));
    write(list ? "]" : "}");
  };
  walk(value, 0);
  return out;
}

/** `decodeURIComponent` that never throws: a malformed escape (`%E0%A4%A`) is kept as typed. */
export function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
