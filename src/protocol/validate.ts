/** Turning zod results into one human line that names the field. */
import type { z } from "zod";

/** The outcome of {@linkcode validate}. */
export type Validated<T> = { ok: true; value: T } | { ok: false; error: string; field: string };

/**
 * Validates `value` against `schema`. On failure `error` names the first bad field by its
 * dotted path and says what was expected, e.g. `samples.0.seq: expected number, received string`.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown): Validated<z.infer<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)";
  const message = (issue?.message ?? "invalid").replace(/^Invalid input: /, "");
  return { ok: false, error: `${field}: ${message}`, field };
}

/**
 * Parses JSON text and validates it; a syntax error is reported like a bad field named
 * `(body)`.
 */
export function parseJson<S extends z.ZodType>(schema: S, text: string): Validated<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      error: `(body): not valid JSON (${(e as Error).message})`,
      field: "(body)",
    };
  }
  return validate(schema, value);
}
