/** The seed agent's single-dash flags, rewritten to this CLI's forms before parsing. */

/**
 * Rewrites `-init` to the `init` subcommand (moved to the front), `-version` to `version`
 * and `-config P` / `-config=P` to `--config P` / `--config=P`. Other words pass unchanged.
 *
 * @example
 * ```ts
 * rewriteSeedFlags(["-config", "a.yaml", "-init"]); // ["init", "--config", "a.yaml"]
 * ```
 */
export function rewriteSeedFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  let subcommand: string | undefined;
  for (const arg of argv) {
    if (arg === "-init") subcommand = "init";
    else if (arg === "-version") subcommand = "version";
    else if (arg === "-config") out.push("--config");
    else if (arg.startsWith("-config=")) out.push(`--config=${arg.slice("-config=".length)}`);
    else out.push(arg);
  }
  return subcommand ? [subcommand, ...out] : out;
}
