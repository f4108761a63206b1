/**
 * Default locations of the agent's config file, state dir and logs on each OS
 * (interfaces.md section 2). Pure functions of the OS name and the environment, so tests
 * can ask for any OS.
 *
 * @module
 */

/** The environment variables these defaults read. */
export const PATH_ENV_VARS = [
  "HOME",
  "XDG_CONFIG_HOME",
  "XDG_STATE_HOME",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
] as const;

/** Options of the default-path functions. */
export interface PlatformPathOptions {
  /** The OS to answer for. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
  /** Environment lookup. @default {readEnv} */
  env?: (name: string) => string | undefined;
}

/** Reads an environment variable, answering `undefined` where permission is missing. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Default config file path: XDG on Linux, Application Support on macOS, APPDATA on Windows. */
export function defaultConfigPath(options: PlatformPathOptions = {}): string {
  const { os, env } = resolve(options);
  if (os === "windows") {
    return winJoin(windowsBase(env, "APPDATA", "AppData\\Roaming"), "worker-agent", "config.yaml");
  }
  if (os === "darwin") return `${macBase(env)}/config.yaml`;
  const base = nonEmpty(env("XDG_CONFIG_HOME")) ?? `${home(env)}/.config`;
  return `${base}/finetunelab/worker-agent/config.yaml`;
}

/** Default state dir (worker id, seen command ids, spool, status.json). */
export function defaultStateDir(options: PlatformPathOptions = {}): string {
  const { os, env } = resolve(options);
  if (os === "windows") {
    return winJoin(windowsBase(env, "LOCALAPPDATA", "AppData\\Local"), "worker-agent", "state");
  }
  if (os === "darwin") return `${macBase(env)}/state`;
  const base = nonEmpty(env("XDG_STATE_HOME")) ?? `${home(env)}/.local/state`;
  return `${base}/finetunelab/worker-agent`;
}

/** Default directory for log files a service definition points `log_file` at. */
export function defaultLogDir(options: PlatformPathOptions = {}): string {
  const { os, env } = resolve(options);
  if (os === "darwin") return `${home(env)}/Library/Logs/FineTuneLab/worker-agent`;
  const state = defaultStateDir(options);
  return os === "windows" ? `${state}\\logs` : `${state}/logs`;
}

/** Whether `path` is absolute on `os`. */
export function isAbsolutePath(path: string, os: typeof Deno.build.os = Deno.build.os): boolean {
  if (os === "windows") return /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]{2}/.test(path);
  return path.startsWith("/");
}

function resolve(options: PlatformPathOptions) {
  return { os: options.os ?? Deno.build.os, env: options.env ?? readEnv };
}

function macBase(env: (name: string) => string | undefined): string {
  return `${home(env)}/Library/Application Support/FineTuneLab/worker-agent`;
}

function windowsBase(
  env: (name: string) => string | undefined,
  name: string,
  underProfile: string,
): string {
  const direct = nonEmpty(env(name));
  if (direct) return winJoin(direct, "FineTuneLab");
  const profile = nonEmpty(env("USERPROFILE")) ?? "C:\\Users\\Default";
  return winJoin(profile, underProfile, "FineTuneLab");
}

function home(env: (name: string) => string | undefined): string {
  const value = nonEmpty(env("HOME"));
  if (!value) {
    throw new TypeError("HOME is not set: set HOME or pass --config and --state-dir explicitly");
  }
  return value.replace(/\/+$/, "");
}

function winJoin(...parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, "") : p)).join("\\");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
