/**
 * What a service installed from a source checkout bakes into its definition, said out loud
 * by `service install`: the deno binary, the checkout's `main.ts` and the permission flags of
 * the config at install time (including the `--allow-net` host of `base_url`).
 *
 * @module
 */

/**
 * The note `service install` prints for `command` (the service's program and arguments), or
 * undefined when the service runs a compiled binary, whose flags do not depend on the config.
 */
export function serviceSourceNote(command: readonly string[]): string | undefined {
  const [program = "", ...args] = command;
  const base = program.replace(/^.*[\\/]/, "").toLowerCase();
  if (base !== "deno" && base !== "deno.exe") return undefined;
  const entry = args.find((arg) => /main\.ts$/.test(arg)) ?? "main.ts";
  const net = args.find((arg) => arg.startsWith("--allow-net="))?.slice("--allow-net=".length);
  return [
    `note: installed from a source checkout, this service runs ${program} on ${entry}`,
    `  with the permission flags of this config as it is now${net ? ` (--allow-net=${net})` : ""}.`,
    "  After moving the checkout or deno, or changing base_url, proxy, state_dir, log_file,",
    "  ca_file or trading.command, run `deno task agent service install` again. Until then",
    "  `run` refuses to start and names what its flags lack.",
  ].join("\n");
}
