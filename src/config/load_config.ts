/**
 * Loading the agent's configuration: flags > environment > file > defaults
 * (interfaces.md section 2), with one-line errors that name the key, the value and the fix.
 *
 * @module
 */
import { parseDocument } from "yaml";
import { describeApiKeyProblem, redactSecrets } from "../protocol/api_key.ts";
import {
  defaultConfigPath,
  defaultStateDir,
  isAbsolutePath,
  PATH_ENV_VARS,
  readEnv,
} from "../platform/paths.ts";
import { ConfigError } from "./config_error.ts";
import {
  type AgentConfig,
  AgentConfigSchema,
  CONFIG_FIXES,
  CONFIG_KEYS,
  describeBaseUrlApiSuffix,
  TRADING_KEYS,
} from "./schema.ts";
import { suggestKey } from "./_suggest_key.ts";
import { missingPermissionFlag } from "../platform/permission_error.ts";

/** Environment variables that override the config file. */
export const CONFIG_ENV_VARS = [
  "FTL_CONFIG",
  "FTL_API_KEY",
  "FTL_BASE_URL",
  "FTL_LOG_LEVEL",
  "FTL_STATE_DIR",
] as const;

/** Command-line values that override everything else. */
export interface ConfigFlags {
  /** `--api-key` */
  apiKey?: string;
  /** `--base-url` */
  baseUrl?: string;
  /** `--log-level` */
  logLevel?: string;
  /** `--state-dir` */
  stateDir?: string;
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Config file path (`--config`). @default {FTL_CONFIG, else the OS default} */
  path?: string;
  /** Command-line overrides. */
  flags?: ConfigFlags;
  /** Environment; only the variables named in this module are read. @default {the process's} */
  env?: Record<string, string | undefined>;
  /** System hostname used when `hostname` is empty. @default {Deno.hostname} */
  hostname?: () => string;
  /** Directory relative paths from flags and environment are resolved against. @default {Deno.cwd()} */
  cwd?: string;
}

/** What {@linkcode loadConfig} returns. */
export interface LoadedConfig {
  /** The validated configuration with every key filled in and paths made absolute. */
  config: AgentConfig;
  /** The config file path (absolute), whether or not the file exists. */
  path: string;
  /** Non-fatal problems (unknown keys, odd combinations), one line each. */
  warnings: string[];
}

/**
 * Loads and validates the configuration.
 *
 * A missing file is an error unless an API key comes from a flag or `FTL_API_KEY` and the
 * path was not named explicitly. Throws {@linkcode ConfigError} for every user mistake.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? processEnv();
  const getEnv = (name: string) => nonEmpty(env[name]);
  const cwd = options.cwd ?? Deno.cwd();
  const flags = options.flags ?? {};
  const explicit = options.path ?? getEnv("FTL_CONFIG");
  const pathSource = options.path !== undefined
    ? "--config"
    : explicit !== undefined
    ? "FTL_CONFIG"
    : "default path";
  const path = absolute(explicit ?? defaultConfigPath({ env: getEnv }), cwd, getEnv);
  const warnings: string[] = [];

  const keyFromOutside = flags.apiKey ?? getEnv("FTL_API_KEY");
  let fileValues: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (explicit !== undefined || keyFromOutside === undefined) {
        throw new ConfigError(`no config file at ${path}`, {
          key: "config",
          value: path,
          source: pathSource,
          fix: explicit !== undefined
            ? "check the path, or create the file with `worker-agent init --config <path>`"
            : "run `worker-agent init` to create it, or pass --config <path>",
          cause: error,
        });
      }
    } else if (error instanceof Deno.errors.IsADirectory) {
      throw new ConfigError(`${path} is a directory`, {
        key: "config",
        value: path,
        source: pathSource,
        fix: "pass the path of the config.yaml file, not its directory",
      });
    } else {
      // A Deno permission (not the file's mode) is the cause under scoped flags: name the flag.
      const flag = missingPermissionFlag(error);
      throw new ConfigError(
        flag === undefined
          ? `cannot read ${path}: ${(error as Error).message}`
          : `cannot read ${path}: the agent runs without Deno permission to read it`,
        {
          key: "config",
          value: path,
          source: pathSource,
          fix: flag === undefined
            ? "make the file readable by the user running the agent"
            : `run with ${flag} (\`worker-agent permissions\` prints every flag this config needs)`,
          cause: error,
        },
      );
    }
  }
  if (text !== undefined) fileValues = parseConfigText(text, path);

  for (const key of Object.keys(fileValues)) {
    if (!CONFIG_KEYS.includes(key)) warnings.push(unknownKeyWarning(key, CONFIG_KEYS, path));
  }
  const trading = fileValues.trading;
  if (isPlainObject(trading)) {
    for (const key of Object.keys(trading)) {
      if (!TRADING_KEYS.includes(key)) {
        warnings.push(unknownKeyWarning(`trading.${key}`, TRADING_KEYS, path, "trading."));
      }
    }
  }

  // Where each overridden value came from, for error messages.
  const sources: Record<string, string> = {};
  const merged: Record<string, unknown> = { ...fileValues };
  const overrides: [string, string | undefined, string, string][] = [
    ["api_key", flags.apiKey, "FTL_API_KEY", "--api-key"],
    ["base_url", flags.baseUrl, "FTL_BASE_URL", "--base-url"],
    ["log_level", flags.logLevel, "FTL_LOG_LEVEL", "--log-level"],
    ["state_dir", flags.stateDir, "FTL_STATE_DIR", "--state-dir"],
  ];
  for (const [key, flagValue, envName, flagName] of overrides) {
    if (flagValue !== undefined) {
      merged[key] = flagValue;
      sources[key] = flagName;
    } else if (getEnv(envName) !== undefined) {
      merged[key] = getEnv(envName);
      sources[key] = envName;
    }
  }

  const parsed = AgentConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw configErrorFor(
      issue.path.map(String),
      issue.message,
      merged,
      sources[String(issue.path[0])] ?? path,
    );
  }
  const config = parsed.data;

  const configDir = dirname(path);
  const baseFor = (key: string) => (sources[key] ? cwd : configDir);
  config.state_dir = config.state_dir === ""
    ? defaultStateDir({ env: getEnv })
    : absolute(config.state_dir, baseFor("state_dir"), getEnv);
  if (config.log_file !== "") config.log_file = absolute(config.log_file, configDir, getEnv);
  if (config.ca_file !== "") {
    config.ca_file = absolute(config.ca_file, configDir, getEnv);
    await checkReadableFile(config.ca_file, path);
  }
  if (config.trading.working_dir !== "") {
    config.trading.working_dir = absolute(config.trading.working_dir, configDir, getEnv);
  }
  if (config.hostname === "") config.hostname = (options.hostname ?? systemHostname)();

  const apiSuffix = describeBaseUrlApiSuffix(config.base_url);
  if (apiSuffix !== undefined) warnings.push(`${apiSuffix} (${sources.base_url ?? path})`);
  if (config.spool_max_mb !== undefined) {
    if (fileValues.state_max_mb === undefined) {
      config.state_max_mb = config.spool_max_mb;
      warnings.push(
        `spool_max_mb in ${path} is deprecated: it is read as state_max_mb (the budget the spool now shares with the result outbox); rename the key`,
      );
    } else {
      warnings.push(
        `spool_max_mb in ${path} is deprecated and ignored because state_max_mb is set; remove it`,
      );
    }
  }
  if (config.trading_enabled && config.trading.command.length === 0) {
    warnings.push(
      `trading_enabled is true but trading.command is empty in ${path}: start_trading will fail until you set trading.command`,
    );
  }
  return { config, path, warnings };
}

/**
 * Parses the text of a config file into a plain object. Empty files and keys with no value
 * (`key:`) count as not set. Throws {@linkcode ConfigError} on YAML syntax errors.
 */
export function parseConfigText(text: string, path: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) {
    const line = problem.linePos?.[0];
    const where = line ? `line ${line.line}, column ${line.col}` : "unknown position";
    const what = firstLine(problem.message).replace(/ at line \d+, column \d+:?$/, "");
    throw new ConfigError(`YAML syntax error at ${where}: ${what}`, {
      key: "config",
      value: where,
      source: path,
      fix: `correct the YAML at ${where} (indent with spaces, quote values that contain ": ")`,
    });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ConfigError("the file is not a mapping of keys to values", {
      key: "config",
      source: path,
      fix: "write one `key: value` per line, as in configs/config.example.yaml",
    });
  }
  return withoutNulls(value);
}

function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null) continue;
    out[key] = isPlainObject(v) && key === "trading" ? withoutNulls(v) : v;
  }
  return out;
}

/** Builds the one-line error for a bad value at `path` inside the merged input. */
function configErrorFor(
  path: string[],
  message: string,
  merged: Record<string, unknown>,
  source: string,
): ConfigError {
  const key = path.length > 1 && path[0] === "trading" ? `trading.${path[1]}` : path[0] ?? "config";
  const fix = CONFIG_FIXES[key] ?? "see configs/config.example.yaml";
  let raw: unknown = merged;
  for (const part of path) {
    raw = isPlainObject(raw) || Array.isArray(raw)
      ? (raw as Record<string, unknown>)[part]
      : undefined;
  }
  if (key === "api_key") {
    // Never echo a key, not even a malformed one: describe its shape instead.
    const problem = describeApiKeyProblem(merged.api_key);
    return new ConfigError(problem ?? message, { key, source, fix });
  }
  if (raw === undefined) {
    const missing = /received undefined/.test(message);
    return new ConfigError(missing ? "is missing" : message, { key, source, fix });
  }
  const shown = showValue(raw);
  const detail = message.replace(/^Invalid input: /, "").replace(
    /^Too (small|big): /,
    "out of range, ",
  )
    .replace(/^Invalid option: /, "");
  return new ConfigError(`${shown} is not valid: ${detail}`, { key, value: shown, source, fix });
}

function showValue(value: unknown): string {
  const text = typeof value === "string"
    ? JSON.stringify(value)
    : JSON.stringify(value) ?? String(value);
  const cut = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return redactSecrets(cut);
}

function unknownKeyWarning(
  key: string,
  known: readonly string[],
  path: string,
  prefix = "",
): string {
  const bare = key.slice(prefix.length);
  const suggestion = suggestKey(bare, known);
  const hint = suggestion
    ? `did you mean ${prefix}${suggestion}?`
    : "see configs/config.example.yaml for the keys";
  return `unknown config key "${key}" in ${path} is ignored; ${hint}`;
}

async function checkReadableFile(path: string, configPath: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Error("not a file");
  } catch (error) {
    throw new ConfigError(`cannot read ${path} (${(error as Error).message})`, {
      key: "ca_file",
      value: path,
      source: configPath,
      fix: CONFIG_FIXES.ca_file!,
      cause: error,
    });
  }
}

function systemHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown-host";
  }
}

/** Reads just the variables this module and the default paths use. */
function processEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of [...CONFIG_ENV_VARS, ...PATH_ENV_VARS]) {
    env[name] = readEnv(name);
  }
  return env;
}

function absolute(
  path: string,
  base: string,
  getEnv: (name: string) => string | undefined,
): string {
  let p = path;
  if (p === "~" || p.startsWith("~/")) {
    const home = getEnv("HOME") ?? getEnv("USERPROFILE");
    if (home) p = home + p.slice(1);
  }
  if (isAbsolutePath(p)) return p;
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  return `${base.replace(/[\\/]+$/, "")}${sep}${p.replace(/^\.[\\/]/, "")}`;
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : i === 0 ? path.slice(0, 1) : ".";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
