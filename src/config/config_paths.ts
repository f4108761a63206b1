/**
 * Config keys that name paths the agent writes (`log_file`, `state_dir`): a path that cannot
 * be used is a one-line config error naming the key (exit 2), not a raw OS error.
 *
 * @module
 */
import { missingPermissionFlag } from "../platform/permission_error.ts";
import { ConfigError } from "./config_error.ts";

/** The config error for `key` (a path) that failed with `error` while being opened or created. */
export function configPathError(
  key: "log_file" | "state_dir",
  path: string,
  error: unknown,
  options: { source?: string } = {},
): ConfigError {
  const what = key === "log_file" ? "a log file" : "a directory";
  const flag = missingPermissionFlag(error);
  let problem: string;
  let fix: string;
  if (flag !== undefined) {
    problem = `the agent has no Deno permission to write ${path}`;
    fix = `run with ${flag} (\`worker-agent permissions\` prints every flag this config needs)`;
  } else if (
    error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists ||
    error instanceof Deno.errors.IsADirectory
  ) {
    problem = `${path} cannot be ${what}: something else is in the way`;
    fix = key === "log_file"
      ? 'point log_file at a file in a directory the agent can write, or set it to ""'
      : "point state_dir at a directory (not a file), or leave it empty for the OS default";
  } else if (error instanceof Deno.errors.PermissionDenied) {
    problem = `${path} is not writable by this user`;
    fix = key === "log_file"
      ? "make it writable by the user running the agent, or choose another log_file"
      : "make it writable by the user running the agent, or choose another state_dir";
  } else {
    problem = `cannot use ${path} (${(error as Error)?.message ?? String(error)})`;
    fix = key === "log_file"
      ? 'use a file path the agent can write, or "" to log to stderr'
      : "use a directory path the agent can write, or leave it empty for the OS default";
  }
  return new ConfigError(problem, {
    key,
    value: path,
    fix,
    ...(options.source !== undefined ? { source: options.source } : {}),
    cause: error,
  });
}

/**
 * Checks that `log_file` can be opened for appending (creating its directory), so a bad
 * path stops the start with one config line instead of failing at the first log line.
 * An empty path (stderr) is always fine.
 *
 * @throws {ConfigError} naming `log_file`.
 */
export async function checkLogFile(path: string): Promise<void> {
  if (path === "") return;
  try {
    const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
    if (i > 0) await Deno.mkdir(path.slice(0, i), { recursive: true, mode: 0o700 });
    const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
    file.close();
  } catch (error) {
    throw configPathError("log_file", path, error);
  }
}
