/**
 * Rewriting the command line before parsing: the legacy single-dash flags of the first agent
 * (the "seed": `-init`, `-config P`, `-version`), and `--config` anywhere on the line.
 *
 * @module
 */

/**
 * Rewrites `-init` to the `init` subcommand (moved to the front), `-version` to `version`
 * and `-config P` / `-config=P` to `--config P` / `--config=P`. Other words pass unchanged.
 *
 * @example
 * ```ts
 * rewriteLegacyFlags(["-config", "a.yaml", "-init"]); // ["init", "--config", "a.yaml"]
 * ```
 */
export function rewriteLegacyFlags(argv: readonly string[]): string[] {
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

/**
 * Moves every `--config P`, `--config=P`, `-c P` to the end of the line, so that it works
 * before the subcommand as well as after it (`deno task agent --config P status`): the
 * subcommands own the option, and the parser only sees it after one was named. Everything
 * after a `--` is left alone.
 *
 * @example
 * ```ts
 * moveConfigFlagsLast(["--config", "a.yaml", "status", "--json"]);
 * // ["status", "--json", "--config", "a.yaml"]
 * ```
 */
export function moveConfigFlagsLast(words: readonly string[]): string[] {
  const rest: string[] = [];
  const config: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      rest.push(...words.slice(i));
      break;
    }
    if ((word === "--config" || word === "-c") && i + 1 < words.length) {
      config.push(word, words[++i]!);
    } else if (word.startsWith("--config=")) config.push(word);
    else rest.push(word);
  }
  const end = rest.indexOf("--");
  return end < 0 ? [...rest, ...config] : [...rest.slice(0, end), ...config, ...rest.slice(end)];
}
