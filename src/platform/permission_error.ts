/** Naming the Deno permission flag behind a `NotCapable` error. */

/**
 * The flag (with its value) that the Deno permission error `error`, or one of its causes,
 * asks for, e.g. `--allow-net=cp.example.com:443`; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * try { await Deno.readTextFile(path); } catch (error) {
 *   const flag = missingPermissionFlag(error); // "--allow-read=/etc/agent/config.yaml"
 * }
 * ```
 */
export function missingPermissionFlag(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    const match = /Requires (\w+) access to "?([^",]*)"?, run again with the (--allow-[\w-]+) flag/
      .exec(e.message);
    if (match) return match[2] ? `${match[3]}=${match[2]}` : match[3];
    if (e instanceof Deno.errors.NotCapable) return undefined;
    e = e.cause;
  }
  return undefined;
}

/**
 * One sentence for a Deno permission error: which flag is missing and where the full set is
 * printed. `undefined` when `error` is not a permission error.
 */
export function describePermissionError(error: unknown): string | undefined {
  const flag = missingPermissionFlag(error);
  if (flag === undefined) return undefined;
  return `Deno permission missing: run with ${flag} (\`worker-agent permissions\` prints every flag this config needs)`;
}
