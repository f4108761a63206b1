/**
 * Bounds on a command's params (protocol 8, v1.1): the control plane refuses to create a
 * command whose params nest deeper than 32 levels, whose RFC 8785 canonical form cannot be
 * computed (a lone UTF-16 surrogate, a non-finite number) or is larger than 64 KiB, because
 * no valid signature could cover it or an agent would refuse it.
 */
import canonicalize from "canonicalize";

/** Deepest nesting of params; the params object itself is level 1. */
export const MAX_PARAMS_DEPTH = 32;
/** Largest params in canonical form, in UTF-8 bytes. */
export const MAX_PARAMS_CANONICAL_BYTES = 64 * 1024;

/** The outcome of {@linkcode checkParamsBounds}. */
export type ParamsCheck =
  | { ok: true; canonicalBytes: number }
  | { ok: false; error: string };

/**
 * Whether `params` can be signed and stays within the bounds. Iterative, so no nesting depth
 * can overflow the stack.
 *
 * @example
 * ```ts
 * checkParamsBounds({ x: "\ud800" }); // { ok: false, error: "params: cannot be canonicalized (…)" }
 * ```
 */
export function checkParamsBounds(params: unknown): ParamsCheck {
  const depth = depthOf(params, MAX_PARAMS_DEPTH + 1);
  if (depth > MAX_PARAMS_DEPTH) {
    return { ok: false, error: `params: nest deeper than ${MAX_PARAMS_DEPTH} levels` };
  }
  let text: string | undefined;
  try {
    text = canonicalize(params);
  } catch (error) {
    return {
      ok: false,
      error: `params: cannot be canonicalized (${(error as Error)?.message ?? error})`,
    };
  }
  if (text === undefined) return { ok: false, error: "params: cannot be canonicalized" };
  const bytes = new TextEncoder().encode(text).byteLength;
  if (bytes > MAX_PARAMS_CANONICAL_BYTES) {
    return {
      ok: false,
      error: `params: ${bytes} bytes in canonical form, more than ${MAX_PARAMS_CANONICAL_BYTES}`,
    };
  }
  return { ok: true, canonicalBytes: bytes };
}

/**
 * Nesting depth of a JSON value (a scalar is 0, `{}` is 1), counted up to `stopAt`: a deeper
 * value returns `stopAt` without walking the rest.
 */
export function depthOf(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (level > deepest) deepest = level;
    if (deepest >= stopAt) return stopAt;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === "object") stack.push([child, level + 1]);
    }
  }
  return deepest;
}
