/**
 * `worker-agent`: the FineTuneLab worker agent's command line.
 *
 * This file is the one place where errors become exit codes: 0 clean stop, 1 runtime
 * failure, 2 usage or config error, 75 restart requested.
 *
 * @module
 */
import { CommanderError } from "@commander-js/extra-typings";
import { ConfigError } from "./src/config/config_error.ts";
import { UsageError } from "./src/shared/usage_error.ts";
import { ExitCode } from "./src/cli/exit_code.ts";
import { StateDirLockedError } from "./src/state/state_dir.ts";
import { redactSecrets } from "./src/protocol/api_key.ts";
import { readEnv } from "./src/platform/paths.ts";
import { revokedAtStartNote } from "./src/permissions/revoke_permissions.ts";
import { describePermissionError } from "./src/platform/permission_error.ts";

/** Maps an error thrown by a command to its exit code and the one line to print (if any). */
export function exitCodeFor(error: unknown): { code: number; message?: string } {
  if (error instanceof CommanderError) {
    // Commander printed its own one-line message (or the help/version) already.
    const clean = ["commander.helpDisplayed", "commander.help", "commander.version"];
    return { code: clean.includes(error.code) ? ExitCode.ok : ExitCode.usage };
  }
  if (error instanceof ConfigError) return { code: ExitCode.usage, message: error.message };
  if (error instanceof UsageError) {
    return { code: ExitCode.usage, message: `error: ${error.message}` };
  }
  if (error instanceof StateDirLockedError) {
    return { code: ExitCode.usage, message: `error: ${error.message}` };
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    // A grant the agent gave up at start: asking for the flag again would not help.
    const revoked = revokedAtStartNote((error as Error).message);
    if (revoked !== undefined) {
      return { code: ExitCode.failure, message: `error: ${(error as Error).message}; ${revoked}` };
    }
  }
  const permission = describePermissionError(error);
  if (permission !== undefined) return { code: ExitCode.failure, message: `error: ${permission}` };
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return {
      code: ExitCode.failure,
      message: `error: ${
        (error as Error).message
      }; run with the flags from \`worker-agent permissions\``,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: ExitCode.failure, message: `error: ${message}` };
}

/** Runs the CLI with `args` and returns the exit code; never throws. */
export async function main(args: readonly string[]): Promise<number> {
  try {
    const { runCli } = await import("./src/cli/program.ts");
    return await runCli(args);
  } catch (error) {
    const { code, message } = exitCodeFor(error);
    if (message) console.error(redactSecrets(message));
    if (code === ExitCode.failure && readEnv("FTL_DEBUG") === "1" && error instanceof Error) {
      console.error(redactSecrets(error.stack ?? ""));
    }
    return code;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
