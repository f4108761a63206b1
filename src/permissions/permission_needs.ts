/**
 * What a running agent needs from Deno's permissions, per category, for one config: what it
 * needs to start (derived from the flags `worker-agent permissions` prints, so the two
 * cannot drift apart) and the smaller set it still needs once it runs.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { agentPermissionFlags } from "./permission_flags.ts";

/** Deno's permission categories, in the order they are reported. */
export const PERMISSION_CATEGORIES = [
  "net",
  "read",
  "write",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
] as const;
/** One of {@linkcode PERMISSION_CATEGORIES}. */
export type PermissionCategory = typeof PERMISSION_CATEGORIES[number];

/** Per category, the descriptors needed (host:port, path, variable, sys name, program). */
export type PermissionNeeds = Record<PermissionCategory, string[]>;

/**
 * Environment variables still read after the config is loaded: the `yaml` package checks two
 * debug switches on every parse (update_config writes the config back), and `main.ts` checks
 * `FTL_DEBUG` when a runtime failure ends the process.
 */
export const ENV_READ_AFTER_START: readonly string[] = ["LOG_TOKENS", "LOG_STREAM", "FTL_DEBUG"];

/**
 * `--allow-sys` names used only while starting: `hostname` fills an empty `hostname` key
 * while the config loads, and `uid` is for `service install` on macOS.
 */
export const SYS_USED_ONLY_AT_START: readonly string[] = ["hostname", "uid"];

/** Options of {@linkcode startPermissionNeeds}. */
export interface PermissionNeedsOptions {
  /** The OS the agent runs on. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
}

/** What `run` needs to start with `config` loaded from `configPath`. */
export function startPermissionNeeds(
  config: AgentConfig,
  configPath: string,
  options: PermissionNeedsOptions = {},
): PermissionNeeds {
  const needs = emptyNeeds();
  const os = options.os ?? Deno.build.os;
  for (const flag of agentPermissionFlags(config, configPath, { os })) {
    const match = /^--allow-([a-z]+)=(.*)$/.exec(flag);
    if (!match) continue;
    const category = match[1] as PermissionCategory;
    if (!(PERMISSION_CATEGORIES as readonly string[]).includes(category)) continue;
    needs[category] = match[2]!.split(",").filter((value) => value !== "");
  }
  return needs;
}

/**
 * What the running agent still needs after start: {@linkcode startPermissionNeeds} without
 * the environment variables and sys calls used only while starting, without the trading
 * program when no command can ever start it, and without write access to the config's
 * directory when `update_config` (the only writer of the config) is not allowed.
 */
export function runningPermissionNeeds(
  config: AgentConfig,
  configPath: string,
  options: PermissionNeedsOptions = {},
): PermissionNeeds {
  const start = startPermissionNeeds(config, configPath, options);
  const running: PermissionNeeds = {
    ...start,
    env: start.env.filter((name) => ENV_READ_AFTER_START.includes(name)),
    sys: start.sys.filter((name) => !SYS_USED_ONLY_AT_START.includes(name)),
  };
  const program = config.trading.command[0];
  if (program !== undefined && !tradingCanStart(config)) {
    running.run = start.run.filter((name) => name !== program);
  }
  if (!config.allowed_commands.includes("update_config")) {
    const configDir = parentDir(configPath);
    // Deno drops a path grant together with every grant on its ancestors, so the config's
    // directory stays when another writable path is that directory or above it.
    const others = start.write.filter((path) => path !== configDir);
    if (!others.some((path) => isAncestorOrSelf(path, configDir))) {
      running.write = others;
    }
  }
  return running;
}

/**
 * Whether a `start_trading` command could ever start the workload: it must be allowed, and
 * trading must be enabled or `update_config` allowed (which may enable it).
 */
export function tradingCanStart(config: AgentConfig): boolean {
  return config.allowed_commands.includes("start_trading") &&
    (config.trading_enabled || config.allowed_commands.includes("update_config"));
}

function parentDir(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}

function isAncestorOrSelf(ancestor: string, path: string): boolean {
  if (ancestor === path || ancestor === "/") return true;
  const base = ancestor.replace(/[\\/]+$/, "");
  return path.startsWith(`${base}/`) || path.startsWith(`${base}\\`);
}

function emptyNeeds(): PermissionNeeds {
  return Object.fromEntries(
    PERMISSION_CATEGORIES.map((c) => [c, []]),
  ) as unknown as PermissionNeeds;
}

/** The `Deno.permissions` descriptor of one name in `category` (undefined for ffi/import). */
export function permissionDescriptor(
  category: PermissionCategory,
  name: string,
): Deno.PermissionDescriptor | undefined {
  switch (category) {
    case "net":
      return { name: "net", host: name };
    case "read":
    case "write":
      return { name: category, path: name };
    case "env":
      return { name: "env", variable: name };
    case "sys":
      return { name: "sys", kind: name as NonNullable<Deno.SysPermissionDescriptor["kind"]> };
    case "run":
      return { name: "run", command: name };
    default:
      return undefined;
  }
}
